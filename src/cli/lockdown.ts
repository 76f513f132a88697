import { loadConfig } from '../config/index.js';
import { lockdownProblem } from '../policy/index.js';
import { openLocalAdmin } from '../server/index.js';
import { adminKeyFromEnv, bad, remoteCall } from './common.js';
import { table } from './output.js';

export interface LockdownOptions {
  config: string;
  reason?: string;
  lift?: boolean;
  list?: boolean;
  url?: string;
}

/** `gatehouse lockdown`: stops every matching tool for every agent from the next call on. */
export async function lockdownCommand(
  pattern: string | undefined,
  o: LockdownOptions,
): Promise<void> {
  if (o.list || pattern === undefined) return lockdownList(o);
  if (o.lift) {
    if (o.url) {
      await remoteCall(o.url, 'v1/lockdowns/lift', { pattern }, { adminKey: adminKeyFromEnv() });
    } else {
      const admin = await openLocalAdmin(loadConfig(o.config));
      try {
        if (!(await admin.store.liftLockdown(pattern, 'local', Date.now())))
          throw bad(`no lockdown on "${pattern}" (see: gatehouse lockdown --list)`);
      } finally {
        await admin.close();
      }
    }
    process.stdout.write(
      `Lifted the lockdown on ${pattern}; policy decides these tools again from the next call.\n`,
    );
    return;
  }
  if (o.reason === undefined) throw bad('--reason is required: say why, for the record');
  const problem = lockdownProblem(pattern, o.reason);
  if (problem) throw bad(problem);
  if (o.url) {
    await remoteCall(
      o.url,
      'v1/lockdowns',
      { pattern, reason: o.reason },
      { adminKey: adminKeyFromEnv() },
    );
  } else {
    const admin = await openLocalAdmin(loadConfig(o.config));
    try {
      const added = await admin.store.addLockdown({
        pattern,
        reason: o.reason.trim(),
        by: 'local',
        time: Date.now(),
      });
      if (!added) process.stdout.write(`${pattern} was already locked down.\n`);
    } finally {
      await admin.close();
    }
  }
  process.stdout.write(
    `Locked down ${pattern}: every matching tool is denied to every agent from the next call.\n`,
  );
}

async function lockdownList(o: LockdownOptions): Promise<void> {
  let rows: { pattern: string; reason: string; by: string; time: number }[];
  if (o.url) {
    const res = await remoteCall(o.url, 'v1/lockdowns', undefined, {
      adminKey: adminKeyFromEnv(),
      method: 'GET',
    });
    rows = res.lockdowns as typeof rows;
  } else {
    const admin = await openLocalAdmin(loadConfig(o.config));
    try {
      rows = await admin.store.listLockdowns();
    } finally {
      await admin.close();
    }
  }
  if (rows.length === 0) {
    process.stdout.write('No lockdowns.\n');
    return;
  }
  const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  process.stdout.write(
    `${table(
      ['PATTERN', 'SINCE', 'BY', 'REASON'],
      rows.map((l) => [l.pattern, when(l.time), l.by, l.reason]),
    )}\n`,
  );
}
