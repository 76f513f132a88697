/**
 * The audit export bundle: a folder a person can copy anywhere and check offline.
 *
 *   entries.jsonl        line i = the leaf bytes of entry i (canonical JSON), then `\n`
 *   checkpoint           the latest signed checkpoint (the largest of checkpoints/)
 *   checkpoints/<size>   every checkpoint issued, named by its tree size in decimal
 *   log.vkey             the log's C2SP verifier key, then `\n`; its name is the checkpoint origin
 *
 * Writing refuses inconsistent input with a GatehouseError; reading never throws on bad data: it
 * returns the problems found (missing files, oversized notes), and ./verify.ts checks the rest.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GatehouseError, describeError } from '../errors/index.js';
import { openCheckpoint } from './checkpoint.js';
import { MAX_NOTE_BYTES, parseVerifierKey } from './note.js';

export type AuditErrorCode = 'AUDIT_BUNDLE_EXISTS' | 'AUDIT_BUNDLE_INVALID' | 'AUDIT_BUNDLE_WRITE';

export const ENTRIES_FILE = 'entries.jsonl';
export const LATEST_FILE = 'checkpoint';
export const CHECKPOINTS_DIR = 'checkpoints';
export const VKEY_FILE = 'log.vkey';
/** A verifier key is about a hundred bytes; anything near this is not one. */
export const MAX_VKEY_BYTES = 4096;

export type BundleProblemCode = 'missing_dir' | 'missing_file' | 'unreadable' | 'too_large';

/** A problem found while reading a bundle; `checkpoint` is the file, relative to the bundle. */
export interface BundleProblem {
  readonly code: BundleProblemCode;
  readonly checkpoint?: string;
  readonly message: string;
}

/** A small file of the bundle: its path relative to the bundle folder and its bytes. */
export interface BundleFile {
  readonly file: string;
  readonly bytes: Uint8Array;
}

/** A bundle read back: the small files in memory, entries.jsonl only located (it is streamed). */
export interface Bundle {
  readonly dir: string;
  /** Path of entries.jsonl (`dir` joined with its name). */
  readonly entriesPath: string;
  /** log.vkey as written (normally the key and one newline). */
  readonly vkey: string;
  readonly latest: BundleFile;
  /** checkpoints/*, in file-name order (numeric names by value, then the others). */
  readonly checkpoints: readonly BundleFile[];
}

export type ReadBundleResult =
  | { readonly ok: true; readonly bundle: Bundle }
  | { readonly ok: false; readonly problems: readonly BundleProblem[] };

export interface WriteBundleInput {
  /** Leaf bytes of entries 0, 1, … (no newline inside); only the first `size` are written. */
  readonly entries: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /** Signed checkpoint notes, any order; each must verify with `vkey`. */
  readonly checkpoints: readonly string[];
  /** The log's verifier key string (without the newline). */
  readonly vkey: string;
}

export interface WriteBundleResult {
  readonly entries: number;
  readonly checkpoints: number;
  /** The size of the latest checkpoint, which is also the number of entries written. */
  readonly size: number;
}

const BATCH_BYTES = 1 << 20;
const NEWLINE = 0x0a;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

const invalid = (message: string) =>
  new GatehouseError<AuditErrorCode>('AUDIT_BUNDLE_INVALID', message);

function writeError(dir: string, err: unknown): GatehouseError<AuditErrorCode> {
  if (err instanceof GatehouseError) return err as GatehouseError<AuditErrorCode>;
  const message = `cannot write the audit bundle in ${dir}: ${describeError(err)}`;
  return new GatehouseError<AuditErrorCode>('AUDIT_BUNDLE_WRITE', message, { cause: err });
}

/** Checks the notes against the key and orders them by size; throws AUDIT_BUNDLE_INVALID. */
function sortCheckpoints(vkey: string, notes: readonly string[]): { size: number; note: string }[] {
  const key = parseVerifierKey(vkey);
  if (!key.ok) throw invalid(`the log verifier key is invalid: ${key.message}`);
  const bySize = new Map<number, string>();
  for (const note of notes) {
    const opened = openCheckpoint(note, [key.key], key.key.name);
    if (!opened.ok)
      throw invalid(`a checkpoint does not verify with the log key: ${opened.message}`);
    const { size } = opened.checkpoint;
    const seen = bySize.get(size);
    if (seen !== undefined && seen !== note) {
      throw invalid(`two different checkpoints sign size ${size}: the log has forked`);
    }
    bySize.set(size, note);
  }
  if (bySize.size === 0) throw invalid('a bundle needs at least one signed checkpoint');
  return [...bySize.entries()].sort((a, b) => a[0] - b[0]).map(([size, note]) => ({ size, note }));
}

/** An existing folder must be empty unless `overwrite`; then only our checkpoints/ is cleared. */
async function prepareDir(dir: string, overwrite: boolean): Promise<void> {
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (info && !info.isDirectory()) {
    throw new GatehouseError<AuditErrorCode>('AUDIT_BUNDLE_EXISTS', `${dir} is not a folder`);
  }
  if (info && (await readdir(dir)).length > 0) {
    if (!overwrite) {
      const message = `${dir} is not empty: choose a new folder, or overwrite it explicitly`;
      throw new GatehouseError<AuditErrorCode>('AUDIT_BUNDLE_EXISTS', message);
    }
    // Stale checkpoints/<size> of an older export would sign sizes this one does not have.
    await rm(join(dir, CHECKPOINTS_DIR), { recursive: true, force: true });
  }
  await mkdir(join(dir, CHECKPOINTS_DIR), { recursive: true });
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/** Streams entries into entries.jsonl through a fixed batch buffer; returns how many were written. */
async function writeEntries(
  path: string,
  entries: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  size: number,
): Promise<number> {
  const handle = await open(path, 'w');
  try {
    const batch = Buffer.allocUnsafe(BATCH_BYTES);
    let used = 0;
    let count = 0;
    if (size === 0) return 0;
    for await (const entry of entries) {
      if (!(entry instanceof Uint8Array) || entry.length === 0) {
        throw invalid(`entry ${count} is not a non-empty byte string`);
      }
      if (entry.includes(NEWLINE)) throw invalid(`entry ${count} contains a newline`);
      if (used + entry.length + 1 > batch.length) {
        await writeAll(handle, batch.subarray(0, used));
        used = 0;
      }
      if (entry.length + 1 > batch.length) {
        await writeAll(handle, entry);
        await writeAll(handle, Uint8Array.of(NEWLINE));
      } else {
        batch.set(entry, used);
        batch[used + entry.length] = NEWLINE;
        used += entry.length + 1;
      }
      count += 1;
      if (count === size) break;
    }
    await writeAll(handle, batch.subarray(0, used));
    return count;
  } finally {
    await handle.close();
  }
}

/**
 * Writes an export bundle into `dir` (created; an existing non-empty folder is refused unless
 * `overwrite`). Entries are streamed; only the first `size` (the latest checkpoint's) are written,
 * and fewer is an error. Throws GatehouseError<AuditErrorCode>.
 * @example await writeBundle('/tmp/export', { entries: log.entries(), checkpoints, vkey });
 */
export async function writeBundle(
  dir: string,
  input: WriteBundleInput,
  options: { readonly overwrite?: boolean } = {},
): Promise<WriteBundleResult> {
  const sorted = sortCheckpoints(input.vkey, input.checkpoints);
  const latest = sorted[sorted.length - 1] ?? { size: 0, note: '' };
  try {
    await prepareDir(dir, options.overwrite === true);
    for (const { size, note } of sorted) {
      await writeFile(join(dir, CHECKPOINTS_DIR, String(size)), note);
    }
    await writeFile(join(dir, LATEST_FILE), latest.note);
    await writeFile(join(dir, VKEY_FILE), `${input.vkey}\n`);
    const count = await writeEntries(join(dir, ENTRIES_FILE), input.entries, latest.size);
    if (count < latest.size) {
      const message = `only ${count} entries were given but the latest checkpoint signs ${latest.size}: the bundle in ${dir} is incomplete`;
      throw invalid(message);
    }
    return { entries: count, checkpoints: sorted.length, size: latest.size };
  } catch (err) {
    throw writeError(dir, err);
  }
}

const errnoCode = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;

/** Reads one small file, or says why it cannot. */
async function readSmall(
  dir: string,
  file: string,
  limit: number,
): Promise<{ bytes: Uint8Array } | { problem: BundleProblem }> {
  const checkpoint = file === VKEY_FILE ? undefined : file;
  const at = checkpoint === undefined ? {} : { checkpoint };
  try {
    const info = await stat(join(dir, file));
    if (!info.isFile()) {
      return { problem: { code: 'unreadable', ...at, message: `${file} is not a regular file.` } };
    }
    if (info.size > limit) {
      const message = `${file} is ${info.size} bytes, over the ${limit}-byte limit for it.`;
      return { problem: { code: 'too_large', ...at, message } };
    }
    const bytes = await readFile(join(dir, file));
    if (bytes.length > limit) {
      return {
        problem: { code: 'too_large', ...at, message: `${file} grew over ${limit} bytes.` },
      };
    }
    return { bytes: new Uint8Array(bytes) };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      return { problem: { code: 'missing_file', ...at, message: `The bundle has no ${file}.` } };
    }
    const message = `${file} cannot be read: ${describeError(err)}.`;
    return { problem: { code: 'unreadable', ...at, message } };
  }
}

/** Numeric names by value first (they are the checkpoints), then any others by name. */
function byCheckpointName(a: string, b: string): number {
  const na = DECIMAL.test(a);
  const nb = DECIMAL.test(b);
  if (na && nb) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

async function readCheckpoints(
  dir: string,
  problems: BundleProblem[],
): Promise<BundleFile[] | undefined> {
  let names: string[];
  try {
    names = await readdir(join(dir, CHECKPOINTS_DIR));
  } catch (err) {
    const missing = errnoCode(err) === 'ENOENT';
    const message = missing
      ? `The bundle has no ${CHECKPOINTS_DIR}/ folder.`
      : `${CHECKPOINTS_DIR}/ cannot be listed: ${describeError(err)}.`;
    problems.push({ code: missing ? 'missing_file' : 'unreadable', message });
    return undefined;
  }
  const files: BundleFile[] = [];
  for (const name of names.sort(byCheckpointName)) {
    const file = `${CHECKPOINTS_DIR}/${name}`;
    const read = await readSmall(dir, file, MAX_NOTE_BYTES);
    if ('problem' in read) problems.push(read.problem);
    else files.push({ file, bytes: read.bytes });
  }
  return files;
}

/**
 * Reads a bundle's small files and locates entries.jsonl, naming every missing or unreadable file.
 * Never throws.
 * @example const read = await readBundle(dir); if (read.ok) await verifyBundle(read.bundle);
 */
export async function readBundle(dir: string): Promise<ReadBundleResult> {
  try {
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) {
      const message = info ? `${dir} is not a folder.` : `There is no folder ${dir}.`;
      return { ok: false, problems: [{ code: 'missing_dir', message }] };
    }
    const problems: BundleProblem[] = [];
    const entriesPath = join(dir, ENTRIES_FILE);
    const entries = await stat(entriesPath).catch(() => undefined);
    if (!entries) {
      problems.push({ code: 'missing_file', message: `The bundle has no ${ENTRIES_FILE}.` });
    } else if (!entries.isFile()) {
      problems.push({ code: 'unreadable', message: `${ENTRIES_FILE} is not a regular file.` });
    }
    const vkey = await readSmall(dir, VKEY_FILE, MAX_VKEY_BYTES);
    if ('problem' in vkey) problems.push(vkey.problem);
    const latest = await readSmall(dir, LATEST_FILE, MAX_NOTE_BYTES);
    if ('problem' in latest) problems.push(latest.problem);
    const checkpoints = await readCheckpoints(dir, problems);
    if (problems.length > 0 || 'problem' in vkey || 'problem' in latest || !checkpoints) {
      return { ok: false, problems };
    }
    const text = Buffer.from(vkey.bytes).toString('utf8');
    const bundle = { dir, entriesPath, vkey: text, checkpoints };
    return { ok: true, bundle: { ...bundle, latest: { file: LATEST_FILE, bytes: latest.bytes } } };
  } catch (err) {
    // Only odd file systems get here (a folder vanishing mid-read); still an answer, not a throw.
    const message = `The bundle in ${dir} cannot be read: ${describeError(err)}.`;
    return { ok: false, problems: [{ code: 'unreadable', message }] };
  }
}
