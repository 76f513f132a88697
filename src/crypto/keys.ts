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

export type KeyErrorCode =
  | 'KEY_DIR_UNUSABLE'
  | 'KEY_FILE_INVALID'
  | 'KEY_FILE_PERMISSIONS'
  | 'KEY_NOT_FOUND'
  | 'KEY_LAST_ACTIVE';
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
  /** A key that may verify, by id; undefined when unknown or retired. */
  get(kid: string): KeyPair | undefined;
  /** Every key that verifies (for JWKS), oldest first. */
  active(): readonly KeyPair[];
}

export interface KeyInfo {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly createdAt: number;
  readonly retiredAt?: number;
  readonly current: boolean;
}

/** A key store backed by a folder: keys can be added (rotation), retired, and re-read. */
export interface FileKeyStore extends KeyStore {
  /** Re-reads the folder (another process may have rotated or retired a key). */
  reload(): Promise<void>;
  /** Adds a new signing key; older keys keep verifying until retired. */
  rotate(): Promise<KeyInfo>;
  /** Stops a key from verifying. The last active key cannot be retired. */
  retire(kid: string): Promise<KeyInfo>;
  list(): readonly KeyInfo[];
}

interface KeyFile {
  kid: string;
  alg: SigningAlg;
  created_at: number;
  retired_at?: number;
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

async function generateFile(alg: SigningAlg, now: number): Promise<KeyFile> {
  const { privateKey } = await generateKeyPair(alg, {
    crv: alg === 'EdDSA' ? 'Ed25519' : 'P-256',
    extractable: true,
  });
  const jwk = await exportJWK(privateKey);
  const { d: _d, ...pub } = jwk;
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  return { kid, alg, created_at: now, private_jwk: jwk };
}

function keyError(
  code: KeyErrorCode,
  message: string,
  cause?: unknown,
): GatehouseError<KeyErrorCode> {
  return new GatehouseError<KeyErrorCode>(
    code,
    message,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Opens (creating on first use) a folder of signing keys named `<purpose>-<kid>.jwk.json`, mode
 * 0600 in a 0700 folder. The newest active key signs; retired keys neither sign nor verify.
 * @example const keys = await openFileKeyStore('.gatehouse/keys', 'credential');
 */
export async function openFileKeyStore(
  dir: string,
  purpose: string,
  opts: { alg?: SigningAlg; now?: () => number } = {},
): Promise<FileKeyStore> {
  const alg = opts.alg ?? 'EdDSA';
  const now = opts.now ?? Date.now;
  const prefix = `${purpose}-`;
  const pathOf = (kid: string) => join(dir, `${prefix}${kid}.jwk.json`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw keyError('KEY_DIR_UNUSABLE', `cannot create key folder ${dir}`, err);
  }

  const readFiles = (): KeyFile[] => {
    const out: KeyFile[] = [];
    for (const f of readdirSync(dir).filter(
      (n) => n.startsWith(prefix) && n.endsWith('.jwk.json'),
    )) {
      const path = join(dir, f);
      if ((statSync(path).mode & 0o077) !== 0) {
        throw keyError(
          'KEY_FILE_PERMISSIONS',
          `private key file ${path} is readable by others; run: chmod 600 ${path}`,
        );
      }
      try {
        out.push(JSON.parse(readFileSync(path, 'utf8')) as KeyFile);
      } catch (err) {
        throw keyError('KEY_FILE_INVALID', `key file ${path} is not a valid key`, err);
      }
    }
    return out.sort((a, b) => a.created_at - b.created_at || a.kid.localeCompare(b.kid));
  };
  const writeFile = (file: KeyFile, flag: 'wx' | 'w') => {
    const path = pathOf(file.kid);
    writeFileSync(path, JSON.stringify(file, null, 2), { mode: 0o600, flag });
    chmodSync(path, 0o600);
  };

  let files: KeyFile[] = [];
  let view: KeyStore = memoryKeyStore([]);
  const load = async () => {
    const next = readFiles();
    const pairs: KeyPair[] = [];
    for (const f of next) {
      if (f.retired_at !== undefined) continue;
      try {
        pairs.push(await importPair(f));
      } catch (err) {
        throw keyError('KEY_FILE_INVALID', `key file ${pathOf(f.kid)} is not a valid key`, err);
      }
    }
    files = next;
    view = memoryKeyStore(pairs);
  };
  const info = (f: KeyFile): KeyInfo => ({
    kid: f.kid,
    alg: f.alg,
    createdAt: f.created_at,
    ...(f.retired_at !== undefined ? { retiredAt: f.retired_at } : {}),
    current: view.active().at(-1)?.kid === f.kid,
  });
  const rotate = async (): Promise<KeyInfo> => {
    const file = await generateFile(alg, Math.max(now(), (files.at(-1)?.created_at ?? 0) + 1));
    writeFile(file, 'wx');
    await load();
    return info(file);
  };

  await load();
  if (view.active().length === 0) await rotate();

  return {
    current: () => view.current(),
    get: (kid) => view.get(kid),
    active: () => view.active(),
    reload: load,
    rotate,
    async retire(kid) {
      await load();
      const file = files.find((f) => f.kid === kid && f.retired_at === undefined);
      if (!file) throw keyError('KEY_NOT_FOUND', `no active key with id ${kid}`);
      if (view.active().length <= 1) {
        throw keyError(
          'KEY_LAST_ACTIVE',
          `${kid} is the only active key; run "gatehouse keys rotate" first`,
        );
      }
      writeFile({ ...file, retired_at: now() }, 'w');
      await load();
      return info(files.find((f) => f.kid === kid) ?? file);
    },
    list: () => files.map(info),
  };
}

/** A key store over keys held in memory (tests, and the file store's view). The newest key signs. */
export function memoryKeyStore(pairs: readonly KeyPair[]): KeyStore {
  const sorted = [...pairs].sort((a, b) => a.createdAt - b.createdAt);
  const byKid = new Map(sorted.map((p) => [p.kid, p]));
  return {
    current: () => {
      const newest = sorted.at(-1);
      if (!newest) throw keyError('KEY_NOT_FOUND', 'no active signing key');
      return newest;
    },
    get: (kid) => byKid.get(kid),
    active: () => sorted,
  };
}

/** A fresh in-memory key pair (tests and ephemeral use). */
export async function generateKeyPairInMemory(
  alg: SigningAlg = 'EdDSA',
  now = Date.now(),
): Promise<KeyPair> {
  return importPair(await generateFile(alg, now));
}
