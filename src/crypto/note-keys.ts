/**
 * Raw Ed25519 key bytes, for formats that carry keys as bytes rather than JWK (C2SP signed-note
 * verifier keys hold the 32-byte RFC 8032 public key; signer keys hold the 32-byte seed).
 */
import { KeyObject, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

/** PKCS#8 DER of an Ed25519 private key up to the 32-byte seed (RFC 8410 §7); the seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The 32-byte RFC 8032 public key of an Ed25519 public or private KeyObject; undefined for any other key.
 * @example ed25519RawPublicKey(privateKey) // Uint8Array(32)
 */
export function ed25519RawPublicKey(key: KeyObject): Uint8Array | undefined {
  if (!(key instanceof KeyObject) || key.asymmetricKeyType !== 'ed25519') return undefined;
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const x = publicKey.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') return undefined;
  const raw = Buffer.from(x, 'base64url');
  return raw.length === 32 ? new Uint8Array(raw) : undefined;
}

/**
 * The Ed25519 private KeyObject for a 32-byte RFC 8032 seed; throws a TypeError on another length.
 * @example const key = ed25519PrivateKeyFromSeed(seed32); signMessage('Ed25519', key, msg);
 */
export function ed25519PrivateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new TypeError('an Ed25519 seed is 32 bytes');
  }
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** A fresh random 32-byte Ed25519 seed (RFC 8032 private key). @example ed25519PrivateKeyFromSeed(newEd25519Seed()) */
export function newEd25519Seed(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}
