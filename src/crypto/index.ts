/**
 * The one place Gatehouse touches cryptographic primitives. Everything else calls these.
 * Hashing is SHA-256; secrets are compared in constant time.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import canonicalizeCjs from 'canonicalize';

// `canonicalize` is CommonJS whose types declare an ES default export; at runtime the default is the function.
const canonicalize = canonicalizeCjs as unknown as (value: unknown) => string | undefined;

/** Lowercase hex of bytes. @example toHex(Uint8Array.of(1, 255)) === '01ff' */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** SHA-256 of bytes or a UTF-8 string, as lowercase hex. @example sha256Hex('abc') */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * SHA-256 over the concatenation of byte strings, as a plain Uint8Array (not a Buffer, so results
 * compare equal to decoded test vectors). @example sha256Bytes(new Uint8Array([0]), data)
 */
export function sha256Bytes(...parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

// crypto.hash arrived in Node 20.12; older 20.x fall back to a Hash object.
const oneShot =
  typeof nodeCrypto.hash === 'function'
    ? (data: Uint8Array) => nodeCrypto.hash('sha256', data, 'binary')
    : (data: Uint8Array) => createHash('sha256').update(data).digest('binary');

/**
 * SHA-256 of bytes as a 32-character latin1 string (one char per byte): the cheapest form on Node
 * for hot loops that hash millions of small inputs (log verification).
 * @example Buffer.from(sha256Latin1(data), 'latin1') // the 32-byte digest
 */
export function sha256Latin1(data: Uint8Array): string {
  return oneShot(data);
}

/** Marks a value the fast path does not take; `canonicalize` then serialises the whole value. */
const SLOW = Symbol('slow');
/** Keys that V8 would order numerically (array indices and the like), not by code units. */
const NUMERIC_KEY = /^(?:0|[1-9][0-9]*)$/;

/**
 * A copy with every object's keys inserted in RFC 8785 order (UTF-16 code units, what the default
 * sort compares), or SLOW. JSON.stringify keeps insertion order for string keys, and its strings
 * and numbers are what RFC 8785 prescribes, so stringifying the copy is the canonical text; keys
 * that break insertion order (numeric, `__proto__`), toJSON and non-finite numbers go the slow way.
 */
function sortedCopy(v: unknown): unknown {
  if (v === null || typeof v !== 'object') {
    return typeof v === 'number' && !Number.isFinite(v) ? SLOW : v;
  }
  if (Array.isArray(v)) {
    const out: unknown[] = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = sortedCopy(v[i]);
      if (x === SLOW) return SLOW;
      out[i] = x;
    }
    return out;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return SLOW;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    if (k === '__proto__' || NUMERIC_KEY.test(k)) return SLOW;
    const x = sortedCopy((v as Record<string, unknown>)[k]);
    if (x === SLOW) return SLOW;
    out[k] = x;
  }
  return out;
}

/**
 * RFC 8785 (JCS) canonical JSON text of a JSON value; the hot path of every decision and audit
 * entry, so common values take a fast path that is checked against `canonicalize` in the tests.
 * @example canonicalJson({b:1,a:2}) === '{"a":2,"b":1}'
 */
export function canonicalJson(value: unknown): string {
  const copy = sortedCopy(value);
  const text = copy === SLOW ? canonicalize(value) : (JSON.stringify(copy) as string | undefined);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

/** `sha256:<hex>` digest of the canonical JSON of a value, used to bind decisions to exact arguments. */
export function jsonDigest(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}

/** Constant-time equality of two strings (false when lengths differ, without early exit on content). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) return false;
  return timingSafeEqual(ab, bb);
}

/** A random identifier with 128 bits or more of entropy. @example newId('dec') -> 'dec_3f…' */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** A random UUID (v4), for session ids. */
export function newUuid(): string {
  return randomUUID();
}

export {
  openFileKeyStore,
  memoryKeyStore,
  generateKeyPairInMemory,
  type FileKeyStore,
  type KeyInfo,
  type KeyPair,
  type KeyStore,
  type KeyErrorCode,
  type SigningAlg,
} from './keys.js';

export { verifySignature, signMessage, type SignatureAlg } from './signatures.js';
export { ed25519PrivateKeyFromSeed, ed25519RawPublicKey, newEd25519Seed } from './note-keys.js';
