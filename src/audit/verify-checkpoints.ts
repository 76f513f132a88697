/**
 * The small files of a bundle: the verifier key (and a trusted one to hold it to), and every
 * checkpoint note, which must verify with that key, be for its origin and be named by its size.
 * Each failure is its own problem with one sentence for a person.
 */
import { CHECKPOINTS_DIR, VKEY_FILE, type Bundle, type BundleFile } from './bundle.js';
import { openCheckpoint, parseCheckpoint } from './checkpoint.js';
import { decodeBase64, parseVerifierKey, type NoteVerifier } from './note.js';
import type { SignedSize } from './verify-entries.js';

export type CheckpointCheckCode =
  | 'bad_key'
  | 'bad_trusted_key'
  | 'key_mismatch'
  | 'no_checkpoints'
  | 'bad_checkpoint_name'
  | 'bad_checkpoint'
  | 'bad_signature'
  | 'unknown_signer'
  | 'wrong_origin'
  | 'size_mismatch'
  | 'latest_mismatch';

export interface CheckpointCheckProblem {
  readonly code: CheckpointCheckCode;
  readonly checkpoint?: string;
  readonly message: string;
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const SIG_PREFIX = '\u2014 ';

export const hex8 = (keyId: number): string => keyId.toString(16).padStart(8, '0');
const keyString = (v: NoteVerifier): string => `${v.name}+${hex8(v.keyId)}`;

const sameKey = (a: NoteVerifier, b: NoteVerifier): boolean =>
  a.name === b.name &&
  a.keyId === b.keyId &&
  Buffer.from(a.publicKey).equals(Buffer.from(b.publicKey));

/**
 * The key to verify with: the trusted `key` when given (log.vkey must then be the same key), else
 * log.vkey. Undefined (with the problems) when there is none to trust.
 */
export function chooseKey(
  bundle: Bundle,
  trusted: string | undefined,
  problems: CheckpointCheckProblem[],
): NoteVerifier | undefined {
  // The file is the key and a newline; trailing white space (CRLF, a stray space) is forgiven.
  const text = bundle.vkey.trimEnd();
  const own = parseVerifierKey(text);
  if (!own.ok) {
    const message = `${VKEY_FILE} is not a valid verifier key: ${own.message}.`;
    problems.push({ code: 'bad_key', message });
  }
  if (trusted === undefined) return own.ok ? own.key : undefined;
  const given = parseVerifierKey(trusted.trim());
  if (!given.ok) {
    const message = `The trusted key given is not a valid verifier key: ${given.message}.`;
    problems.push({ code: 'bad_trusted_key', message });
    return undefined;
  }
  if (own.ok && !sameKey(own.key, given.key)) {
    const message = `${VKEY_FILE} holds the key ${keyString(own.key)}, not the trusted key ${keyString(given.key)}.`;
    problems.push({ code: 'key_mismatch', message });
    return undefined;
  }
  return given.key;
}

/** The signers named on a note's signature lines, as `name+keyid` (for the message only). */
function signersOf(text: string): string[] {
  const split = text.lastIndexOf('\n\n');
  if (split < 0) return [];
  return text
    .slice(split + 2)
    .split('\n')
    .filter((line) => line.startsWith(SIG_PREFIX))
    .map((line) => {
      const [name = '', sig = ''] = line.slice(SIG_PREFIX.length).split(' ');
      const raw = decodeBase64(sig);
      return raw && raw.length >= 4 ? `${name}+${hex8(raw.readUInt32BE(0))}` : name;
    });
}

/** The origin a note's body claims, read without checking any signature. */
function claimedOrigin(text: string): string | undefined {
  const split = text.lastIndexOf('\n\n');
  const parsed = parseCheckpoint(split < 0 ? text : text.slice(0, split + 1));
  return parsed.ok ? parsed.checkpoint.origin : undefined;
}

function openOne(
  file: BundleFile,
  key: NoteVerifier,
): { signed: SignedSize } | { problem: CheckpointCheckProblem } {
  const name = file.file.slice(CHECKPOINTS_DIR.length + 1);
  const where = { checkpoint: file.file };
  if (!DECIMAL.test(name)) {
    const message = `${file.file} is not named by a tree size in decimal, as checkpoint files must be.`;
    return { problem: { code: 'bad_checkpoint_name', ...where, message } };
  }
  const opened = openCheckpoint(file.bytes, [key], key.name);
  if (opened.ok) {
    const { size, rootHash } = opened.checkpoint;
    if (String(size) !== name) {
      const message = `${file.file} signs a tree of ${size} entries, so it should be named checkpoints/${size}.`;
      return { problem: { code: 'size_mismatch', ...where, message } };
    }
    return { signed: { size, file: file.file, rootHash } };
  }
  const text = Buffer.from(file.bytes).toString('utf8');
  const problem = (code: CheckpointCheckCode, message: string) => ({
    problem: { code, ...where, message },
  });
  switch (opened.code) {
    case 'wrong_origin':
      return problem(
        'wrong_origin',
        `${file.file} is a checkpoint of another log: ${opened.message}.`,
      );
    case 'invalid_signature':
      return problem(
        'bad_signature',
        `${file.file} carries a signature by the log key that does not verify: the checkpoint was altered.`,
      );
    case 'no_known_signature': {
      const origin = claimedOrigin(text);
      if (origin !== undefined && origin !== key.name) {
        const message = `${file.file} is a checkpoint of ${JSON.stringify(origin)}, not of ${JSON.stringify(key.name)}, and is not signed by this log's key.`;
        return problem('wrong_origin', message);
      }
      const by = signersOf(text);
      const others = by.length > 0 ? `it is signed by ${by.join(', ')}` : 'it has no signature';
      const message = `${file.file} is not signed by the log key ${keyString(key)}: ${others}.`;
      return problem('unknown_signer', message);
    }
    case 'bad_checkpoint':
      return problem(
        'bad_checkpoint',
        `${file.file} is not a valid checkpoint: ${opened.message}.`,
      );
    default:
      return problem(
        'bad_checkpoint',
        `${file.file} is not a valid signed note: ${opened.message}.`,
      );
  }
}

/**
 * Opens every checkpoint file with `key`; returns the verified ones sorted by size, and pushes a
 * problem for each other file, and for a `checkpoint` that is not the largest of them.
 */
export function checkCheckpoints(
  bundle: Bundle,
  key: NoteVerifier,
  problems: CheckpointCheckProblem[],
): SignedSize[] {
  if (bundle.checkpoints.length === 0) {
    const message = `The bundle's ${CHECKPOINTS_DIR}/ folder holds no checkpoint.`;
    problems.push({ code: 'no_checkpoints', message });
    return [];
  }
  const signed: SignedSize[] = [];
  let largest: { size: bigint; file: BundleFile } | undefined;
  for (const file of bundle.checkpoints) {
    const result = openOne(file, key);
    if ('problem' in result) problems.push(result.problem);
    else signed.push(result.signed);
    const name = file.file.slice(CHECKPOINTS_DIR.length + 1);
    if (DECIMAL.test(name) && (largest === undefined || BigInt(name) > largest.size)) {
      largest = { size: BigInt(name), file };
    }
  }
  if (largest && !Buffer.from(bundle.latest.bytes).equals(Buffer.from(largest.file.bytes))) {
    const message = `${bundle.latest.file} is not the same note as ${largest.file.file}, the largest checkpoint.`;
    problems.push({ code: 'latest_mismatch', checkpoint: bundle.latest.file, message });
  }
  return signed.sort((a, b) => a.size - b.size);
}
