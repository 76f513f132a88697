/** `gatehouse audit ...`: checkpoints, attestations and the live tail of the audit log. */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { attestEntry, leafHash, verifyBundle, writeBundle, type AuditLog } from '../audit/index.js';
import { loadConfig } from '../config/index.js';
import { toHex } from '../crypto/index.js';
import { openAuditLog, openLocalAdmin } from '../server/index.js';
import type { PlacedEntry, Store } from '../store/index.js';
import { adminKeyFromEnv, bad, remoteCall } from './common.js';

/** Runs `work` against the log named by the config (on this host), then closes the store. */
export async function withLocalLog<T>(
  configPath: string,
  work: (log: AuditLog, store: Store) => Promise<T>,
): Promise<T> {
  const config = loadConfig(configPath);
  const admin = await openLocalAdmin(config);
  try {
    const log = await openAuditLog(config, admin.store, undefined, Date.now);
    return await work(log, admin.store);
  } finally {
    await admin.close();
  }
}

/** `gatehouse audit checkpoint`: signs a checkpoint over every entry now and prints it. */
export async function auditCheckpointCommand(o: { config: string; url?: string }): Promise<void> {
  if (o.url) {
    const res = await fetch(new URL('v1/audit/checkpoint', withSlash(o.url)), {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKeyFromEnv('an admin key (ghk_…)')}` },
    }).catch((err: unknown) => {
      throw bad(`cannot reach ${o.url}: ${(err as Error).message}`);
    });
    if (!res.ok) throw bad(`${o.url} refused the checkpoint (HTTP ${res.status})`);
    process.stdout.write(await res.text());
    return;
  }
  const note = await withLocalLog(o.config, async (log) => (await log.checkpoint()).note);
  process.stdout.write(note);
}

/** Problems that mean the folder could not be read as an export at all. */
const BUNDLE_PROBLEMS = new Set(['missing_dir', 'missing_file', 'unreadable', 'too_large']);

/** `1 entry`, `2 entries`. */
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`);

function parseIndex(text: string): number {
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(text)) throw bad(`"${text}" is not an entry index`);
  return Number(text);
}

/** `gatehouse audit attest INDEX`: a DSSE envelope (in-toto Statement v1) for one entry. */
export async function auditAttestCommand(index: string, o: { config: string }): Promise<void> {
  const i = parseIndex(index);
  const envelope = await withLocalLog(o.config, async (log) => {
    const size = await log.sync();
    if (i >= size) throw bad(`the audit log has ${size} entries; there is no entry ${i}`);
    const p = await log.prove(i);
    return attestEntry(
      {
        leaf: p.entry.leaf,
        index: i,
        treeSize: p.treeSize,
        proof: p.proof,
        checkpoint: p.checkpoint.note,
      },
      log.signer,
    );
  });
  process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
}

interface TailLine {
  readonly index: number;
  readonly leafHash: string;
  readonly leaf: string;
}

const fromPlaced = (e: PlacedEntry): TailLine => ({
  index: e.index,
  leafHash: toHex(e.hash),
  leaf: Buffer.from(e.leaf).toString('utf8'),
});

/** One line for people: index, time, type and what happened. */
export function describeEntry(line: TailLine): string {
  const e = JSON.parse(line.leaf) as Record<string, unknown>;
  const agent = e.agent as { name?: string; id?: string } | undefined;
  const tool = (e.tool as { name?: string } | undefined)?.name ?? '';
  const who = agent?.name ?? agent?.id ?? '';
  let what: string;
  if (e.type === 'decision') what = `${String(e.outcome)} ${tool} for ${who}`;
  else if (e.type === 'result')
    what = `${String(e.status)} ${tool} (decision ${String(e.decision)})`;
  else what = `${String(e.kind)} by ${String(e.actor)}`;
  return `${String(line.index).padStart(7)}  ${String(e.time)}  ${String(e.type).padEnd(8)}  ${what}`;
}

/**
 * The JSON form for SIEMs: the entry, its index and leaf hash. Canonical JSON of `entry` gives the
 * leaf bytes back, so a copy can still be checked against the log.
 */
const jsonLine = (l: TailLine) =>
  `{"index":${l.index},"leaf_hash":"${l.leafHash}","entry":${l.leaf}}\n`;

export interface TailOptions {
  config: string;
  lines: string;
  follow?: boolean;
  json?: boolean;
  url?: string;
}

/** Where tail reads entries: the local store, or a remote Gatehouse's audit API. */
interface EntrySource {
  size(): Promise<number>;
  page(from: number, limit: number): Promise<TailLine[]>;
}

const PAGE = 500;
const POLL_MS = 1000;

async function follow(source: EntrySource, o: TailOptions, lines: number): Promise<void> {
  let next = Math.max(0, (await source.size()) - lines);
  for (;;) {
    const batch = await source.page(next, PAGE);
    for (const l of batch) process.stdout.write(o.json ? jsonLine(l) : `${describeEntry(l)}\n`);
    next += batch.length;
    if (batch.length === PAGE) continue;
    if (!o.follow) return;
    await sleep(POLL_MS);
  }
}

/** `gatehouse audit tail`: the last entries, then (with --follow) each new one as it lands. */
export async function auditTailCommand(o: TailOptions): Promise<void> {
  const lines = parseIndex(o.lines);
  if (o.url) return follow(remoteSource(o.url), o, lines);
  const admin = await openLocalAdmin(loadConfig(o.config));
  try {
    await follow(
      {
        size: () => admin.store.auditSize(),
        page: async (from, limit) => (await admin.store.auditEntries(from, limit)).map(fromPlaced),
      },
      o,
      lines,
    );
  } finally {
    await admin.close();
  }
}

/** The audit API of a remote Gatehouse; each entry is checked against its leaf hash. */
function remoteSource(url: string): EntrySource {
  const key = adminKeyFromEnv('an admin key (ghk_…)');
  const get = (from: number, limit: number) =>
    remoteCall(url, `v1/audit/entries?from=${from}&limit=${limit}`, undefined, {
      adminKey: key,
      method: 'GET',
    });
  return {
    size: async () => (await get(0, 1)).size as number,
    page: async (from, limit) => {
      const body = await get(from, limit);
      return (body.entries as { index: number; leaf_hash: string; leaf: string }[]).map((e) => {
        const hash = toHex(leafHash(new TextEncoder().encode(e.leaf)));
        if (hash !== e.leaf_hash) {
          throw bad(`${url} sent entry ${e.index} with a leaf hash that does not match its bytes`);
        }
        return { index: e.index, leafHash: hash, leaf: e.leaf };
      });
    },
  };
}

/** Entries [0, size) read page by page from the store (an export never holds the log in memory). */
async function* storedLeaves(store: Store, size: number): AsyncGenerator<Uint8Array> {
  for (let from = 0; from < size;) {
    const page = await store.auditEntries(from, Math.min(1000, size - from));
    if (page.length === 0) throw bad(`the audit log ends at entry ${from}, before ${size}`);
    for (const e of page) yield e.leaf;
    from += page.length;
    if (from % 100_000 < page.length) process.stderr.write(`  ${from} of ${size} entries…\n`);
  }
}

/** `gatehouse audit export --out DIR`: a bundle anyone can verify offline. */
export async function auditExportCommand(o: {
  config: string;
  out: string;
  force?: boolean;
}): Promise<void> {
  const written = await withLocalLog(o.config, async (log, store) => {
    // Sign over everything first, so that the export covers every entry written so far.
    const latest = await log.checkpoint();
    const checkpoints = (await store.listCheckpoints()).map((c) => c.note);
    return writeBundle(
      o.out,
      { entries: storedLeaves(store, latest.size), checkpoints, vkey: log.vkey },
      { overwrite: o.force === true },
    );
  });
  process.stdout.write(
    `Exported ${count(written.entries, 'entry', 'entries')} and ${count(written.checkpoints, 'checkpoint', 'checkpoints')} to ${o.out}\n` +
      `Verify it anywhere with: gatehouse audit verify ${o.out} --key ${o.out}/log.vkey\n`,
  );
}

/** `gatehouse audit verify DIR`: exit 0 when the bundle is intact, 1 naming the first bad entry. */
export async function auditVerifyCommand(
  dir: string,
  o: { key?: string; json?: boolean },
  setExit: (code: number) => void,
): Promise<void> {
  let key: string | undefined;
  if (o.key !== undefined) {
    // A key string, or a file holding one (e.g. a log.vkey obtained out of band).
    key = o.key.includes('+') && !existsSync(o.key) ? o.key : readKeyFile(o.key);
  }
  const started = performance.now();
  const report = await verifyBundle(dir, key === undefined ? {} : { key });
  const seconds = (performance.now() - started) / 1000;
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else if (report.ok) {
    process.stdout.write(
      `OK: ${count(report.entries, 'entry', 'entries')} and ${count(report.checkpoints, 'checkpoint', 'checkpoints')} verified in ${seconds.toFixed(2)} s\n` +
        `    log ${report.keyName} (key ${report.keyId}), tree size ${report.size}, root ${report.rootHash}\n` +
        (report.keyFromBundle
          ? '    note: the key came from the bundle itself; pass --key with a key you trust to pin it\n'
          : ''),
    );
  } else {
    const first =
      report.firstBadIndex === undefined ? '' : ` First bad entry: ${report.firstBadIndex}.`;
    const unreadable = report.problems.every((p) => BUNDLE_PROBLEMS.has(p.code));
    process.stdout.write(
      unreadable
        ? `FAILED: ${dir} is not a readable audit export.\n`
        : `FAILED: the audit log in ${dir} is not as signed.${first}\n`,
    );
    // Each message already names its entry (and line) or checkpoint file.
    for (const p of report.problems) process.stdout.write(`  - ${p.message}\n`);
  }
  setExit(report.ok ? 0 : 1);
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw bad(
      `cannot read the key file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}
