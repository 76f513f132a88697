import type {
  AdminKeyRecord,
  LockdownRecord,
  PersonRole,
  Revocation,
  RevocationKind,
  Store,
} from '../types.js';
import { settle, type Db } from './db.js';
import { eventWriter, writeTx, type AppendEntries } from './ledger.js';

type ControlOps = Pick<
  Store,
  | 'addRevocation'
  | 'listRevocations'
  | 'createAdminKey'
  | 'getAdminKey'
  | 'listAdminKeys'
  | 'addLockdown'
  | 'liftLockdown'
  | 'listLockdowns'
  | 'recordEvent'
  | 'listEvents'
  | 'changeMarker'
>;

interface RevocationRow {
  seq: number;
  kind: RevocationKind;
  value: string;
  reason: string;
  time_ms: number;
  actor: string;
}
interface KeyRow {
  id: string;
  name: string;
  role: PersonRole;
  secret_hash: string;
  created_ms: number;
  groups: string;
}
interface LockdownRow {
  pattern: string;
  reason: string;
  actor: string;
  time_ms: number;
}
interface EventRow {
  time_ms: number;
  kind: string;
  actor: string;
  detail: string;
}

const toKey = (r: KeyRow): AdminKeyRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  secretHash: r.secret_hash,
  createdAt: r.created_ms,
  groups: JSON.parse(r.groups) as string[],
});

/** Revocations, people's keys and administrative events in SQLite. */
export function controlOps(db: Db, appendEntries: AppendEntries): ControlOps {
  const insertRevocation = db.prepare(
    `INSERT OR IGNORE INTO revocations (kind, value, reason, time_ms, actor) VALUES (?, ?, ?, ?, ?)`,
  );
  const revocationsAfter = db.prepare<[number], RevocationRow>(
    'SELECT * FROM revocations WHERE seq > ? ORDER BY seq',
  );
  const insertKey = db.prepare(
    'INSERT INTO admin_keys (id, name, role, secret_hash, created_ms, groups) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const keyById = db.prepare<[string], KeyRow>('SELECT * FROM admin_keys WHERE id = ?');
  const marker = db.prepare('SELECT seq FROM change_marker WHERE id = 1').pluck();
  // Every event is also an audit entry, written in the same transaction as the change.
  const event = eventWriter(db, appendEntries);
  const recordEvent = writeTx(db, event);
  const addRevocation = writeTx(db, (r: Revocation): boolean => {
    const res = insertRevocation.run(r.kind, r.value, r.reason, r.time, r.by);
    if (res.changes === 0) return false;
    event({
      time: r.time,
      kind: 'revocation.add',
      actor: r.by,
      detail: { kind: r.kind, value: r.value, reason: r.reason },
    });
    return true;
  });
  const createKey = writeTx(db, (k: AdminKeyRecord) => {
    insertKey.run(k.id, k.name, k.role, k.secretHash, k.createdAt, JSON.stringify(k.groups));
    event({
      time: k.createdAt,
      kind: 'admin_key.create',
      actor: 'local',
      detail: { id: k.id, name: k.name, role: k.role, groups: k.groups },
    });
  });
  const insertLockdown = db.prepare(
    'INSERT OR IGNORE INTO lockdowns (pattern, reason, actor, time_ms) VALUES (?, ?, ?, ?)',
  );
  const deleteLockdown = db.prepare('DELETE FROM lockdowns WHERE pattern = ?');
  const addLockdown = writeTx(db, (l: LockdownRecord): boolean => {
    if (insertLockdown.run(l.pattern, l.reason, l.by, l.time).changes === 0) return false;
    event({
      time: l.time,
      kind: 'lockdown.add',
      actor: l.by,
      detail: { pattern: l.pattern, reason: l.reason },
    });
    return true;
  });
  const liftLockdown = writeTx(db, (pattern: string, by: string, time: number): boolean => {
    if (deleteLockdown.run(pattern).changes === 0) return false;
    event({ time, kind: 'lockdown.lift', actor: by, detail: { pattern } });
    return true;
  });

  return {
    addLockdown: (l) => settle(() => addLockdown(l)),
    liftLockdown: (pattern, by, time) => settle(() => liftLockdown(pattern, by, time)),
    listLockdowns: () =>
      settle(() =>
        (
          db.prepare('SELECT * FROM lockdowns ORDER BY time_ms, pattern').all() as LockdownRow[]
        ).map((r) => ({ pattern: r.pattern, reason: r.reason, by: r.actor, time: r.time_ms })),
      ),
    addRevocation: (r) => settle(() => addRevocation(r)),
    listRevocations: (afterSeq) =>
      settle(() =>
        revocationsAfter.all(afterSeq).map((row) => ({
          seq: row.seq,
          revocation: {
            kind: row.kind,
            value: row.value,
            reason: row.reason,
            time: row.time_ms,
            by: row.actor,
          },
        })),
      ),
    createAdminKey: (k) => settle(() => createKey(k)),
    getAdminKey: (id) =>
      settle(() => {
        const row = keyById.get(id);
        return row ? toKey(row) : undefined;
      }),
    listAdminKeys: () =>
      settle(() =>
        (db.prepare('SELECT * FROM admin_keys ORDER BY created_ms').all() as KeyRow[]).map(toKey),
      ),
    recordEvent: (e) => settle(() => recordEvent(e)),
    listEvents: (limit) =>
      settle(() =>
        (db.prepare('SELECT * FROM events ORDER BY seq DESC LIMIT ?').all(limit) as EventRow[]).map(
          (r) => ({
            time: r.time_ms,
            kind: r.kind,
            actor: r.actor,
            detail: JSON.parse(r.detail) as Record<string, unknown>,
          }),
        ),
      ),
    // Bumped with every event (revocation, key, lockdown, ...): a one-row read, microseconds.
    changeMarker: () => settle(() => marker.get() as number),
  };
}
