/**
 * Detached signatures over bytes: Ed25519 (RFC 8032) and ES256 (ECDSA P-256 + SHA-256, with the
 * signature in IEEE P1363 `r || s` form as JWS uses). A thin layer over `node:crypto`; the algorithm
 * is always named by the caller and pinned to the key, never inferred from the key or signature.
 */
import { KeyObject, createPublicKey, sign, verify } from 'node:crypto';

/** The signature algorithms this module speaks. */
export type SignatureAlg = 'Ed25519' | 'ES256';

/** Signature length in bytes: Ed25519 is R || S, ES256 (P1363) is r || s, each 32 bytes. */
const SIGNATURE_LENGTH: Readonly<Record<SignatureAlg, number>> = { Ed25519: 64, ES256: 64 };

/** Raw public key length: Ed25519 is 32 bytes; P-256 is an uncompressed SEC1 point 0x04 || X || Y. */
const RAW_PUBLIC_KEY_LENGTH: Readonly<Record<SignatureAlg, number>> = { Ed25519: 32, ES256: 65 };

function isSignatureAlg(alg: unknown): alg is SignatureAlg {
  return alg === 'Ed25519' || alg === 'ES256';
}

/** Whether an asymmetric key belongs to the algorithm (Ed25519 key, or EC key on P-256). */
function keyMatchesAlg(key: KeyObject, alg: SignatureAlg): boolean {
  if (alg === 'Ed25519') return key.asymmetricKeyType === 'ed25519';
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** Imports a raw public key; throws when the bytes are not a valid key for the algorithm. */
function importRawPublicKey(alg: SignatureAlg, raw: Uint8Array): KeyObject {
  if (raw.length !== RAW_PUBLIC_KEY_LENGTH[alg]) throw new TypeError('wrong public key length');
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (alg === 'Ed25519') {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
      format: 'jwk',
    });
  }
  if (bytes[0] !== 0x04) throw new TypeError('P-256 public key is not an uncompressed point');
  // OpenSSL rejects coordinates that are not a point on the curve.
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: bytes.subarray(1, 33).toString('base64url'),
      y: bytes.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
}

/**
 * Whether `signature` is a valid `alg` signature of `message` under `publicKey`. Never throws:
 * malformed keys or signatures, a key of another algorithm, or wrong-length input give false.
 * @example verifySignature('Ed25519', rawKey32, message, sig64) // true or false
 */
export function verifySignature(
  alg: SignatureAlg,
  publicKey: KeyObject | Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (!isSignatureAlg(alg)) return false;
    if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array)) return false;
    if (signature.length !== SIGNATURE_LENGTH[alg]) return false;
    let key: KeyObject;
    if (publicKey instanceof KeyObject) {
      if (publicKey.type === 'secret') return false;
      key = publicKey;
    } else if (publicKey instanceof Uint8Array) {
      key = importRawPublicKey(alg, publicKey);
    } else {
      return false;
    }
    if (!keyMatchesAlg(key, alg)) return false;
    if (alg === 'Ed25519') return verify(null, message, key, signature);
    return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/**
 * Signs `message` with a private key of algorithm `alg`; ES256 signatures are 64-byte P1363 `r || s`.
 * Throws a TypeError when the key is not a private key of that algorithm.
 * @example const sig = signMessage('Ed25519', privateKey, new TextEncoder().encode('hello'));
 */
export function signMessage(
  alg: SignatureAlg,
  privateKey: KeyObject,
  message: Uint8Array,
): Uint8Array {
  if (!isSignatureAlg(alg)) throw new TypeError(`unsupported signature algorithm ${String(alg)}`);
  if (!(privateKey instanceof KeyObject) || privateKey.type !== 'private') {
    throw new TypeError('signMessage needs a private KeyObject');
  }
  if (!keyMatchesAlg(privateKey, alg)) throw new TypeError(`private key is not an ${alg} key`);
  const sig =
    alg === 'Ed25519'
      ? sign(null, message, privateKey)
      : sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}
