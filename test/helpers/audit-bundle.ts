/**
 * Synthetic audit logs and export bundles for the verifier tests: chained canonical-JSON entries,
 * checkpoints signed at chosen sizes with an Ed25519 key from a fixed seed, written with writeBundle
 * into a fresh temporary folder, plus small helpers to tamper with the files afterwards.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../../src/audit/bundle.js';
import { formatCheckpoint } from '../../src/audit/checkpoint.js';
import { leafHash, rootOf } from '../../src/audit/merkle.js';
import { noteSigner, signNote, verifierKey, type NoteSigner } from '../../src/audit/note.js';
import { canonicalJson, ed25519PrivateKeyFromSeed } from '../../src/crypto/index.js';

export const ORIGIN = 'gatehouse.test/audit';
/** Fixed seeds, so every run signs the same bytes. */
export const SEED = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
export const OTHER_SEED = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
export const ZERO_PREV = '0'.repeat(64);

export interface TestKey {
  readonly signer: NoteSigner;
  readonly vkey: string;
}

/** A log key: the note key name is the origin. @example testKey(OTHER_SEED).vkey */
export function testKey(seed: Uint8Array = SEED, origin: string = ORIGIN): TestKey {
  const privateKey = ed25519PrivateKeyFromSeed(seed);
  return { signer: noteSigner(origin, privateKey), vkey: verifierKey(origin, privateKey) };
}

export type EntryFields = Record<string, unknown>;

/** The type-specific part of a synthetic event entry. */
export function eventFields(i: number): EntryFields {
  return {
    time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    type: 'event',
    event: 'test.tick',
    detail: { n: i, note: `entry ${i}` },
  };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * Canonical leaf bytes for `fields[j]` as entry `start + j`, chained from `prev` (the hex leaf hash
 * of entry start - 1). @example chain([eventFields(0), eventFields(1)])
 */
export function chain(fields: readonly EntryFields[], start = 0, prev = ZERO_PREV): Buffer[] {
  let link = prev;
  return fields.map((f, j) => {
    const bytes = Buffer.from(canonicalJson({ ...f, v: 1, index: start + j, prev: link }), 'utf8');
    link = hex(leafHash(bytes));
    return bytes;
  });
}

/** `n` valid chained entries. */
export function makeEntries(n: number, fields: (i: number) => EntryFields = eventFields): Buffer[] {
  return chain(Array.from({ length: n }, (_, i) => fields(i)));
}

/** Hex leaf hash of an entry line, as the next entry's prev. */
export const prevOf = (line: Uint8Array): string => hex(leafHash(line));

/** A signed checkpoint over the first `size` entries. */
export function checkpointNote(
  entries: readonly Uint8Array[],
  size: number,
  key: TestKey = testKey(),
  origin: string = key.signer.name,
): string {
  const rootHash = rootOf(entries.slice(0, size).map((e) => leafHash(e)));
  return signNote(formatCheckpoint({ origin, size, rootHash }), key.signer);
}

export interface TestBundle {
  readonly dir: string;
  readonly entries: readonly Buffer[];
  readonly sizes: readonly number[];
  readonly key: TestKey;
  /** Path of a file in the bundle. */
  readonly path: (file: string) => string;
  readonly cleanup: () => Promise<void>;
}

/** A fresh empty folder under the system temporary folder. */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gatehouse-audit-'));
}

/**
 * Writes a valid bundle: `n` entries (or the ones given) and checkpoints at `sizes` (default: the
 * last size only). @example const b = await buildBundle({ n: 20, sizes: [4, 8, 20] });
 */
export async function buildBundle(
  options: {
    readonly n?: number;
    readonly entries?: readonly Buffer[];
    readonly sizes?: readonly number[];
    readonly key?: TestKey;
  } = {},
): Promise<TestBundle> {
  const entries = options.entries ?? makeEntries(options.n ?? 20);
  const sizes = options.sizes ?? [entries.length];
  const key = options.key ?? testKey();
  const parent = await tempDir();
  const dir = join(parent, 'bundle');
  const checkpoints = sizes.map((size) => checkpointNote(entries, size, key));
  await writeBundle(dir, { entries, checkpoints, vkey: key.vkey });
  return {
    dir,
    entries,
    sizes,
    key,
    path: (file) => join(dir, file),
    cleanup: () => rm(parent, { recursive: true, force: true }),
  };
}

/** The lines of entries.jsonl (without their newlines; a cut-off last line included as is). */
export async function readLines(dir: string): Promise<Buffer[]> {
  const all = await readFile(join(dir, 'entries.jsonl'));
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = all.indexOf(0x0a); nl >= 0; nl = all.indexOf(0x0a, start)) {
    lines.push(all.subarray(start, nl));
    start = nl + 1;
  }
  if (start < all.length) lines.push(all.subarray(start));
  return lines;
}

/** Replaces entries.jsonl: each line then `\n` (or `ending`); `cut` drops that many final bytes. */
export async function writeLines(
  dir: string,
  lines: readonly Uint8Array[],
  options: { readonly ending?: string; readonly cut?: number } = {},
): Promise<void> {
  const ending = Buffer.from(options.ending ?? '\n');
  const all = Buffer.concat(lines.flatMap((l) => [l, ending]));
  await writeFile(join(dir, 'entries.jsonl'), all.subarray(0, all.length - (options.cut ?? 0)));
}

/** Edits entries.jsonl line by line. @example await editLines(dir, (ls) => ls.slice(0, 5)) */
export async function editLines(
  dir: string,
  edit: (lines: Buffer[]) => readonly Uint8Array[],
): Promise<void> {
  await writeLines(dir, edit(await readLines(dir)));
}

/** A copy of `bytes` with the byte at `at` replaced by `value` (default: the next byte value). */
export function withByte(bytes: Uint8Array, at: number, value?: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = value ?? ((copy[at] ?? 0) + 1) % 256;
  return copy;
}

/** A copy of `line` with the first `from` text replaced by `to` (one-byte edits stay readable). */
export function replaceText(line: Uint8Array, from: string, to: string): Buffer {
  const text = Buffer.from(line).toString('utf8');
  if (!text.includes(from)) throw new Error(`${from} is not in ${text}`);
  return Buffer.from(text.replace(from, to), 'utf8');
}
