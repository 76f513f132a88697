/**
 * Asymmetric signing keys on disk. Private keys are JWK files with mode 0600 in a 0700 folder;
 * each key records its algorithm, which is pinned: a token is verified only with its key's own algorithm.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import { GatehouseError } from '../errors/index.js';

export type KeyErrorCode = 'KEY_DIR_UNUSABLE' | 'KEY_FILE_INVALID' | 'KEY_FILE_PERMISSIONS';
export type SigningAlg = 'EdDSA' | 'ES256';

export interface KeyPair {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly createdAt: number;
}

/** The keys a signer and a verifier need; injected so rotation and expiry are testable. */
export interface KeyStore {
  /** The key new tokens are signed with. */
  current(): KeyPair;
  /** A key that may verify, by id; undefined when unknown (or retired). */
  get(kid: string): KeyPair | undefined;
}

interface KeyFile {
  kid: string;
  alg: SigningAlg;
  created_at: number;
  private_jwk: JWK;
}

async function importPair(file: KeyFile): Promise<KeyPair> {
  const { d: _d, ...pub } = file.private_jwk;
  const privateKey = (await importJWK(file.private_jwk, file.alg)) as CryptoKey;
  const publicKey = (await importJWK(pub, file.alg)) as CryptoKey;
  return {
    kid: file.kid,
    alg: file.alg,
    privateKey,
    publicKey,
    publicJwk: { ...pub, kid: file.kid, alg: file.alg, use: 'sig' },
    createdAt: file.created_at,
  };
}

async function generatePair(alg: SigningAlg, now: number): Promise<KeyFile> {
  const { privateKey } = await generateKeyPair(alg, {
    crv: alg === 'EdDSA' ? 'Ed25519' : 'P-256',
    extractable: true,
  });
  const jwk = await exportJWK(privateKey);
  const { d: _d, ...pub } = jwk;
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  return { kid, alg, created_at: now, private_jwk: jwk };
}

/**
 * Opens (creating on first use) a folder of signing keys; the newest key signs.
 * @example const keys = await openFileKeyStore('.gatehouse/keys', 'credential');
 */
export async function openFileKeyStore(
  dir: string,
  purpose: string,
  opts: { alg?: SigningAlg; now?: () => number } = {},
): Promise<KeyStore> {
  const alg = opts.alg ?? 'EdDSA';
  const now = opts.now ?? Date.now;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new GatehouseError<KeyErrorCode>('KEY_DIR_UNUSABLE', `cannot create key folder ${dir}`, {
      cause: err,
    });
  }
  const prefix = `${purpose}-`;
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.jwk.json'));
  const pairs: KeyPair[] = [];
  for (const f of files) {
    const path = join(dir, f);
    if ((statSync(path).mode & 0o077) !== 0) {
      throw new GatehouseError<KeyErrorCode>(
        'KEY_FILE_PERMISSIONS',
        `private key file ${path} is readable by others; run: chmod 600 ${path}`,
      );
    }
    try {
      pairs.push(await importPair(JSON.parse(readFileSync(path, 'utf8')) as KeyFile));
    } catch (err) {
      throw new GatehouseError<KeyErrorCode>(
        'KEY_FILE_INVALID',
        `key file ${path} is not a valid key`,
        { cause: err },
      );
    }
  }
  if (pairs.length === 0) {
    const file = await generatePair(alg, now());
    const path = join(dir, `${prefix}${file.kid}.jwk.json`);
    writeFileSync(path, JSON.stringify(file, null, 2), { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    pairs.push(await importPair(file));
  }
  return memoryKeyStore(pairs);
}

/** A key store over keys held in memory (tests, and the file store's view). */
export function memoryKeyStore(pairs: readonly KeyPair[]): KeyStore {
  const sorted = [...pairs].sort((a, b) => a.createdAt - b.createdAt);
  const newest = sorted.at(-1);
  if (!newest) throw new TypeError('a key store needs at least one key');
  const byKid = new Map(sorted.map((p) => [p.kid, p]));
  return { current: () => newest, get: (kid) => byKid.get(kid) };
}

/** A fresh in-memory key pair (tests and ephemeral use). */
export async function generateKeyPairInMemory(
  alg: SigningAlg = 'EdDSA',
  now = Date.now(),
): Promise<KeyPair> {
  return importPair(await generatePair(alg, now));
}
