/**
 * The audit log in SQLite. Entries are placed (index, `prev`) inside the transaction that writes the
 * record they log, so no record exists without its entry and two processes sharing the file can
 * never give two entries one index.
 */
import {
  GENESIS_PREV,
  eventEntry,
  placeEntry,
  prepareEntry,
  type AuditReceipt,
  type PlacedEntry,
  type PreparedEntry,
} from '../entries.js';
import { toHex } from '../../crypto/index.js';
import type { AdminEvent, CheckpointRecord, Store } from '../types.js';
import { settle, type Db } from './db.js';

/** Appends entries; call only inside a write transaction (see `writeTx`). */
export type AppendEntries = (entries: readonly PreparedEntry[]) => AuditReceipt[];

interface TailRow {
  idx: number;
  hash: Buffer;
}
interface EntryRow {
  idx: number;
  leaf: Buffer;
  hash: Buffer;
}
interface CheckpointRow {
  size: number;
  time_ms: number;
  note: string;
}

/** The entry writer used by every operation that changes state. */
export function ledgerWriter(db: Db): AppendEntries {
  const tail = db.prepare<[], TailRow>(
    'SELECT idx, hash FROM audit_entries ORDER BY idx DESC LIMIT 1',
  );
  const insert = db.prepare(
    'INSERT INTO audit_entries (idx, time_ms, type, leaf, hash) VALUES (?, ?, ?, ?, ?)',
  );
  return (entries) => {
    if (!db.inTransaction) throw new Error('audit entries are appended inside a transaction');
    const last = tail.get();
    let index = last ? last.idx + 1 : 0;
    let prev = last ? last.hash.toString('hex') : GENESIS_PREV;
    const receipts: AuditReceipt[] = [];
    for (const entry of entries) {
      const placed = placeEntry(entry, index, prev);
      insert.run(index, entry.time, entry.type, placed.leaf, placed.hash);
      prev = toHex(placed.hash);
      receipts.push({ index, leafHash: prev });
      index += 1;
    }
    return receipts;
  };
}

/**
 * Records an administrative event (events table) with its audit entry; call inside a write
 * transaction, as part of the change it records.
 */
export function eventWriter(db: Db, appendEntries: AppendEntries): (e: AdminEvent) => AuditReceipt {
  const insert = db.prepare(
    'INSERT INTO events (time_ms, kind, actor, detail) VALUES (?, ?, ?, ?)',
  );
  // Other processes poll this (changeMarker) to reload revocations, keys and lockdowns.
  const bump = db.prepare('UPDATE change_marker SET seq = seq + 1 WHERE id = 1');
  return (e) => {
    insert.run(e.time, e.kind, e.actor, JSON.stringify(e.detail));
    bump.run();
    const [receipt] = appendEntries([prepareEntry(eventEntry(e))]);
    if (!receipt) throw new Error('the audit log returned no receipt for an event');
    return receipt;
  };
}

/**
 * A write transaction that takes the write lock at once (BEGIN IMMEDIATE): the log's tail is read
 * and extended under one lock, so a second process waits (busy_timeout) rather than failing.
 */
export function writeTx<A extends unknown[], R>(db: Db, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn);
  return (...args: A) => tx.immediate(...args);
}

type LedgerReads = Pick<
  Store,
  | 'auditSize'
  | 'auditLeafHashes'
  | 'auditEntries'
  | 'addCheckpoint'
  | 'listCheckpoints'
  | 'latestCheckpoint'
>;

const toCheckpoint = (r: CheckpointRow): CheckpointRecord => ({
  size: r.size,
  time: r.time_ms,
  note: r.note,
});

/** Reading the log and keeping its checkpoints. */
export function ledgerOps(db: Db): LedgerReads {
  const size = db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_entries').pluck();
  const hashes = db
    .prepare<[number, number], Buffer>(
      'SELECT hash FROM audit_entries WHERE idx >= ? AND idx < ? ORDER BY idx',
    )
    .pluck();
  const entries = db.prepare<[number, number], EntryRow>(
    'SELECT idx, leaf, hash FROM audit_entries WHERE idx >= ? ORDER BY idx LIMIT ?',
  );
  const insertCheckpoint = db.prepare(
    'INSERT OR IGNORE INTO audit_checkpoints (size, time_ms, note) VALUES (?, ?, ?)',
  );
  const latest = db.prepare<[], CheckpointRow>(
    'SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1',
  );
  return {
    auditSize: () => settle(() => size.get() as number),
    auditLeafHashes: (from, to) =>
      settle(() => {
        const rows = hashes.all(from, to);
        if (rows.length !== Math.max(0, to - from)) {
          throw new Error(`the audit log has no entries ${from}..${to - 1}`);
        }
        return new Uint8Array(Buffer.concat(rows));
      }),
    auditEntries: (from, limit) =>
      settle(() =>
        entries.all(from, limit).map((r): PlacedEntry => ({
          index: r.idx,
          leaf: new Uint8Array(r.leaf),
          hash: new Uint8Array(r.hash),
        })),
      ),
    addCheckpoint: (c) => settle(() => insertCheckpoint.run(c.size, c.time, c.note).changes > 0),
    listCheckpoints: () =>
      settle(() =>
        (db.prepare('SELECT * FROM audit_checkpoints ORDER BY size').all() as CheckpointRow[]).map(
          toCheckpoint,
        ),
      ),
    latestCheckpoint: () =>
      settle(() => {
        const row = latest.get();
        return row ? toCheckpoint(row) : undefined;
      }),
  };
}
