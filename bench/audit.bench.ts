/**
 * Audit log throughput: appends/s at concurrency 1 and 64 as a server makes them (group commit, the
 * WAL synced on the thread pool), durable ones and ones only written (a later durable append covers them),
 * inclusion proofs/s (from the in-memory tree, and end to end with the entry read from the store),
 * and offline verification of an exported bundle in entries/s. `npm run bench` runs it.
 * Targets (issue 6): >= 20,000 durable appends/s and >= 200,000 entries/s verified.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, openLogKey, verifyBundle, writeBundle } from '../src/audit/index.js';
import {
  openSqliteStore,
  type DecisionRecord,
  type ResultRecord,
  type Store,
} from '../src/store/index.js';
import { table } from './lib/report.js';

const SECONDS = Number(process.env.BENCH_AUDIT_SECONDS ?? 3);
const VERIFY_ENTRIES = Number(process.env.BENCH_AUDIT_VERIFY ?? 200_000);

/** A decision as the gateway records it (about 900 bytes of leaf). */
function decision(i: number): DecisionRecord {
  return {
    id: `dec_${i.toString(36).padStart(22, '0')}`,
    time: Date.now(),
    agent: {
      id: 'spiffe://bench.local/agent/support-bot/1.4.0/9f1c2e',
      name: 'support-bot',
      version: '1.4.0',
      principal: 'user:alice',
      run: 'run_2b7Lx1cQk3h9yqP0aVbZ',
      credential: 'jti_8sNq3YtGf0k2LmR5wXe1',
      depth: 1,
      ancestors: ['spiffe://bench.local/agent/orchestrator/2.0.0/a1b2c3'],
    },
    action: 'call_tool',
    tool: 'payments__refund',
    server: 'payments',
    labels: { access: 'write', blast_radius: 'high' },
    argsDigest: `sha256:${'ab'.repeat(32)}`,
    args: { customer: `c-${i % 5000}`, amount: i % 700, currency: 'EUR', note: 'duplicate charge' },
    run: { lowestTrust: 'internal', sources: ['payments__get_balance'] },
    outcome: 'allow',
    policies: ['support-bot-refunds'],
    reason: 'permitted by support-bot-refunds',
    policySetHash: 'cd'.repeat(32),
  };
}

/** Decision ids must be unique across every measurement: one counter for the whole run. */
let seq = 0;

/** A call's result entry as the gate appends it after the upstream answered. */
function result(i: number): ResultRecord {
  return {
    time: Date.now(),
    decisionId: `dec_${i.toString(36).padStart(22, '0')}`,
    agent: {
      id: 'spiffe://bench.local/agent/support-bot/1.4.0/9f1c2e',
      run: 'run_2b7Lx1cQk3h9yqP0aVbZ',
    },
    tool: 'payments__refund',
    server: 'payments',
    status: 'ok',
    resultDigest: `sha256:${'ef'.repeat(32)}`,
    trust: 'internal',
  };
}

type Workload = 'decision' | 'written' | 'result' | 'call' | 'news';

/** Entries appended per second by `concurrency` callers, each awaiting its receipt. */
async function appendsPerSecond(
  store: Store,
  workload: Workload,
  concurrency: number,
): Promise<number> {
  let entries = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const call = workload === 'call' || workload === 'news';
  const one = async (i: number) => {
    if (call) {
      // As the gate makes a call: the decision only written, its sync started at once; the
      // result on disk before the answer when it is news to the run, else only written; the
      // answer once the decision is on disk.
      await store.appendDecision(decision(i), { until: 'written' });
      const onDisk = store.synced();
      await store.appendResult(result(i), { until: workload === 'news' ? 'durable' : 'written' });
      await onDisk;
      entries += 2;
      return;
    }
    if (workload === 'result') await store.appendResult(result(i));
    else
      await store.appendDecision(decision(i), {
        until: workload === 'decision' ? 'durable' : 'written',
      });
    entries += 1;
  };
  const worker = async () => {
    while (performance.now() < deadline) await one(seq++);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return entries / ((performance.now() - t0) / 1000);
}

function rate(n: number, ms: number): string {
  return Math.round((n / ms) * 1000).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-bench-'));
  try {
    // As a server opens it: appends synced on the thread pool.
    const store = openSqliteStore(join(dir, 'gatehouse.db'), { backgroundSync: true });
    const rows: string[][] = [['measure', 'per second', 'note']];
    const label: Record<Workload, string> = {
      decision: 'durable appends, decision entries (+ index row)',
      written: 'written appends, decision entries (+ index row)',
      result: 'durable appends, result entries',
      call: 'calls as the gate makes them, result written (answer after the decision sync)',
      news: 'calls as the gate makes them, result durable (news to its run)',
    };
    for (const workload of ['decision', 'written', 'result', 'call', 'news'] as const) {
      for (const c of [1, 64]) {
        const r = await appendsPerSecond(store, workload, c);
        // At c=1 each caller waits alone: the latency a call sees, per entry (per call for `call`).
        const per = workload === 'call' || workload === 'news' ? 2 : 1;
        const each =
          c === 1
            ? `; ${((1000 * per) / r).toFixed(3)} ms per ${per === 2 ? 'call' : 'entry'}, awaited`
            : '';
        rows.push([
          `${label[workload]}, c=${c}`,
          Math.round(r).toLocaleString('en-US'),
          `entries/s${each}`,
        ]);
      }
    }
    // Fill up to the verification size quickly (same path, large concurrency).
    let size = await store.auditSize();
    while (size < VERIFY_ENTRIES) {
      const batch = Math.min(2048, VERIFY_ENTRIES - size);
      await Promise.all(Array.from({ length: batch }, () => store.appendDecision(decision(seq++))));
      size += batch;
    }
    const key = openLogKey(join(dir, 'audit-log.key'), 'bench.local/audit');
    const log = new AuditLog({ store, key, now: Date.now });
    let t0 = performance.now();
    await log.sync();
    rows.push([
      `tree rebuilt from the store (${size.toLocaleString('en-US')} entries)`,
      rate(size, performance.now() - t0),
      'once per process start',
    ]);
    const checkpoint = await log.checkpoint();

    const proofs = 100_000;
    t0 = performance.now();
    for (let k = 0; k < proofs; k++) {
      const index = (k * 7919) % checkpoint.size;
      const proof = log.inclusionProof(index, checkpoint.size);
      if (proof.length === 0) throw new Error('empty proof');
    }
    rows.push([
      'inclusion proofs (tree)',
      rate(proofs, performance.now() - t0),
      `tree size ${checkpoint.size.toLocaleString('en-US')}`,
    ]);
    const served = 20_000;
    t0 = performance.now();
    for (let k = 0; k < served; k++) await log.prove((k * 7919) % checkpoint.size);
    rows.push([
      'inclusion proofs with the entry (store)',
      rate(served, performance.now() - t0),
      'what GET /v1/audit/entries/N does',
    ]);

    const out = join(dir, 'bundle');
    const entries = async function* () {
      for (let from = 0; from < checkpoint.size; from += 5000) {
        for (const e of await store.auditEntries(from, 5000)) yield e.leaf;
      }
    };
    t0 = performance.now();
    await writeBundle(out, {
      entries: entries(),
      checkpoints: (await store.listCheckpoints()).map((c) => c.note),
      vkey: key.vkey,
    });
    rows.push(['export', rate(checkpoint.size, performance.now() - t0), 'entries/s written']);
    t0 = performance.now();
    const report = await verifyBundle(out, { key: key.vkey });
    const verifyMs = performance.now() - t0;
    if (!report.ok)
      throw new Error(`the exported log does not verify: ${JSON.stringify(report.problems[0])}`);
    rows.push([
      'offline verification of the export',
      rate(report.entries, verifyMs),
      `${report.entries.toLocaleString('en-US')} entries, ${(verifyMs / 1000).toFixed(2)} s`,
    ]);
    await store.close();
    process.stdout.write(`\nAudit log (${SECONDS}s per append level)\n${table(rows)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
