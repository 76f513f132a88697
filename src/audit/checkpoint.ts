/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) bodies: origin, tree size, base64 RFC 6962
 * root hash, then optional extension lines, every line non-empty. A checkpoint is a signed note
 * (./note.ts); parsing never throws and reports every problem found, each with its line.
 */
import {
  decodeBase64,
  openNote,
  textProblem,
  type NoteProblem,
  type NoteSignature,
  type NoteVerifier,
} from './note.js';

export interface Checkpoint {
  /** The log's identity, e.g. `example.com/log42`; its key name should match. */
  readonly origin: string;
  /** Leaves in the tree. A JS number, so at most 2^53 − 1: larger sizes are refused when parsed. */
  readonly size: number;
  /** The RFC 6962 Merkle tree root hash, 32 bytes. */
  readonly rootHash: Uint8Array;
  /** Opaque extension lines (the spec discourages them: monitors cannot audit them). */
  readonly extensions: readonly string[];
}

export type CheckpointProblemCode =
  | 'bad_character'
  | 'no_final_newline'
  | 'too_few_lines'
  | 'empty_line'
  | 'bad_size'
  | 'size_too_large'
  | 'bad_root_hash';

export interface CheckpointProblem {
  readonly code: CheckpointProblemCode;
  /** 1-based line of the note text, when the problem has one. */
  readonly line?: number;
  readonly message: string;
}

export type ParsedCheckpoint =
  | { readonly ok: true; readonly checkpoint: Checkpoint }
  | { readonly ok: false; readonly problems: readonly CheckpointProblem[] };

export type OpenedCheckpoint =
  | {
      readonly ok: true;
      readonly checkpoint: Checkpoint;
      readonly verified: readonly NoteSignature[];
      readonly unverified: readonly NoteSignature[];
    }
  | {
      readonly ok: false;
      readonly code: NoteProblem | 'bad_checkpoint' | 'wrong_origin';
      readonly message: string;
      readonly problems?: readonly CheckpointProblem[];
    };

const SIZE = /^(?:0|[1-9][0-9]*)$/;

/** Whether a line can stand in a checkpoint: non-empty, one line, no control characters. */
function isLine(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && !s.includes('\n') && !textProblem(s);
}

/**
 * The checkpoint note text (ending in a newline, ready for `signNote`); throws TypeError on bad fields.
 * @example formatCheckpoint({ origin: 'example.com/log', size: 1, rootHash }) // 'example.com/log\n1\n…=\n'
 */
export function formatCheckpoint(c: {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly extensions?: readonly string[];
}): string {
  if (!isLine(c.origin)) throw new TypeError('the origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) {
    throw new TypeError('the tree size must be a non-negative safe integer');
  }
  if (!(c.rootHash instanceof Uint8Array) || c.rootHash.length !== 32) {
    throw new TypeError('the root hash must be 32 bytes');
  }
  const extensions = c.extensions ?? [];
  if (!extensions.every(isLine)) throw new TypeError('extension lines must be non-empty lines');
  const root = Buffer.from(c.rootHash).toString('base64');
  return [c.origin, String(c.size), root, ...extensions].map((l) => `${l}\n`).join('');
}

/**
 * Parses checkpoint note text (as `openNote` returns it), naming every problem. Never throws.
 * @example const p = parseCheckpoint(opened.text); if (p.ok) p.checkpoint.size;
 */
export function parseCheckpoint(text: string): ParsedCheckpoint {
  if (typeof text !== 'string') {
    return { ok: false, problems: [{ code: 'bad_character', message: 'not a string' }] };
  }
  const problems: CheckpointProblem[] = [];
  const bad = textProblem(text);
  if (bad) problems.push({ code: 'bad_character', message: bad.message });
  if (!text.endsWith('\n')) {
    problems.push({ code: 'no_final_newline', message: 'the text does not end with a newline' });
  }
  const lines = text === '' ? [] : (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  if (lines.length < 3) {
    problems.push({
      code: 'too_few_lines',
      message: `expected origin, size and root hash lines, found ${lines.length}`,
    });
  }
  lines.forEach((l, i) => {
    if (l === '') problems.push({ code: 'empty_line', line: i + 1, message: 'empty line' });
  });
  const [origin = '', sizeText, rootText, ...extensions] = lines;
  let size = 0;
  if (sizeText !== undefined && sizeText !== '') {
    size = Number(sizeText);
    if (!SIZE.test(sizeText)) {
      const message = 'the tree size is not a decimal without leading zeros';
      problems.push({ code: 'bad_size', line: 2, message });
    } else if (!Number.isSafeInteger(size)) {
      const message = 'the tree size is beyond 2^53 - 1';
      problems.push({ code: 'size_too_large', line: 2, message });
    }
  }
  let rootHash: Uint8Array = new Uint8Array(0);
  if (rootText !== undefined && rootText !== '') {
    const decoded = decodeBase64(rootText);
    if (decoded?.length === 32) rootHash = Uint8Array.from(decoded);
    else {
      const message = decoded ? 'the root hash is not 32 bytes' : 'the root hash is not base64';
      problems.push({ code: 'bad_root_hash', line: 3, message });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, checkpoint: { origin, size, rootHash, extensions } };
}

/**
 * Opens a signed checkpoint: the note must verify (see `openNote`), the body parse, and, when
 * `origin` is given, the origin match it (a checkpoint of another log must not pass). Never throws.
 * @example const c = openCheckpoint(text, [logVerifier], 'example.com/log'); if (c.ok) c.checkpoint;
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  origin?: string,
): OpenedCheckpoint {
  const opened = openNote(note, verifiers);
  if (!opened.ok) return opened;
  const parsed = parseCheckpoint(opened.text);
  if (!parsed.ok) {
    const message = parsed.problems.map((p) => p.message).join('; ');
    return { ok: false, code: 'bad_checkpoint', message, problems: parsed.problems };
  }
  if (origin !== undefined && parsed.checkpoint.origin !== origin) {
    const message = `the checkpoint is for ${JSON.stringify(parsed.checkpoint.origin)}`;
    return { ok: false, code: 'wrong_origin', message };
  }
  const { verified, unverified } = opened;
  return { ok: true, checkpoint: parsed.checkpoint, verified, unverified };
}
