import { loadConfig } from '../config/index.js';
import { createAdminKey, personGroups, personName, personRole } from '../identity/index.js';
import { openLocalAdmin } from '../server/index.js';
import type { RevocationKind } from '../store/index.js';
import { adminKeyFromEnv, bad, OptionCheck, remoteCall } from './common.js';
import { table } from './output.js';

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

export async function keysListCommand(o: { config: string }): Promise<void> {
  const admin = await openLocalAdmin(loadConfig(o.config));
  try {
    const keys = admin.authority.listKeys();
    process.stdout.write(
      `${table(
        ['KID', 'ALG', 'CREATED', 'STATE'],
        keys.map((k) => [
          k.kid,
          k.alg,
          when(k.createdAt),
          k.retiredAt !== undefined
            ? `retired ${when(k.retiredAt)}`
            : k.current
              ? 'signing'
              : 'verifying',
        ]),
      )}\n`,
    );
  } finally {
    await admin.close();
  }
}

export async function keysRotateCommand(o: { config: string; url?: string }): Promise<void> {
  if (o.url) {
    const res = await remoteCall(o.url, 'v1/keys/rotate', {}, { adminKey: adminKeyFromEnv() });
    const k = res.key as { kid: string; alg: string };
    process.stdout.write(
      `New signing key ${k.kid} (${k.alg}) at ${o.url}. Older keys keep verifying until retired.\n`,
    );
    return;
  }
  const admin = await openLocalAdmin(loadConfig(o.config));
  try {
    const k = await admin.authority.rotateKey('local');
    process.stdout.write(
      `New signing key ${k.kid} (${k.alg}). Older keys keep verifying until retired: gatehouse keys retire KID\n`,
    );
  } finally {
    await admin.close();
  }
}

export async function keysRetireCommand(
  kid: string,
  o: { config: string; url?: string },
): Promise<void> {
  if (o.url) {
    await remoteCall(
      o.url,
      `v1/keys/${encodeURIComponent(kid)}/retire`,
      {},
      { adminKey: adminKeyFromEnv() },
    );
    process.stdout.write(
      `Retired ${kid} at ${o.url}: credentials signed with it are refused from the next call.\n`,
    );
    return;
  }
  const admin = await openLocalAdmin(loadConfig(o.config));
  try {
    await admin.authority.retireKey(kid, 'local');
    process.stdout.write(
      `Retired ${kid}: credentials signed with it are refused from the next call.\n`,
    );
  } finally {
    await admin.close();
  }
}

export interface RevokeOptions {
  config: string;
  jti?: string;
  agent?: string;
  run?: string;
  subtree?: string;
  reason: string;
  url?: string;
}

export async function revokeCommand(o: RevokeOptions): Promise<void> {
  const given = (['jti', 'agent', 'run', 'subtree'] as const).filter((k) => o[k] !== undefined);
  const check = new OptionCheck();
  if (given.length !== 1) check.problem('give exactly one of --jti, --agent, --run, --subtree');
  if (o.agent !== undefined && !/^[^@\s]+@[^@\s]+$/.test(o.agent))
    check.problem('--agent must be NAME@VERSION');
  if (!o.reason.trim()) check.problem('--reason must say why');
  check.done();
  const kind = given[0] as RevocationKind;
  const value = o[kind] ?? '';
  if (o.url) {
    await remoteCall(
      o.url,
      'v1/revocations',
      { [kind]: value, reason: o.reason },
      { adminKey: adminKeyFromEnv() },
    );
  } else {
    const admin = await openLocalAdmin(loadConfig(o.config));
    try {
      await admin.authority.revoke({ kind, value, reason: o.reason, by: 'local' });
    } finally {
      await admin.close();
    }
  }
  process.stdout.write(`Revoked ${kind} ${value}: refused from the next call.\n`);
}

export async function adminKeyCreateCommand(o: {
  config: string;
  name: string;
  role: string;
  groups?: string;
}): Promise<void> {
  const groups = (o.groups ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
  new OptionCheck()
    .field('--name', personName, o.name)
    .field('--role', personRole, o.role)
    .field('--groups', personGroups, groups)
    .done();
  const admin = await openLocalAdmin(loadConfig(o.config));
  try {
    const existing = await admin.store.listAdminKeys();
    if (existing.some((k) => k.name === o.name)) throw bad(`a key named ${o.name} already exists`);
    const { key } = await createAdminKey(
      admin.store,
      o.name,
      o.role as 'admin' | 'approver',
      Date.now(),
      groups,
    );
    process.stdout.write(`${key}\n`);
    process.stderr.write(
      `Key for ${o.name} (${o.role}${groups.length ? `; groups ${groups.join(', ')}` : ''}) created. It is shown once and stored only as a hash; keep it secret.\n`,
    );
  } finally {
    await admin.close();
  }
}

export async function adminKeyListCommand(o: { config: string }): Promise<void> {
  const admin = await openLocalAdmin(loadConfig(o.config));
  try {
    const keys = await admin.store.listAdminKeys();
    if (keys.length === 0) {
      process.stdout.write(
        'No person keys yet. Create one with: gatehouse admin key create --name NAME --role admin\n',
      );
      return;
    }
    process.stdout.write(
      `${table(
        ['ID', 'NAME', 'ROLE', 'GROUPS', 'CREATED'],
        keys.map((k) => [k.id, k.name, k.role, k.groups.join(',') || '-', when(k.createdAt)]),
      )}\n`,
    );
  } finally {
    await admin.close();
  }
}
