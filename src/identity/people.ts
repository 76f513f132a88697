import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { safeEqual, sha256Hex } from '../crypto/index.js';
import type { AdminKeyRecord, PersonRole, Store } from '../store/index.js';

/** People's API keys: `ghk_<id>_<secret>`; only the secret's SHA-256 is stored. */
const KEY_FORMAT = /^ghk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export const personName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/,
    'must be 1-64 letters, digits, ".", "_", "@" or "-"',
  );
export const personRole = z.enum(['admin', 'approver']);
/** Group names, as `@approvers("finance, security")` policies name them. */
export const personGroups = z
  .array(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'group names are lowercase, e.g. finance'))
  .max(32);

export type PersonCheck =
  | { readonly ok: true; readonly person: AdminKeyRecord }
  | { readonly ok: false; readonly message: string };

/**
 * Creates a person's API key. The key is returned once and never stored; only a hash of it is.
 * @example const { key } = await createAdminKey(store, 'alice', 'approver', Date.now(), ['finance']);
 */
export async function createAdminKey(
  store: Store,
  name: string,
  role: PersonRole,
  now: number,
  groups: readonly string[] = [],
): Promise<{ key: string; record: AdminKeyRecord }> {
  const id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  const record: AdminKeyRecord = {
    id,
    name,
    role,
    secretHash: sha256Hex(secret),
    createdAt: now,
    groups: [...groups],
  };
  await store.createAdminKey(record);
  return { key: `ghk_${id}_${secret}`, record };
}

/** Whether a presented string looks like a person's key (as opposed to an agent credential). */
export function looksLikeAdminKey(presented: string): boolean {
  return presented.startsWith('ghk_');
}

/** Checks a presented key in constant time against its stored hash. */
export async function checkAdminKey(store: Store, presented: string): Promise<PersonCheck> {
  const m = KEY_FORMAT.exec(presented);
  if (!m) return { ok: false, message: 'the key is not a Gatehouse person key' };
  const record = await store.getAdminKey(m[1] ?? '');
  // Compare against a dummy hash when the id is unknown so both paths cost the same.
  const ok = safeEqual(record?.secretHash ?? sha256Hex('unknown'), sha256Hex(m[2] ?? ''));
  if (!record || !ok) return { ok: false, message: 'the key is unknown or wrong' };
  return { ok: true, person: record };
}
