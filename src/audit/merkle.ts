/**
 * RFC 6962 / RFC 9162 Merkle tree primitives for the audit log: leaf and node hashes, the tree
 * hash (MTH), inclusion and consistency proofs, and their verifiers (RFC 9162 §2.1.3.2, §2.1.4.2).
 *
 * Sizes and indices are JavaScript numbers, so only safe integers (< 2^53) are accepted, and all
 * bit arithmetic is done with division: `&` and `>>` would truncate to 32 bits.
 */
// src/crypto has only sha256Hex; Merkle hashing needs raw digests of several byte strings, so the
// SHA-256 call lives here rather than round-tripping every node through hex.
import { sha256Bytes } from '../crypto/index.js';

const HASH_BYTES = 32;
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);
// A tree of fewer than 2^53 leaves is at most 53 levels deep, so no valid proof (inclusion: one hash
// per level; consistency: one more) comes near this; longer ones are refused before any hashing.
const MAX_PROOF_LENGTH = 64;

/**
 * MTH of the leaves [start, end) of a tree. Proof generators only ask for complete subtrees
 * [i·2^l, (i+1)·2^l) and right edges [i·2^l, treeSize), so a store can answer from cached subtrees.
 */
export type SubtreeHash = (start: number, end: number) => Uint8Array;

/** What proof generators read: the leaf hashes in order, or a store's subtree accessor. */
export type LeafSource = readonly Uint8Array[] | SubtreeHash;

const sha256 = sha256Bytes;

/** RFC 6962 leaf hash, SHA-256(0x00 || data). @example leafHash(new Uint8Array()) // 6e340b9c… */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, data);
}

/** RFC 6962 interior node hash, SHA-256(0x01 || left || right). @example nodeHash(a, b) */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** Largest power of two strictly below n (n ≥ 2): the RFC 6962 split point. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function mth(leaves: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 0) return sha256();
  if (n === 1) {
    const leaf = leaves[start];
    if (leaf === undefined) throw new RangeError(`no leaf hash at index ${start}`);
    return new Uint8Array(leaf);
  }
  const k = splitPoint(n);
  return nodeHash(mth(leaves, start, start + k), mth(leaves, start + k, end));
}

/** Merkle tree hash (MTH) of leaf hashes; empty tree = SHA-256(""). @example rootOf([leafHash(d)]) */
export function rootOf(leafHashes: readonly Uint8Array[]): Uint8Array {
  return mth(leafHashes, 0, leafHashes.length);
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function subtreeReader(source: LeafSource, treeSize: number): SubtreeHash {
  if (typeof source === 'function') return source;
  if (treeSize > source.length) {
    throw new RangeError(`tree size ${treeSize} exceeds the ${source.length} leaf hashes given`);
  }
  return (start, end) => mth(source, start, end);
}

/**
 * Audit path for leaf `index` in the tree of the first `treeSize` leaves, leaf to root (RFC 9162
 * §2.1.3.1). Throws RangeError on an index or size out of range.
 * @example inclusionProof(hashes, 5, 8) // 3 sibling hashes
 */
export function inclusionProof(source: LeafSource, index: number, treeSize: number): Uint8Array[] {
  if (!isSize(treeSize) || !isSize(index) || index >= treeSize) {
    throw new RangeError(`no leaf ${index} in a tree of size ${treeSize}`);
  }
  const subtree = subtreeReader(source, treeSize);
  const proof: Uint8Array[] = [];
  // PATH(m, D[start:end]) unrolled; siblings are found root-down, so they are reversed at the end.
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      proof.push(subtree(start + k, end));
      end = start + k;
    } else {
      proof.push(subtree(start, start + k));
      start += k;
    }
  }
  return proof.reverse();
}

/**
 * Consistency proof that the tree of `size1` leaves is a prefix of the one of `size2` (RFC 9162
 * §2.1.4.1). Empty when the sizes are equal; throws RangeError unless 0 < size1 ≤ size2.
 * @example consistencyProof(hashes, 6, 8) // 3 hashes
 */
export function consistencyProof(source: LeafSource, size1: number, size2: number): Uint8Array[] {
  if (!isSize(size1) || !isSize(size2) || size1 === 0 || size1 > size2) {
    throw new RangeError(`no consistency proof from size ${size1} to size ${size2}`);
  }
  const subtree = subtreeReader(source, size2);
  const proof: Uint8Array[] = [];
  // SUBPROOF(m, D[start:end], b) unrolled; `whole` is b: the old tree is still a complete subtree.
  let start = 0;
  let end = size2;
  let m = size1;
  let whole = true;
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      proof.push(subtree(start + k, end));
      end = start + k;
    } else {
      proof.push(subtree(start, start + k));
      start += k;
      m -= k;
      whole = false;
    }
  }
  if (!whole) proof.push(subtree(start, end));
  return proof.reverse();
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_BYTES;
}

/** A checked copy, read by index: holes, custom iterators and later mutation cannot slip past. */
function proofHashes(value: unknown): Uint8Array[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_PROOF_LENGTH) return undefined;
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < value.length; i++) {
    const hash: unknown = value[i];
    if (!isHash(hash)) return undefined;
    hashes.push(hash);
  }
  return hashes;
}

// Roots and proofs are public, so a plain early-exit comparison leaks nothing worth hiding.
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

function isPowerOfTwo(n: number): boolean {
  let x = n;
  while (x > 1 && !isOdd(x)) x = half(x);
  return x === 1;
}

/**
 * Whether `proof` shows `leaf` at `index` in the tree of `treeSize` leaves with `root` (RFC 9162
 * §2.1.3.2). Never throws: malformed input is false. The proof does not bind the size on its own, so
 * take `treeSize` and `root` from the same verified checkpoint.
 * @example verifyInclusion(leafHash(entry), 5, 8, proof, checkpointRoot)
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    const hashes = proofHashes(proof);
    if (!isHash(leaf) || !isHash(root) || hashes === undefined) return false;
    if (!isSize(index) || !isSize(treeSize) || index >= treeSize) return false;
    let fn = index;
    let sn = treeSize - 1;
    let r = leaf;
    for (const p of hashes) {
      if (sn === 0) return false;
      if (isOdd(fn) || fn === sn) {
        r = nodeHash(p, r);
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        r = nodeHash(r, p);
      }
      fn = half(fn);
      sn = half(sn);
    }
    return sn === 0 && equalBytes(r, root);
  } catch {
    // Only exotic inputs (proxies, throwing getters) reach here; a verifier answers, it never throws.
    return false;
  }
}

/**
 * Whether `proof` shows the tree of `size1` leaves with `root1` is a prefix of the tree of `size2`
 * leaves with `root2` (RFC 9162 §2.1.4.2). Never throws: malformed input is false, and so is
 * size1 = 0 (nothing to prove, as in transparency-dev/merkle).
 * @example verifyConsistency(6, 8, proof, oldRoot, newRoot)
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  try {
    const hashes = proofHashes(proof);
    if (!isHash(root1) || !isHash(root2) || hashes === undefined) return false;
    if (!isSize(size1) || !isSize(size2) || size1 === 0 || size1 > size2) return false;
    if (size1 === size2) return hashes.length === 0 && equalBytes(root1, root2);
    if (hashes.length === 0) return false;
    // For a power-of-two size1 the old root is itself a subtree of the new tree, so it is omitted.
    const path = isPowerOfTwo(size1) ? [root1, ...hashes] : hashes;
    let fn = size1 - 1;
    let sn = size2 - 1;
    while (isOdd(fn)) {
      fn = half(fn);
      sn = half(sn);
    }
    const [first, ...rest] = path;
    if (first === undefined) return false; // unreachable: path has at least one hash
    let fr = first;
    let sr = first;
    for (const c of rest) {
      if (sn === 0) return false;
      if (isOdd(fn) || fn === sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn = half(fn);
      sn = half(sn);
    }
    return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
  } catch {
    return false;
  }
}
