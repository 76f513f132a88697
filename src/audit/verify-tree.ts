/**
 * Merkle hashing for the verifier, which rebuilds the tree from a stream without keeping leaves:
 * compact ranges (the maximal complete subtrees covering a run of leaves, O(log n) hashes) can be
 * built for separate chunks, on separate threads, and joined in order. The range [0, n) gives the
 * root; the range [0, size1) at one checkpoint and [size1, size2) up to the next hold every hash an
 * RFC 9162 consistency proof between them needs.
 *
 * Hashing here is the bulk of verification, so it calls the one-shot `sha256Latin1` on reused
 * buffers instead of `sha256Bytes` (a Hash object and a copy per call), and hashes travel as 32-char
 * latin1 strings (one char per byte): on Node 20 a string result costs half the time of a Buffer.
 * The results are the same RFC 6962 hashes as ./merkle.ts, which the tests check.
 */
import { sha256Latin1 } from '../crypto/index.js';
import { consistencyProof, verifyConsistency } from './merkle.js';

const HASH_BYTES = 32;
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** A SHA-256 digest as a latin1 string: 32 chars, each one byte. */
export type HashString = string;

const sha256: (data: Uint8Array) => HashString = sha256Latin1;

export const hashBytes = (hash: HashString): Uint8Array =>
  new Uint8Array(Buffer.from(hash, 'latin1'));
export const hashString = (bytes: Uint8Array): HashString => Buffer.from(bytes).toString('latin1');

/**
 * RFC 6962 leaf hash of `view[1..]`: `view[0]` is scratch space for the 0x00 prefix and is restored,
 * so a line can be hashed in place inside the read buffer. @example leafHashInPlace(buf.subarray(s - 1, e))
 */
export function leafHashInPlace(view: Uint8Array): HashString {
  const saved = view[0] ?? 0;
  view[0] = LEAF_PREFIX;
  const hash = sha256(view);
  view[0] = saved;
  return hash;
}

const nodeScratch = Buffer.alloc(1 + 2 * HASH_BYTES);
nodeScratch[0] = NODE_PREFIX;

/** RFC 6962 node hash, SHA-256(0x01 || left || right). */
export function fastNodeHash(left: HashString, right: HashString): HashString {
  // A byte loop beats Buffer#write for 32 chars.
  for (let i = 0; i < HASH_BYTES; i++) {
    nodeScratch[1 + i] = left.charCodeAt(i);
    nodeScratch[1 + HASH_BYTES + i] = right.charCodeAt(i);
  }
  return sha256(nodeScratch);
}

/** The plain-data form of a compact range, as it crosses threads. */
export interface RangeData {
  readonly begin: number;
  readonly end: number;
  /** Leaves under each subtree, left to right (powers of two). */
  readonly widths: readonly number[];
  readonly hashes: readonly HashString[];
}

/**
 * The compact range of leaves [begin, end): its maximal complete subtrees, left to right.
 * @example const r = new CompactRange(0); r.appendLeaf(hashString(leafHash(a))); r.root()
 */
export class CompactRange implements RangeData {
  end: number;
  readonly widths: number[] = [];
  readonly hashes: HashString[] = [];

  constructor(readonly begin: number) {
    this.end = begin;
  }

  appendLeaf(leaf: HashString): void {
    this.push(1, leaf);
  }

  /** Appends the range that starts where this one ends. */
  appendRange(next: RangeData): void {
    if (next.begin !== this.end) throw new RangeError(`range at ${next.begin}, not ${this.end}`);
    for (let i = 0; i < next.widths.length; i++) {
      this.push(next.widths[i] ?? 0, next.hashes[i] ?? '');
    }
  }

  /** Pushes the complete subtree [end, end + width), merging siblings as they complete. */
  private push(width: number, hash: HashString): void {
    const { widths, hashes } = this;
    let w = width;
    let h = hash;
    this.end += width;
    // The last subtree [end - w, end) merges with a left sibling of the same width: its parent
    // [end - 2w, end) is aligned.
    while (widths[widths.length - 1] === w && (this.end - 2 * w) % (2 * w) === 0) {
      widths.pop();
      h = fastNodeHash(hashes.pop() as HashString, h);
      w *= 2;
    }
    widths.push(w);
    hashes.push(h);
  }

  copy(): CompactRange {
    const range = new CompactRange(this.begin);
    range.end = this.end;
    range.widths.push(...this.widths);
    range.hashes.push(...this.hashes);
    return range;
  }

  /** MTH of the leaves [start, end) when they are exactly some of this range's subtrees. */
  hashOf(start: number, end: number): HashString | undefined {
    const inside: HashString[] = [];
    let covered = 0;
    let at = this.begin;
    for (let i = 0; i < this.widths.length; i++) {
      const w = this.widths[i] ?? 0;
      if (at >= start && at + w <= end) {
        inside.push(this.hashes[i] as HashString);
        covered += w;
      } else if (at < end && at + w > start) return undefined; // it would cut a subtree
      at += w;
    }
    if (inside.length === 0 || covered !== end - start) return undefined;
    let hash = inside[inside.length - 1] as HashString;
    for (let i = inside.length - 2; i >= 0; i--) hash = fastNodeHash(inside[i] as HashString, hash);
    return hash;
  }

  /** The tree hash of [0, end) (SHA-256 of nothing when empty); only for ranges from 0. */
  root(): Uint8Array {
    if (this.begin !== 0) throw new RangeError('only a range from leaf 0 has a root');
    return hashBytes(this.end === 0 ? sha256(new Uint8Array(0)) : (this.hashOf(0, this.end) ?? ''));
  }

  data(): RangeData {
    return { begin: this.begin, end: this.end, widths: this.widths, hashes: this.hashes };
  }
}

/**
 * Builds the RFC 9162 consistency proof from `before` = [0, size1) and `since` = [size1, size2) and
 * checks it against the two signed roots. @example consistent(atOld, sinceOld, oldRoot, newRoot)
 */
export function consistent(
  before: CompactRange,
  since: CompactRange,
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  const size1 = before.end;
  const size2 = since.end;
  if (before.begin !== 0 || since.begin !== size1 || size1 === 0 || size2 <= size1) return false;
  const missing = new Uint8Array(0); // fails verification if ever asked for
  const subtree = (start: number, end: number): Uint8Array => {
    const hash = end <= size1 ? before.hashOf(start, end) : since.hashOf(start, end);
    return hash === undefined ? missing : hashBytes(hash);
  };
  try {
    const proof = consistencyProof(subtree, size1, size2);
    return verifyConsistency(size1, size2, proof, root1, root2);
  } catch {
    return false;
  }
}
