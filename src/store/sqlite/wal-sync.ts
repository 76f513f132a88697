/**
 * Group commit for a connection that commits with `synchronous = NORMAL`. Such a commit is in the
 * WAL file when it returns: the OS holds it, so a crash of Gatehouse loses nothing, but a power
 * loss could. WalSync makes commits durable with one fdatasync of the WAL on libuv's thread pool,
 * shared by every commit made before it started. It starts one as soon as someone waits for a
 * commit (flush), and within LAZY_MS of a commit nobody waits for (which the next call's sync
 * most often covers first): the event loop never waits for a sync.
 * (SQLite's automatic checkpoint still runs, and syncs, inside the commit that crosses it.)
 *
 * Syncing our own descriptor is enough because fsync flushes the file, not the writes made through
 * one descriptor. SQLite resets the WAL in place after a checkpoint (which syncs by itself) and
 * deletes it only when the last connection closes, which cannot happen while ours is open; the
 * inode is still checked before each sync, so a replaced file is reopened rather than trusted.
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';

/** How long a commit nobody waits for may stay unsynced, at most (plus the sync itself). */
export const LAZY_MS = 5;

/** fdatasync's shape, injectable so that tests can make the disk fail. */
export type SyncFile = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;

interface Waiter {
  /** The commit count this waiter needs on disk. */
  readonly upTo: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

const why = (err: unknown) =>
  (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));

/**
 * Syncs the WAL file as it is now, with every process's commits in it: what was read from the log
 * is then on disk, even entries another process (a sibling, or one that crashed) committed without
 * syncing them yet. No WAL, nothing to sync.
 */
export async function syncWalFile(walPath: string, syncFile: SyncFile = fdatasync): Promise<void> {
  let fd: number;
  try {
    fd = openSync(walPath, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    await new Promise<void>((resolve, reject) =>
      syncFile(fd, (err) => (err ? reject(err) : resolve())),
    );
  } finally {
    closeSync(fd);
  }
}

/** @example const wal = new WalSync(`${path}-wal`); commitSomething(); wal.committed(); await wal.flush(); */
export class WalSync {
  private fd: number | undefined;
  private committedCount = 0;
  private syncedCount = 0;
  private syncing = false;
  private waiters: Waiter[] = [];
  private failure: Error | undefined;
  /** The sync promised to commits nobody waits for, if none has started since. */
  private lazy: NodeJS.Timeout | undefined;

  constructor(
    private readonly walPath: string,
    private readonly syncFile: SyncFile = fdatasync,
  ) {}

  /**
   * Set once a sync failed. After a failed fsync the kernel may have dropped the unwritten pages,
   * so nothing committed since the last good sync can be promised: every later append is refused
   * until Gatehouse restarts (and SQLite recovers the WAL).
   */
  get failed(): Error | undefined {
    return this.failure;
  }

  /**
   * Notes a commit, to be synced within LAZY_MS: most often by a sync a caller asks for meanwhile
   * (flush starts one at once), which covers it too.
   */
  committed(): void {
    this.committedCount += 1;
    this.lazy ??= setTimeout(() => this.start(), LAZY_MS);
    this.lazy.unref();
  }

  /** Resolves once every commit noted so far is on disk; rejects if that cannot be. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.syncedCount >= this.committedCount) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ upTo: this.committedCount, resolve, reject });
      this.start();
    });
  }

  /**
   * Waits for what is committed to be on disk, then closes the descriptor. A failed sync is not
   * thrown again here: every append that waited for it was refused with it already.
   */
  async close(): Promise<void> {
    try {
      await this.flush().catch(() => undefined);
    } finally {
      clearTimeout(this.lazy);
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private start(): void {
    if (this.syncing || this.failure || this.syncedCount >= this.committedCount) return;
    // This sync covers every commit noted so far, the lazy ones included.
    clearTimeout(this.lazy);
    this.lazy = undefined;
    let fd: number;
    try {
      fd = this.descriptor();
    } catch (err) {
      this.fail(err);
      return;
    }
    const target = this.committedCount;
    this.syncing = true;
    this.syncFile(fd, (err) => {
      this.syncing = false;
      if (err) return this.fail(err);
      this.syncedCount = target;
      const still: Waiter[] = [];
      for (const w of this.waiters) {
        if (w.upTo <= target) w.resolve();
        else still.push(w);
      }
      this.waiters = still;
      // Commits nobody waits for keep the lazy timer committed() armed: a sync started here would
      // wake the thread pool just as the gateway answers.
      if (still.length > 0) this.start();
    });
  }

  /** The WAL's descriptor, reopened if the file at the path is no longer the one we hold. */
  private descriptor(): number {
    const ino = statSync(this.walPath).ino;
    if (this.fd !== undefined && fstatSync(this.fd).ino === ino) return this.fd;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    // Read-write without creating or truncating: Windows cannot flush a read-only handle.
    this.fd = openSync(this.walPath, 'r+');
    return this.fd;
  }

  private fail(err: unknown): void {
    this.failure = new Error(
      `the audit log could not be synced to disk (${why(err)}); Gatehouse refuses calls until it is restarted`,
    );
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
  }
}
