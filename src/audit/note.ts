/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, byte-compatible with
 * golang.org/x/mod/sumdb/note: the text, a blank line, then `— <name> base64(key ID || signature)`
 * lines. Parsing never throws and names the problem; building from our own keys throws TypeError on
 * misuse. The key ID only selects a key: trust comes from a configured verifier and its signature.
 */
import type { KeyObject } from 'node:crypto';
import { ed25519RawPublicKey, sha256Hex, signMessage, verifySignature } from '../crypto/index.js';

/** Signature type byte of Ed25519 (signed-note, "Signature types"). */
const ALG_ED25519 = 0x01;
/** Whole-note ceiling: the spec asks us to accept 16 signatures, post-quantum ones near 5 kB each. */
export const MAX_NOTE_BYTES = 1 << 20;
/** Signature-line ceiling (as in the Go code), so a hostile note cannot make us verify forever. */
export const MAX_NOTE_SIGNATURES = 100;
const SIG_PREFIX = '\u2014 ';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Lone surrogates have no UTF-8 form; TextEncoder would silently turn them into U+FFFD.
const LONE_SURROGATE = /\p{Cs}/u;

/** A trusted key: signatures whose name and key ID match are checked against `publicKey` (32 bytes). */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
}

/** A signing key: `keyId` must be the key ID of its public key (use `noteSigner`). */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly privateKey: KeyObject;
}

/** One signature line: key name, key ID (uint32) and the base64 blob exactly as written. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly base64: string;
}

export type NoteProblem =
  | 'too_large'
  | 'not_utf8'
  | 'control_character'
  | 'no_signature_block'
  | 'bad_signature_line'
  | 'too_many_signatures'
  | 'ambiguous_key'
  | 'invalid_signature'
  | 'no_known_signature';

export type OpenedNote =
  | {
      readonly ok: true;
      /** The signed text, including its final newline. */
      readonly text: string;
      readonly verified: readonly NoteSignature[];
      /** Signatures from keys not among the verifiers (ignored, as the spec requires). */
      readonly unverified: readonly NoteSignature[];
    }
  | { readonly ok: false; readonly code: NoteProblem; readonly message: string };

export type KeyProblem =
  | 'malformed'
  | 'bad_name'
  | 'bad_base64'
  | 'unknown_algorithm'
  | 'wrong_length'
  | 'key_id_mismatch';

export type ParsedKey<K> =
  | { readonly ok: true; readonly key: K }
  | { readonly ok: false; readonly code: KeyProblem; readonly message: string };

/** Index of the first ASCII control character other than newline, or -1. */
function firstControl(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return i;
  }
  return -1;
}

/** Key names are non-empty, with no Unicode space, no '+' (the key-string separator), no control. */
export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && /^[^\s+\p{Cc}\p{Cs}]+$/u.test(name);
}

/** Strict RFC 4648 §4 base64: padded, standard alphabet, canonical trailing bits (one spelling). */
export function decodeBase64(s: string): Buffer | undefined {
  if (!BASE64.test(s)) return undefined;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : undefined;
}

const hex8 = (keyId: number): string => keyId.toString(16).padStart(8, '0');

/**
 * Key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4] as a big-endian uint32.
 * @example hex of noteKeyId('PeterNeumann', pub) === 'c74f20a3'
 */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  const data = Buffer.concat([
    Buffer.from(name, 'utf8'),
    Buffer.from([0x0a, ALG_ED25519]),
    publicKey,
  ]);
  return parseInt(sha256Hex(data).slice(0, 8), 16);
}

/**
 * A verifier for our own key (KeyObject or raw 32 bytes); throws TypeError on a bad name or key.
 * @example openNote(note, [noteVerifier('log.example/a', publicKey)])
 */
export function noteVerifier(name: string, publicKey: KeyObject | Uint8Array): NoteVerifier {
  const raw = publicKey instanceof Uint8Array ? publicKey : ed25519RawPublicKey(publicKey);
  if (!isValidKeyName(name)) throw new TypeError(`invalid note key name ${JSON.stringify(name)}`);
  if (raw?.length !== 32) throw new TypeError('not an Ed25519 public key');
  return { name, keyId: noteKeyId(name, raw), publicKey: Uint8Array.from(raw) };
}

/**
 * A signer for an Ed25519 private key, with its key ID computed; throws TypeError on misuse.
 * @example signNote(text, noteSigner('log.example/a', privateKey))
 */
export function noteSigner(name: string, privateKey: KeyObject): NoteSigner {
  if (privateKey?.type !== 'private') throw new TypeError('noteSigner needs a private KeyObject');
  const { keyId } = noteVerifier(name, privateKey);
  return { name, keyId, privateKey };
}

/**
 * The verifier key string `<name>+<hex key ID>+base64(0x01 || public key)`, as Go's note package.
 * @example verifierKey('PeterNeumann', pub) // 'PeterNeumann+c74f20a3+ARpc2Qc…'
 */
export function verifierKey(name: string, publicKey: KeyObject | Uint8Array): string {
  const v = noteVerifier(name, publicKey);
  const key = Buffer.concat([Buffer.from([ALG_ED25519]), v.publicKey]).toString('base64');
  return `${v.name}+${hex8(v.keyId)}+${key}`;
}

function keyFail(code: KeyProblem, message: string): ParsedKey<never> {
  return { ok: false, code, message };
}

/**
 * Parses a verifier key string, checking that its key ID matches the name and key. Never throws.
 * @example const v = parseVerifierKey('PeterNeumann+c74f20a3+ARpc…'); if (v.ok) openNote(n, [v.key]);
 */
export function parseVerifierKey(s: string): ParsedKey<NoteVerifier> {
  if (typeof s !== 'string') return keyFail('malformed', 'a verifier key is a string');
  // Split at the first two '+' only: the base64 key may itself contain '+'.
  const first = s.indexOf('+');
  const second = s.indexOf('+', first + 1);
  if (first < 0 || second < 0) return keyFail('malformed', 'expected <name>+<key ID>+<key>');
  const name = s.slice(0, first);
  const hash = s.slice(first + 1, second);
  if (!isValidKeyName(name)) return keyFail('bad_name', `bad key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-fA-F]{8}$/.test(hash)) return keyFail('malformed', 'the key ID is not 8 hex digits');
  const bytes = decodeBase64(s.slice(second + 1));
  if (!bytes) return keyFail('bad_base64', 'the key is not canonical base64');
  if (bytes[0] !== ALG_ED25519) return keyFail('unknown_algorithm', 'the key is not Ed25519');
  if (bytes.length !== 33) return keyFail('wrong_length', 'an Ed25519 key is 32 bytes');
  const publicKey = bytes.subarray(1);
  const keyId = parseInt(hash, 16);
  if (noteKeyId(name, publicKey) !== keyId) {
    return keyFail('key_id_mismatch', `the key ID does not belong to ${name} and this key`);
  }
  return { ok: true, key: { name, keyId, publicKey: Uint8Array.from(publicKey) } };
}

/** Why a note text cannot be signed or read (lone surrogate, control character), or undefined. */
export function textProblem(text: string): { code: NoteProblem; message: string } | undefined {
  if (LONE_SURROGATE.test(text)) return { code: 'not_utf8', message: 'the note is not UTF-8' };
  const at = firstControl(text);
  if (at >= 0) {
    const line = text.slice(0, at).split('\n').length;
    const cp = text.charCodeAt(at).toString(16).padStart(4, '0');
    return { code: 'control_character', message: `control character U+${cp} on line ${line}` };
  }
  return undefined;
}

/**
 * Signs note text (non-empty, ending in a newline) with each signer; throws TypeError on misuse.
 * @example signNote('hello\n', noteSigner('example.com/a', key)) // 'hello\n\n— example.com/a …\n'
 */
export function signNote(text: string, signers: NoteSigner | readonly NoteSigner[]): string {
  const list: readonly NoteSigner[] = Array.isArray(signers) ? signers : [signers as NoteSigner];
  if (typeof text !== 'string' || !text.endsWith('\n')) {
    throw new TypeError('note text must end with a newline');
  }
  const problem = textProblem(text);
  if (problem) throw new TypeError(problem.message);
  if (list.length === 0) throw new TypeError('signNote needs at least one signer');
  const message = Buffer.from(text, 'utf8');
  const lines = list.map((s) => {
    if (!isValidKeyName(s.name)) throw new TypeError(`invalid key name ${JSON.stringify(s.name)}`);
    if (!Number.isInteger(s.keyId) || s.keyId < 0 || s.keyId > 0xffffffff) {
      throw new TypeError('a key ID is a uint32');
    }
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyId);
    const sig = signMessage('Ed25519', s.privateKey, message);
    return `${SIG_PREFIX}${s.name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

function fail(code: NoteProblem, message: string): OpenedNote {
  return { ok: false, code, message };
}

/** The note as a string: bytes must be UTF-8 (a BOM is kept: it is part of the signed text). */
function asString(note: string | Uint8Array): string | OpenedNote {
  if (note instanceof Uint8Array) {
    if (note.length > MAX_NOTE_BYTES) return fail('too_large', `note over ${MAX_NOTE_BYTES} bytes`);
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      return fail('not_utf8', 'the note is not UTF-8');
    }
  }
  if (typeof note !== 'string') return fail('not_utf8', 'a note is a string or UTF-8 bytes');
  if (note.length > MAX_NOTE_BYTES || Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) {
    return fail('too_large', `note over ${MAX_NOTE_BYTES} bytes`);
  }
  return note;
}

/**
 * Opens a signed note: every signature from a known (name, key ID) must verify over the exact text,
 * at least one must, and unknown keys are ignored. Never throws.
 * @example const n = openNote(noteText, [verifier]); if (n.ok) use(n.text);
 */
export function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): OpenedNote {
  const all = asString(note);
  if (typeof all !== 'string') return all;
  const problem = textProblem(all);
  if (problem) return fail(problem.code, problem.message);
  // The text runs up to the last blank line: the text itself may hold blank lines, signatures cannot.
  const split = all.lastIndexOf('\n\n');
  if (split < 0) return fail('no_signature_block', 'no blank line before the signatures');
  const text = all.slice(0, split + 1);
  const block = all.slice(split + 2);
  if (!block.endsWith('\n')) {
    return fail('no_signature_block', 'the signature block is empty or lacks its final newline');
  }
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    return fail('too_many_signatures', `more than ${MAX_NOTE_SIGNATURES} signatures`);
  }
  const known = new Map<string, NoteVerifier[]>();
  for (const v of (Array.isArray(verifiers) ? verifiers : []) as readonly NoteVerifier[]) {
    if (typeof v !== 'object' || v === null) continue;
    const k = `${v.name}+${v.keyId}`;
    known.set(k, [...(known.get(k) ?? []), v]);
  }
  const message = Buffer.from(text, 'utf8');
  const verified = new Map<string, NoteSignature>();
  const unverified = new Map<string, NoteSignature>();
  for (const [i, line] of lines.entries()) {
    const at = `signature line ${i + 1}`;
    if (!line.startsWith(SIG_PREFIX)) return fail('bad_signature_line', `${at}: no "— " prefix`);
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const base64 = space < 0 ? '' : rest.slice(space + 1);
    if (!isValidKeyName(name)) return fail('bad_signature_line', `${at}: bad key name`);
    const raw = decodeBase64(base64);
    if (!raw || raw.length < 5) return fail('bad_signature_line', `${at}: bad base64 signature`);
    const keyId = raw.readUInt32BE(0);
    const sig: NoteSignature = { name, keyId, base64 };
    const key = `${name}+${hex8(keyId)}`;
    const candidates = known.get(`${name}+${keyId}`);
    if (!candidates) {
      if (!unverified.has(line)) unverified.set(line, sig);
      continue;
    }
    const [verifier, ...others] = candidates;
    if (!verifier || others.length > 0) {
      return fail('ambiguous_key', `${at}: several verifiers for ${key}`);
    }
    // A known key's signature is always checked, even when repeated: the spec says it MUST be.
    if (!verifySignature('Ed25519', verifier.publicKey, message, raw.subarray(4))) {
      return fail('invalid_signature', `${at}: invalid signature for key ${key}`);
    }
    if (!verified.has(key)) verified.set(key, sig);
  }
  if (verified.size === 0) return fail('no_known_signature', 'no signature from a known key');
  return { ok: true, text, verified: [...verified.values()], unverified: [...unverified.values()] };
}
