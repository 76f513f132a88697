/**
 * The log's Merkle tree kept in memory: every complete subtree hash, level by level, so a root or a
 * proof costs O(log n) lookups plus O(log n) hashes on the right edge. 64 bytes per entry (a million
 * entries: 64 MiB); rebuilt from the stored leaf hashes when a process opens the log.
 */
import { sha256Bytes } from '../crypto/index.js';
import { consistencyProof, inclusionProof, nodeHash, type SubtreeHash } from './merkle.js';

const HASH = 32;

/** A growable array of 32-byte hashes in one buffer (no object per hash). */
class HashArray {
  private buf = Buffer.alloc(HASH * 1024);
  length = 0;

  push(hash: Uint8Array): void {
    if ((this.length + 1) * HASH > this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.length * HASH);
      this.buf = bigger;
    }
    this.buf.set(hash, this.length * HASH);
    this.length += 1;
  }

  get(i: number): Uint8Array {
    if (i < 0 || i >= this.length) throw new RangeError(`no hash at ${i}`);
    return new Uint8Array(this.buf.subarray(i * HASH, (i + 1) * HASH));
  }
}

/** @example const t = new MerkleTree(); t.append(leafHash(data)); t.root(); t.inclusion(0, 1) */
export class MerkleTree {
  // levels[l][i] = MTH of the complete subtree of leaves [i·2^l, (i+1)·2^l).
  private readonly levels: HashArray[] = [new HashArray()];

  get size(): number {
    return (this.levels[0] as HashArray).length;
  }

  append(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH) throw new TypeError('a leaf hash is 32 bytes');
    let level = 0;
    let node = leafHash;
    for (;;) {
      const row = this.levels[level] ?? (this.levels[level] = new HashArray());
      row.push(node);
      if (row.length % 2 === 1) return;
      node = nodeHash(row.get(row.length - 2), node);
      level += 1;
    }
  }

  /** Appends leaf hashes given concatenated (as the store returns them). */
  appendAll(hashes: Uint8Array): void {
    if (hashes.length % HASH !== 0) throw new TypeError('leaf hashes come in 32-byte units');
    for (let off = 0; off < hashes.length; off += HASH)
      this.append(hashes.subarray(off, off + HASH));
  }

  leaf(index: number): Uint8Array {
    return (this.levels[0] as HashArray).get(index);
  }

  /** MTH of leaves [start, end): complete subtrees are looked up, right edges computed. */
  readonly subtree: SubtreeHash = (start, end) => {
    const n = end - start;
    if (n <= 0 || end > this.size) {
      if (n === 0 && start === 0) return sha256Bytes();
      throw new RangeError(`no subtree [${start}, ${end}) in a tree of ${this.size}`);
    }
    const level = Math.log2(n);
    if (Number.isInteger(level) && start % n === 0) {
      const row = this.levels[level];
      if (row) return row.get(start / n);
    }
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(this.subtree(start, start + k), this.subtree(start + k, end));
  };

  /** Root of the tree of the first `size` leaves. */
  root(size = this.size): Uint8Array {
    return this.subtree(0, size);
  }

  inclusion(index: number, size: number): Uint8Array[] {
    if (size > this.size) throw new RangeError(`the log has ${this.size} entries, not ${size}`);
    return inclusionProof(this.subtree, index, size);
  }

  consistency(size1: number, size2: number): Uint8Array[] {
    if (size2 > this.size) throw new RangeError(`the log has ${this.size} entries, not ${size2}`);
    return consistencyProof(this.subtree, size1, size2);
  }
}
