/**
 * The audit log's signing key: Ed25519, separate from the credential keys (rotating those must not
 * touch the log), stored as a C2SP/Go note signer key `PRIVATE+KEY+<name>+<key ID>+<base64>` in a
 * 0600 file. The key name is the log's origin, so checkpoints name the log they belong to.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ed25519PrivateKeyFromSeed, newEd25519Seed } from '../crypto/index.js';
import { GatehouseError } from '../errors/index.js';
import {
  decodeBase64,
  noteSigner,
  noteVerifier,
  verifierKey,
  type NoteSigner,
  type NoteVerifier,
} from './note.js';

export type LogKeyErrorCode =
  'LOG_KEY_INVALID' | 'LOG_KEY_PERMISSIONS' | 'LOG_KEY_UNUSABLE' | 'LOG_ORIGIN_MISMATCH';

const ALG_ED25519 = 0x01;

/** The log key: signs checkpoints and attestations; `vkey` is what verifiers are given. */
export interface LogKey {
  readonly origin: string;
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  /** The C2SP verifier key string. */
  readonly vkey: string;
}

const fail = (code: LogKeyErrorCode, message: string, cause?: unknown) =>
  new GatehouseError<LogKeyErrorCode>(code, message, cause === undefined ? undefined : { cause });

function fromSeed(origin: string, seed: Uint8Array): LogKey {
  const privateKey = ed25519PrivateKeyFromSeed(seed);
  return {
    origin,
    signer: noteSigner(origin, privateKey),
    verifier: noteVerifier(origin, privateKey),
    vkey: verifierKey(origin, privateKey),
  };
}

/** Parses a signer key string; never echoes the key (it is a secret) in an error. */
export function parseSignerKey(text: string, path: string): LogKey {
  // The base64 key may itself hold '+': split off the four leading fields only.
  const parts = text.trim().split('+');
  const [p, k, name, hash] = parts;
  const bytes = parts.length < 5 ? undefined : decodeBase64(parts.slice(4).join('+'));
  if (p !== 'PRIVATE' || k !== 'KEY' || !name || !hash || !bytes) {
    throw fail('LOG_KEY_INVALID', `${path} is not a note signer key (PRIVATE+KEY+<name>+…)`);
  }
  if (bytes[0] !== ALG_ED25519 || bytes.length !== 33) {
    throw fail('LOG_KEY_INVALID', `${path} does not hold an Ed25519 key`);
  }
  let logKey: LogKey;
  try {
    logKey = fromSeed(name, bytes.subarray(1));
  } catch (err) {
    throw fail('LOG_KEY_INVALID', `${path} has an invalid key name or key`, err);
  }
  if (logKey.signer.keyId !== parseInt(hash, 16) || !/^[0-9a-f]{8}$/.test(hash)) {
    throw fail('LOG_KEY_INVALID', `${path}: the key ID does not match its name and key`);
  }
  return logKey;
}

function formatSignerKey(origin: string, seed: Uint8Array): string {
  const { signer } = fromSeed(origin, seed);
  const key = Buffer.concat([Buffer.from([ALG_ED25519]), seed]).toString('base64');
  return `PRIVATE+KEY+${origin}+${signer.keyId.toString(16).padStart(8, '0')}+${key}\n`;
}

/**
 * Opens the log key at `path`, creating it for `origin` on first use. A key made for another
 * origin is refused: one log, one name, or verifiers would see two logs.
 * @example const key = openLogKey('.gatehouse/keys/audit-log.key', 'gatehouse.local/audit');
 */
export function openLogKey(path: string, origin: string): LogKey {
  let text: string | undefined;
  try {
    if ((statSync(path).mode & 0o077) !== 0) {
      throw fail(
        'LOG_KEY_PERMISSIONS',
        `the audit log key ${path} is readable by others; run: chmod 600 ${path}`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof GatehouseError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw fail('LOG_KEY_UNUSABLE', `cannot read the audit log key ${path}`, err);
    }
  }
  if (text !== undefined) {
    const key = parseSignerKey(text, path);
    if (key.origin !== origin) {
      throw fail(
        'LOG_ORIGIN_MISMATCH',
        `the audit log key ${path} is for origin "${key.origin}" but audit.origin is "${origin}"; ` +
          'a log keeps one origin (set audit.origin back, or move the key away to start a new log)',
      );
    }
    return key;
  }
  const seed = newEd25519Seed();
  let body: string;
  try {
    body = formatSignerKey(origin, seed);
  } catch (err) {
    throw fail('LOG_KEY_INVALID', `audit.origin "${origin}" cannot name a log key`, err);
  }
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx': two processes starting together must not each write a different key.
    writeFileSync(path, body, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return openLogKey(path, origin);
    throw fail('LOG_KEY_UNUSABLE', `cannot create the audit log key ${path}`, err);
  }
  return fromSeed(origin, seed);
}
