/**
 * The audit log as a service: the store appends entries (inside the transactions that change
 * state); this keeps the Merkle tree over them, signs checkpoints, and answers proofs.
 */
import type { Logger } from 'pino';
import { GatehouseError } from '../errors/index.js';
import type { AuditReceipt, CheckpointRecord, PlacedEntry, Store } from '../store/index.js';
import { formatCheckpoint, openCheckpoint } from './checkpoint.js';
import type { LogKey } from './log-key.js';
import { signNote, type NoteSigner } from './note.js';
import { MerkleTree } from './tree.js';

export type AuditLogErrorCode = 'AUDIT_LOG_TAMPERED' | 'AUDIT_NO_ENTRY' | 'AUDIT_BAD_RANGE';

export interface AuditLogDeps {
  readonly store: Store;
  readonly key: LogKey;
  readonly now: () => number;
  readonly log?: Logger;
  /** A checkpoint is signed at least this often while entries arrive. */
  readonly intervalMs?: number;
}

/** An entry with its inclusion proof against a signed checkpoint. */
export interface ProvenEntry {
  readonly entry: PlacedEntry;
  readonly treeSize: number;
  readonly proof: Uint8Array[];
  readonly checkpoint: CheckpointRecord;
}

/** A receipt as callers see it (MCP `_meta`, the decision API): where to fetch the proof. */
export function receiptJson(r: AuditReceipt): { index: number; leaf_hash: string } {
  return { index: r.index, leaf_hash: r.leafHash };
}

const auditError = (code: AuditLogErrorCode, message: string) =>
  new GatehouseError<AuditLogErrorCode>(code, message);

/** @example const log = new AuditLog({ store, key, now: Date.now }); await log.checkpoint(); */
export class AuditLog {
  private readonly tree = new MerkleTree();
  private syncing: Promise<number> | undefined;
  private checked = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: AuditLogDeps) {}

  get origin(): string {
    return this.deps.key.origin;
  }

  get vkey(): string {
    return this.deps.key.vkey;
  }

  /** The log key's signer, for attestations over this log's entries. */
  get signer(): NoteSigner {
    return this.deps.key.signer;
  }

  /** Brings the tree up to the store (other processes append too); returns the size. */
  sync(): Promise<number> {
    // One catch-up at a time: two would append the same leaves twice.
    this.syncing ??= this.catchUp().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async catchUp(): Promise<number> {
    const { store } = this.deps;
    const size = await store.auditSize();
    const step = 65_536;
    for (let from = this.tree.size; from < size; from += step) {
      this.tree.appendAll(await store.auditLeafHashes(from, Math.min(size, from + step)));
    }
    if (!this.checked) {
      this.checked = true;
      await this.checkAgainstLatest();
    }
    return this.tree.size;
  }

  /** The stored log must still be the one the last checkpoint signed; never extend a forged one. */
  private async checkAgainstLatest(): Promise<void> {
    const latest = await this.deps.store.latestCheckpoint();
    if (!latest) return;
    const opened = openCheckpoint(latest.note, [this.deps.key.verifier], this.origin);
    const ok =
      opened.ok &&
      opened.checkpoint.size <= this.tree.size &&
      Buffer.from(this.tree.root(opened.checkpoint.size)).equals(opened.checkpoint.rootHash);
    if (!ok) {
      this.checked = false;
      throw auditError(
        'AUDIT_LOG_TAMPERED',
        `the stored audit log no longer matches its checkpoint of size ${latest.size}; ` +
          'run "gatehouse audit verify" on an export to find the first changed entry',
      );
    }
  }

  /** Signs a checkpoint over every entry now in the log (or returns the latest if nothing is new). */
  async checkpoint(): Promise<CheckpointRecord> {
    const { store, key, now } = this.deps;
    const size = await this.sync();
    const latest = await store.latestCheckpoint();
    if (latest && latest.size >= size) return latest;
    const text = formatCheckpoint({ origin: key.origin, size, rootHash: this.tree.root(size) });
    const record: CheckpointRecord = { size, time: now(), note: signNote(text, key.signer) };
    await store.addCheckpoint(record);
    this.deps.log?.info({ size }, 'audit checkpoint signed');
    return (await store.latestCheckpoint()) ?? record;
  }

  /**
   * Entry `index` with its inclusion proof against a signed checkpoint: the one of `treeSize` when
   * given (it must have been issued), else the latest (signed now if it does not cover the entry).
   */
  async prove(index: number, treeSize?: number): Promise<ProvenEntry> {
    const { store } = this.deps;
    const size = await this.sync();
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw auditError('AUDIT_NO_ENTRY', `the audit log has no entry ${index} (size ${size})`);
    }
    let checkpoint: CheckpointRecord | undefined;
    if (treeSize !== undefined) {
      checkpoint = (await store.listCheckpoints()).find((c) => c.size === treeSize);
      if (!checkpoint || treeSize <= index) {
        throw auditError(
          'AUDIT_BAD_RANGE',
          `no checkpoint of size ${treeSize} covering entry ${index} was issued`,
        );
      }
    } else {
      checkpoint = await store.latestCheckpoint();
      if (!checkpoint || checkpoint.size <= index) checkpoint = await this.checkpoint();
    }
    const [entry] = await store.auditEntries(index, 1);
    if (!entry) throw auditError('AUDIT_NO_ENTRY', `the audit log has no entry ${index}`);
    return {
      entry,
      treeSize: checkpoint.size,
      proof: this.inclusionProof(index, checkpoint.size),
      checkpoint,
    };
  }

  /** Inclusion proof from the tree as last synced (no store read); throws RangeError when out of range. */
  inclusionProof(index: number, treeSize: number): Uint8Array[] {
    return this.tree.inclusion(index, treeSize);
  }

  /** RFC 9162 consistency proof between two tree sizes of this log. */
  async consistency(size1: number, size2: number): Promise<Uint8Array[]> {
    const size = await this.sync();
    const valid = (n: number) => Number.isSafeInteger(n) && n >= 1 && n <= size;
    if (!valid(size1) || !valid(size2) || size1 > size2) {
      throw auditError(
        'AUDIT_BAD_RANGE',
        `a consistency proof needs 1 <= from <= to <= ${size} (the log size)`,
      );
    }
    return this.tree.consistency(size1, size2);
  }

  /** Signs a checkpoint every interval while entries arrive. */
  start(): void {
    const every = this.deps.intervalMs;
    if (every === undefined || this.timer) return;
    this.timer = setInterval(() => {
      this.checkpoint().catch((err: unknown) => {
        this.deps.log?.error({ err: (err as Error).message }, 'cannot sign an audit checkpoint');
      });
    }, every);
    this.timer.unref();
  }

  /** Stops the timer and signs a last checkpoint over everything appended. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.checkpoint();
  }
}
