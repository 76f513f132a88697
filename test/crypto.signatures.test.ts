/**
 * Signature verification: conformance against Wycheproof, plus known-answer and misuse checks.
 *
 * Vectors: Project Wycheproof (https://github.com/C2SP/wycheproof), Apache License 2.0, read from
 * `<repo>/../shared/vectors/wycheproof/testvectors_v1/` (see the LICENSE file there). The vectors are
 * not copied into this repository; a missing folder or file fails these tests, it never skips them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import { signMessage, verifySignature, type SignatureAlg } from '../src/crypto/index.js';
import { sharedDir } from './helpers/paths.js';

const VECTOR_DIR = join(sharedDir(), 'vectors', 'wycheproof', 'testvectors_v1');

type Result = 'valid' | 'invalid' | 'acceptable';

interface VectorCase {
  tcId: number;
  comment: string;
  flags: string[];
  msg: Uint8Array;
  sig: Uint8Array;
  result: Result;
}

interface VectorGroup {
  /** The raw public key: 32 bytes for Ed25519, the 65-byte uncompressed point for P-256. */
  rawKey: Uint8Array;
  /** The same key as a KeyObject, from the group's SubjectPublicKeyInfo DER. */
  keyObject: KeyObject;
  tests: VectorCase[];
}

interface VectorFile {
  numberOfTests: number;
  groups: VectorGroup[];
}

interface FileSpec {
  file: string;
  alg: SignatureAlg;
  algorithm: string;
  schema: string;
  groupType: string;
  /** The field of `publicKey` holding the raw key as hex. */
  rawKeyField: string;
}

const SPECS: readonly FileSpec[] = [
  {
    file: 'ed25519_test.json',
    alg: 'Ed25519',
    algorithm: 'EDDSA',
    schema: 'eddsa_verify_schema_v1.json',
    groupType: 'EddsaVerify',
    rawKeyField: 'pk',
  },
  {
    file: 'ecdsa_secp256r1_sha256_p1363_test.json',
    alg: 'ES256',
    algorithm: 'ECDSA',
    schema: 'ecdsa_p1363_verify_schema_v1.json',
    groupType: 'EcdsaP1363Verify',
    rawKeyField: 'uncompressed',
  },
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field<T>(
  obj: Record<string, unknown>,
  key: string,
  guard: (v: unknown) => v is T,
  where: string,
): T {
  const value = obj[key];
  if (!guard(value)) throw new TypeError(`${where}: field "${key}" is missing or malformed`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isResult = (v: unknown): v is Result =>
  v === 'valid' || v === 'invalid' || v === 'acceptable';

/** Strict hex decoding (Buffer.from(hex) silently stops at the first bad digit). */
function hex(text: string, where: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new TypeError(`${where}: not hex: ${text}`);
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Reads and shape-checks one Wycheproof file; any deviation from the expected schema throws. */
function loadVectors(spec: FileSpec): VectorFile {
  assert.ok(existsSync(VECTOR_DIR), `Wycheproof vector folder is missing: ${VECTOR_DIR}`);
  const path = join(VECTOR_DIR, spec.file);
  assert.ok(existsSync(path), `Wycheproof vector file is missing: ${path}`);
  const doc: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isRecord(doc)) throw new TypeError(`${spec.file}: not a JSON object`);
  assert.equal(field(doc, 'algorithm', isString, spec.file), spec.algorithm);
  assert.equal(field(doc, 'schema', isString, spec.file), spec.schema);
  const numberOfTests = field(doc, 'numberOfTests', isNumber, spec.file);
  const groups = field(doc, 'testGroups', isArray, spec.file).map((g, gi): VectorGroup => {
    const where = `${spec.file} group ${gi}`;
    if (!isRecord(g)) throw new TypeError(`${where}: not an object`);
    assert.equal(field(g, 'type', isString, where), spec.groupType, `${where}: type`);
    if (spec.alg === 'ES256') assert.equal(field(g, 'sha', isString, where), 'SHA-256');
    const publicKey = field(g, 'publicKey', isRecord, where);
    const rawKey = hex(field(publicKey, spec.rawKeyField, isString, where), where);
    const der = Buffer.from(hex(field(g, 'publicKeyDer', isString, where), where));
    const keyObject = createPublicKey({ key: der, format: 'der', type: 'spki' });
    const tests = field(g, 'tests', isArray, where).map((t, ti): VectorCase => {
      const at = `${where} test ${ti}`;
      if (!isRecord(t)) throw new TypeError(`${at}: not an object`);
      return {
        tcId: field(t, 'tcId', isNumber, at),
        comment: field(t, 'comment', isString, at),
        flags: field(t, 'flags', isStringArray, at),
        msg: hex(field(t, 'msg', isString, at), at),
        sig: hex(field(t, 'sig', isString, at), at),
        result: field(t, 'result', isResult, at),
      };
    });
    return { rawKey, keyObject, tests };
  });
  return { numberOfTests, groups };
}

/** verifySignature, recording a throw as a value so one bad case cannot hide the others. */
function tryVerify(
  alg: SignatureAlg,
  key: KeyObject | Uint8Array,
  msg: Uint8Array,
  sig: Uint8Array,
): boolean | 'threw' {
  try {
    return verifySignature(alg, key, msg, sig);
  } catch {
    return 'threw';
  }
}

void describe('verifySignature conformance (Wycheproof)', () => {
  for (const spec of SPECS) {
    void it(`${spec.alg}: every case in ${spec.file}`, () => {
      const vectors = loadVectors(spec);
      const counts: Record<Result, number> = { valid: 0, invalid: 0, acceptable: 0 };
      const failures: string[] = [];
      for (const group of vectors.groups) {
        for (const tc of group.tests) {
          counts[tc.result] += 1;
          // Both key forms the API takes: raw bytes, and a KeyObject from the SPKI DER.
          const viaRaw = tryVerify(spec.alg, group.rawKey, tc.msg, tc.sig);
          const viaKeyObject = tryVerify(spec.alg, group.keyObject, tc.msg, tc.sig);
          const ok =
            tc.result === 'valid'
              ? viaRaw === true && viaKeyObject === true
              : tc.result === 'invalid'
                ? viaRaw === false && viaKeyObject === false
                : typeof viaRaw === 'boolean' && typeof viaKeyObject === 'boolean';
          if (!ok) {
            failures.push(
              `tcId ${tc.tcId} (${tc.comment || 'no comment'}; ${tc.flags.join(',')}): ` +
                `expected ${tc.result}, got raw=${String(viaRaw)} keyObject=${String(viaKeyObject)}`,
            );
          }
        }
      }
      const checked = counts.valid + counts.invalid + counts.acceptable;
      assert.deepEqual(failures, [], `${spec.file}: ${failures.length} case(s) disagree`);
      assert.equal(checked, vectors.numberOfTests, `${spec.file}: numberOfTests header`);
      assert.ok(checked > 100, `${spec.file}: only ${checked} cases checked`);
      assert.ok(counts.valid > 0 && counts.invalid > 0, `${spec.file}: needs valid and invalid`);
      console.log(
        `${spec.file}: ${checked} cases checked ` +
          `(valid ${counts.valid}, invalid ${counts.invalid}, acceptable ${counts.acceptable})`,
      );
    });
  }
});

const enc = new TextEncoder();

function flipBit(bytes: Uint8Array, index: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

/** The raw public key bytes the API accepts, from a KeyObject (via its JWK). */
function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'OKP' && jwk.x !== undefined) return Buffer.from(jwk.x, 'base64url');
  if (jwk.kty === 'EC' && jwk.x !== undefined && jwk.y !== undefined) {
    return Buffer.concat([
      Buffer.of(0x04),
      Buffer.from(jwk.x, 'base64url'),
      Buffer.from(jwk.y, 'base64url'),
    ]);
  }
  throw new TypeError('unexpected key type');
}

function keyPair(alg: SignatureAlg): { publicKey: KeyObject; privateKey: KeyObject } {
  return alg === 'Ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

void describe('verifySignature and signMessage: known answers and misuse', () => {
  void it('Ed25519 reproduces RFC 8032 section 7.1 TEST 1 (empty message)', () => {
    const seed = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
    const pub = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
    const expected =
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
    const privateKey = createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: Buffer.from(seed, 'hex').toString('base64url'),
        x: Buffer.from(pub, 'hex').toString('base64url'),
      },
      format: 'jwk',
    });
    const sig = signMessage('Ed25519', privateKey, new Uint8Array(0));
    assert.equal(Buffer.from(sig).toString('hex'), expected);
    assert.equal(verifySignature('Ed25519', Buffer.from(pub, 'hex'), new Uint8Array(0), sig), true);
    assert.equal(verifySignature('Ed25519', Buffer.from(pub, 'hex'), enc.encode('x'), sig), false);
  });

  for (const alg of ['Ed25519', 'ES256'] as const) {
    void it(`${alg}: sign then verify, with a KeyObject and with raw key bytes`, () => {
      const { publicKey, privateKey } = keyPair(alg);
      const msg = enc.encode('gatehouse signs this');
      const sig = signMessage(alg, privateKey, msg);
      assert.ok(sig instanceof Uint8Array);
      assert.equal(sig.length, 64);
      assert.equal(verifySignature(alg, publicKey, msg, sig), true);
      const raw = rawPublicKey(publicKey);
      assert.equal(raw.length, alg === 'Ed25519' ? 32 : 65);
      assert.equal(verifySignature(alg, raw, msg, sig), true);
    });

    void it(`${alg}: a flipped bit in the signature or the message fails`, () => {
      const { publicKey, privateKey } = keyPair(alg);
      const msg = enc.encode('gatehouse signs this');
      const sig = signMessage(alg, privateKey, msg);
      for (const i of [0, 31, 32, 63]) {
        assert.equal(verifySignature(alg, publicKey, msg, flipBit(sig, i)), false, `sig bit ${i}`);
      }
      assert.equal(verifySignature(alg, publicKey, flipBit(msg, 0), sig), false);
      assert.equal(verifySignature(alg, publicKey, enc.encode(''), sig), false);
    });

    void it(`${alg}: a different key of the same algorithm fails`, () => {
      const signer = keyPair(alg);
      const other = keyPair(alg);
      const msg = enc.encode('gatehouse signs this');
      const sig = signMessage(alg, signer.privateKey, msg);
      assert.equal(verifySignature(alg, other.publicKey, msg, sig), false);
      assert.equal(verifySignature(alg, rawPublicKey(other.publicKey), msg, sig), false);
    });

    void it(`${alg}: garbage key bytes and wrong-length signatures give false, never throw`, () => {
      const { publicKey, privateKey } = keyPair(alg);
      const msg = enc.encode('gatehouse signs this');
      const sig = signMessage(alg, privateKey, msg);
      const raw = rawPublicKey(publicKey);
      const garbageKeys: Uint8Array[] = [
        new Uint8Array(0),
        new Uint8Array(31),
        new Uint8Array(33).fill(0xab),
        new Uint8Array(64).fill(0xab),
        new Uint8Array(66).fill(0x04),
        raw.subarray(1),
        Buffer.concat([raw, Buffer.of(0)]),
        new Uint8Array(65).fill(0xff), // not a point: bad prefix and off-curve coordinates
        Buffer.concat([Buffer.of(0x04), Buffer.alloc(64, 0xff)]), // coordinates >= p
        Buffer.concat([Buffer.of(0x04), Buffer.alloc(64)]), // (0, 0): not on P-256
        // ES256: a compressed prefix on 65 bytes. Ed25519: another key, whose first byte is never
        // the real one's (a fixed 0x02 was the real key itself once in 256 runs).
        Buffer.concat([Buffer.of(raw[0] === 0x02 ? 0x03 : 0x02), raw.subarray(1)]),
        flipBit(raw, raw.length - 1), // ES256: off the curve; Ed25519: another (or no) point
      ];
      for (const key of garbageKeys) {
        assert.doesNotThrow(() => verifySignature(alg, key, msg, sig));
        assert.equal(
          verifySignature(alg, key, msg, sig),
          false,
          `key ${Buffer.from(key).toString('hex')}`,
        );
      }
      const badSigs = [
        new Uint8Array(0),
        sig.subarray(0, 63),
        Buffer.concat([sig, Buffer.of(0)]),
        new Uint8Array(64), // all zero: r = s = 0 / small-order R with S = 0
        new Uint8Array(64).fill(0xff), // scalars out of range
      ];
      for (const bad of badSigs) {
        assert.equal(verifySignature(alg, publicKey, msg, bad), false, `sig length ${bad.length}`);
        assert.equal(verifySignature(alg, raw, msg, bad), false, `sig length ${bad.length}`);
      }
    });
  }

  void it('ES256 rejects a DER-encoded (non-P1363) signature of the right message', () => {
    const { publicKey, privateKey } = keyPair('ES256');
    const msg = enc.encode('gatehouse signs this');
    const der = nodeSign('sha256', msg, { key: privateKey, dsaEncoding: 'der' });
    assert.notEqual(der.length, 64);
    assert.equal(verifySignature('ES256', publicKey, msg, der), false);
  });

  void it('the algorithm is pinned: a key of another algorithm gives false', () => {
    const ed = keyPair('Ed25519');
    const p256 = keyPair('ES256');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const msg = enc.encode('gatehouse signs this');
    const edSig = signMessage('Ed25519', ed.privateKey, msg);
    const esSig = signMessage('ES256', p256.privateKey, msg);
    assert.equal(verifySignature('ES256', ed.publicKey, msg, edSig), false);
    assert.equal(verifySignature('Ed25519', p256.publicKey, msg, esSig), false);
    assert.equal(verifySignature('ES256', p384.publicKey, msg, esSig), false);
    assert.equal(verifySignature('ES256', createSecretKey(Buffer.alloc(32)), msg, esSig), false);
    // Raw Ed25519 key bytes presented as ES256 (and the reverse) are the wrong length.
    assert.equal(verifySignature('ES256', rawPublicKey(ed.publicKey), msg, edSig), false);
    assert.equal(verifySignature('Ed25519', rawPublicKey(p256.publicKey), msg, esSig), false);
  });

  void it('untyped callers: bad argument types give false instead of throwing', () => {
    const { publicKey, privateKey } = keyPair('Ed25519');
    const msg = enc.encode('m');
    const sig = signMessage('Ed25519', privateKey, msg);
    const verifyUntyped = verifySignature as unknown as (...args: unknown[]) => unknown;
    assert.equal(verifyUntyped('EdDSA', publicKey, msg, sig), false);
    assert.equal(verifyUntyped('Ed25519', 'not a key', msg, sig), false);
    assert.equal(verifyUntyped('Ed25519', null, msg, sig), false);
    assert.equal(verifyUntyped('Ed25519', publicKey, 'm', sig), false);
    assert.equal(verifyUntyped('Ed25519', publicKey, msg, Buffer.from(sig).toString('hex')), false);
    assert.equal(verifyUntyped('Ed25519', publicKey, msg, undefined), false);
  });

  void it('signMessage refuses a public key, a key of another algorithm, or an unknown algorithm', () => {
    const ed = keyPair('Ed25519');
    const p256 = keyPair('ES256');
    const msg = enc.encode('m');
    assert.throws(() => signMessage('Ed25519', ed.publicKey, msg), TypeError);
    assert.throws(() => signMessage('ES256', ed.privateKey, msg), TypeError);
    assert.throws(() => signMessage('Ed25519', p256.privateKey, msg), TypeError);
    assert.throws(
      () => signMessage('RS256' as unknown as SignatureAlg, p256.privateKey, msg),
      TypeError,
    );
  });
});
