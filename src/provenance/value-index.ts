import { randomBytes } from 'node:crypto';

/**
 * A 53-bit hash of a key (cyrb53), seeded per process: keys are kept as numbers, not strings, so
 * that a long run costs a few megabytes, and the secret seed means nobody can craft content whose
 * values collide with another run's.
 */
const SEED = randomBytes(4).readUInt32LE(0);

function hash53(key: string): number {
  let h1 = 0xdeadbeef ^ SEED;
  let h2 = 0x41c6ce57 ^ SEED;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The values seen in one class of content of one run (untrusted results, say), each with the
 * source that first brought it, bounded in size. Once full it says so (`full`), and the caller
 * must assume the worst of anything it can no longer tell apart.
 */
export class ValueIndex {
  private readonly seen = new Map<number, number>();
  private overflowed = false;

  /** @param limit the most keys kept (about 40 bytes each). */
  constructor(private readonly limit: number) {}

  /** Adds a key with its source; false once the index is full (the key was not kept). */
  add(key: string, source: number): boolean {
    if (this.overflowed) return false;
    const h = hash53(key);
    if (this.seen.has(h)) return true;
    if (this.seen.size >= this.limit) {
      this.overflowed = true;
      return false;
    }
    this.seen.set(h, source);
    return true;
  }

  /** The source of the first of `keys` that was seen, or undefined. */
  find(keys: readonly string[]): number | undefined {
    for (const k of keys) {
      const s = this.seen.get(hash53(k));
      if (s !== undefined) return s;
    }
    return undefined;
  }

  /** Some content could not be indexed: absence from the index proves nothing any more. */
  get full(): boolean {
    return this.overflowed;
  }

  /** Marks the index incomplete (e.g. its content was lost with a restart). */
  markIncomplete(): void {
    this.overflowed = true;
  }

  get size(): number {
    return this.seen.size;
  }
}
