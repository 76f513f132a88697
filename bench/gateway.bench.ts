/**
 * Gatehouse gateway benchmark: the latency Gatehouse adds to MCP `tools/call` over Streamable HTTP.
 *
 * One run measures, with the real SDK Client + StreamableHTTPClientTransport:
 *   direct   client -> upstream                (bench/upstream-server.ts, a child process)
 *   gateway  client -> Gatehouse -> upstream   (same upstream, behind the gate)
 * at each concurrency level (default 1 and 32; N concurrent clients, one MCP session each),
 * after a warm-up, and prints p50 / p99 latency, throughput, and the latency the gateway adds.
 *
 * Usage:  npm run bench                     (builds, then runs dist/bench/gateway.bench.js)
 *         node dist/bench/gateway.bench.js [--json] [--gateway inproc|child]
 *
 *   --json               print one JSON document instead of the table
 *   --gateway child      run Gatehouse as `node bin/gatehouse.js up --config <tmp>`, its own
 *                        process as in production (default)
 *   --gateway inproc     run Gatehouse in this process (openRuntime + startHttpServer); it then
 *                        shares one event loop with the benchmark clients, which skews c > 1
 *
 * Environment (all optional):
 *   BENCH_CALLS              measured calls at concurrency 1 (default 2000)
 *   BENCH_CALLS_CONCURRENT   measured calls in total at higher concurrency (default 4 x BENCH_CALLS)
 *   BENCH_WARMUP             warm-up calls per target and concurrency level (default 300)
 *   BENCH_ROUNDS             measured calls are split into this many alternating direct/gateway
 *                            batches, so drifting background load affects both alike (default 4)
 *   BENCH_CONCURRENCY        comma-separated concurrency levels (default "1,32")
 *   BENCH_TEXT_BYTES         size of the echoed text (default 64)
 *   BENCH_GATEWAY            same as --gateway
 *   BENCH_UPSTREAM_JSON=1    the upstream answers with JSON bodies instead of SSE streams
 *   BENCH_CHILD_NODE_ARGS    extra node flags for the child processes (e.g. "--cpu-prof")
 *   GATEHOUSE_LOG_LEVEL      log level of a child gateway (default "warn")
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseConfig } from '../src/config/index.js';
import { silentLogger } from '../src/log/index.js';
import { openLocalAdmin, openRuntime, startHttpServer } from '../src/server/index.js';

type GatewayMode = 'inproc' | 'child';
type Target = 'direct' | 'gateway';
const TARGETS: readonly Target[] = ['direct', 'gateway'];

interface Options {
  readonly calls: number;
  readonly callsConcurrent: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly concurrency: readonly number[];
  readonly textBytes: number;
  readonly json: boolean;
  readonly gateway: GatewayMode;
}

/** Process ids of the children, for CPU accounting. */
interface Procs {
  readonly upstream: number | undefined;
  /** Set only when Gatehouse runs as a child; in-process, its CPU is part of this process. */
  readonly gateway: number | undefined;
}

interface Endpoint {
  readonly url: string;
  readonly tool: string;
  readonly headers: Record<string, string>;
}

interface Result {
  readonly target: Target;
  readonly concurrency: number;
  readonly calls: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly callsPerSec: number;
  readonly elapsedMs: number;
  /** CPU time per call of each process; undefined where it cannot be measured or does not apply. */
  readonly cpuMsPerCall: {
    readonly bench: number;
    readonly upstream: number | undefined;
    readonly gateway: number | undefined;
  };
}

interface Added {
  readonly concurrency: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Extra CPU per call summed over all processes (undefined when a child's CPU is unknown). */
  readonly cpuMsPerCall: number | undefined;
  readonly throughputRatio: number;
}

/** `node bin/gatehouse.js <args>`, stopped when this process goes away (see that file). */
const GATEHOUSE = fileURLToPath(new URL('./gatehouse-child.js', import.meta.url));
const UPSTREAM = fileURLToPath(new URL('./upstream-server.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;
/** Extra node flags for child processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
const CHILD_NODE_ARGS = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

// ---------------------------------------------------------------------------------------------
// Options

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

function parseOptions(argv: readonly string[]): Options {
  let json = false;
  let gateway = process.env.BENCH_GATEWAY ?? 'child';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--gateway') gateway = argv[++i] ?? '';
    else if (a?.startsWith('--gateway=')) gateway = a.slice('--gateway='.length);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node dist/bench/gateway.bench.js [--json] [--gateway inproc|child]');
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  if (gateway !== 'inproc' && gateway !== 'child')
    throw new Error(`--gateway must be "inproc" or "child", not "${gateway}"`);
  const calls = positiveInt('BENCH_CALLS', 2000);
  const concurrency = (process.env.BENCH_CONCURRENCY ?? '1,32').split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n <= 0)
      throw new Error('BENCH_CONCURRENCY must be positive integers');
    return n;
  });
  return {
    calls,
    callsConcurrent: positiveInt('BENCH_CALLS_CONCURRENT', calls * 4),
    warmup: positiveInt('BENCH_WARMUP', 300),
    rounds: positiveInt('BENCH_ROUNDS', 4),
    concurrency,
    textBytes: positiveInt('BENCH_TEXT_BYTES', 64),
    json,
    gateway,
  };
}

// ---------------------------------------------------------------------------------------------
// Cleanup: child processes and temp dirs go away at exit, on error and on Ctrl-C.

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const closers: (() => Promise<void>)[] = [];

function killChildren(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }
}

function removeTempDirs(): void {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

async function cleanup(): Promise<void> {
  stopping = true;
  for (const close of closers.splice(0).reverse()) {
    await close().catch(() => undefined);
  }
  killChildren();
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => {
            console.error(`child ${c.pid} did not stop within 3 s of SIGTERM; killing it`);
            c.kill('SIGKILL');
            resolve();
          }, 3000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        }),
    ),
  );
  children.clear();
  removeTempDirs();
}

process.once('exit', () => {
  stopping = true;
  // Last resort (e.g. process.exit elsewhere): synchronous only.
  killChildren();
  removeTempDirs();
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** What a child process said on stderr: Node process warnings by kind, and the recent tail. */
interface ChildReport {
  readonly label: string;
  readonly warnings: Map<string, number>;
  readonly tail: string[];
  /** Set when the child died while the benchmark still needed it. */
  died?: string;
}

const reports: ChildReport[] = [];
let stopping = false;

/** Spawns `node <args>` and resolves with the first stdout match of `ready`. */
function spawnNode(
  label: string,
  args: readonly string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [...CHILD_NODE_ARGS, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env,
  });
  children.add(child);
  const report: ChildReport = { label, warnings: new Map(), tail: [] };
  reports.push(report);
  const errLines = createInterface({ input: child.stderr! });
  errLines.on('line', (line) => {
    report.tail.push(line);
    if (report.tail.length > 40) report.tail.shift();
    const kind = /^\(node:\d+\) (\w*Warning)\b/.exec(line)?.[1];
    if (kind) report.warnings.set(kind, (report.warnings.get(kind) ?? 0) + 1);
  });
  child.once('exit', (code, signal) => {
    if (!stopping) report.died = `exited (${signal ?? `code ${String(code)}`})`;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      // Give the stderr reader a moment to collect the last words.
      setTimeout(() => {
        reject(
          new Error(
            `${label} exited during start-up (${signal ?? `code ${String(code)}`}):\n${report.tail.join('\n')}`,
          ),
        );
      }, 50);
    };
    child.once('exit', onExit);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = ready.exec(line);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.close();
      child.stdout?.resume(); // keep draining so the child never blocks on a full pipe
      resolve({ child, match });
    });
  });
}

/** Children that died mid-run, with their last stderr lines (for error messages). */
function deadChildren(): string {
  return reports
    .filter((r) => r.died !== undefined)
    .map((r) => `${r.label} ${r.died}; its last stderr lines:\n  ${r.tail.join('\n  ')}`)
    .join('\n');
}

/** Node process warnings the children printed, e.g. "gatehouse up: 12 MaxListenersExceededWarning". */
function childWarnings(): string {
  const out: string[] = [];
  for (const r of reports) {
    for (const [kind, n] of r.warnings) out.push(`${r.label}: ${n} x ${kind}`);
  }
  return out.length > 0 ? out.join('; ') : 'none';
}

// ---------------------------------------------------------------------------------------------
// Setup

async function startUpstream(): Promise<{ url: string; pid: number | undefined }> {
  const { child, match } = await spawnNode(
    'benchmark upstream',
    [UPSTREAM],
    /^UPSTREAM_READY (\S+)$/,
  );
  return { url: match[1]!, pid: child.pid };
}

function writeGatehouseConfig(upstreamUrl: string): { path: string; text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  tempDirs.add(dir);
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  writeFileSync(
    join(policies, 'bench.cedar'),
    [
      '// The benchmark agent may call the echo tool.',
      '@id("bench-echo")',
      'permit (principal, action == Action::"call_tool", resource == Tool::"bench__echo");',
      '',
    ].join('\n'),
  );
  // JSON is YAML; every path is absolute.
  const text = JSON.stringify(
    {
      listen: { host: '127.0.0.1', port: 0 },
      store: { sqlite: join(dir, 'gatehouse.db') },
      keys: { dir: join(dir, 'keys') },
      policies: { dir: policies },
      identity: { trust_domain: 'bench.gatehouse.local', default_ttl: '1h', max_ttl: '1h' },
      upstreams: { bench: { url: upstreamUrl, trust: 'internal' } },
    },
    null,
    2,
  );
  const path = join(dir, 'gatehouse.yaml');
  writeFileSync(path, text);
  return { path, text };
}

async function startGateway(
  mode: GatewayMode,
  upstreamUrl: string,
): Promise<{ url: string; token: string; pid: number | undefined }> {
  const file = writeGatehouseConfig(upstreamUrl);
  const config = parseConfig(file.text, file.path);
  const agent = { agent: { name: 'bench', version: '1' }, principal: 'user:bench' };

  if (mode === 'child') {
    // Minting first also creates the signing key, before the gateway reads the keys folder.
    const admin = await openLocalAdmin(config);
    const { token } = await admin.authority.mint(agent).finally(() => admin.close());
    const env = { ...process.env, GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'warn' };
    const { child, match } = await spawnNode(
      'gatehouse up',
      [GATEHOUSE, 'up', '--config', file.path],
      /serving MCP at (\S+)/,
      env,
    );
    return { url: match[1]!, token, pid: child.pid };
  }

  const rt = await openRuntime(config, silentLogger());
  closers.push(() => rt.close());
  const { token } = await rt.authority.mint(agent);
  const http = await startHttpServer(rt, { port: 0 });
  closers.push(() => http.close());
  await rt.gateway.whenSettled();
  const status = rt.gateway.status().find((u) => u.name === 'bench');
  if (status?.state !== 'up')
    throw new Error(`gateway cannot reach the upstream: ${JSON.stringify(status)}`);
  return { url: http.url, token, pid: undefined };
}

// ---------------------------------------------------------------------------------------------
// Measurement

/** CPU time used so far by this process and by each child, in ms (children: Linux /proc only). */
interface CpuSample {
  readonly bench: number;
  readonly upstream: number | undefined;
  readonly gateway: number | undefined;
}

/** utime + stime of a process from /proc/<pid>/stat (USER_HZ is 100 on Linux), or undefined. */
function procCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm) " start at field 3 (state); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

function sampleCpu(procs: Procs): CpuSample {
  const u = process.cpuUsage();
  return {
    bench: (u.user + u.system) / 1000,
    upstream: procCpuMs(procs.upstream),
    gateway: procCpuMs(procs.gateway),
  };
}

const minus = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;

async function openClients(ep: Endpoint, n: number): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const client = new Client({ name: `bench-client-${i}`, version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(ep.url), {
        requestInit: { headers: ep.headers },
      });
      await client.connect(transport);
      return client;
    }),
  );
}

async function closeClients(clients: readonly Client[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
}

function textOf(result: unknown): string | undefined {
  const content = (result as { content?: unknown }).content;
  if (!Array.isArray(content)) return undefined;
  const first = content[0] as { type?: unknown; text?: unknown } | undefined;
  return first?.type === 'text' && typeof first.text === 'string' ? first.text : undefined;
}

/**
 * Runs `count` calls spread over the clients, each client with one call in flight, writing each
 * call's latency (ms) into `out` from `offset`. Resolves with the wall time of the batch.
 */
async function runCalls(
  clients: readonly Client[],
  tool: string,
  count: number,
  text: string,
  out?: { latencies: Float64Array; offset: number },
): Promise<number> {
  let next = 0;
  const worker = async (client: Client) => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      const result = await client.callTool({ name: tool, arguments: { text } });
      const dt = performance.now() - t0;
      if (out) out.latencies[out.offset + i] = dt;
      if (result.isError === true || textOf(result) !== text) {
        throw new Error(`${tool} returned an unexpected result: ${JSON.stringify(result)}`);
      }
    }
  };
  const start = performance.now();
  await Promise.all(clients.map(worker));
  return performance.now() - start;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, q: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

interface Accumulator {
  readonly latencies: Float64Array;
  offset: number;
  elapsedMs: number;
  cpu: { bench: number; upstream: number | undefined; gateway: number | undefined };
}

function summarize(target: Target, concurrency: number, acc: Accumulator): Result {
  const sorted = acc.latencies.slice().sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const perCall = (v: number | undefined) => (v === undefined ? undefined : v / n);
  return {
    target,
    concurrency,
    calls: n,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    meanMs: sum / n,
    maxMs: sorted[n - 1] ?? 0,
    callsPerSec: (n / acc.elapsedMs) * 1000,
    elapsedMs: acc.elapsedMs,
    cpuMsPerCall: {
      bench: acc.cpu.bench / n,
      upstream: perCall(acc.cpu.upstream),
      gateway: perCall(acc.cpu.gateway),
    },
  };
}

/**
 * Measures both targets at one concurrency level. Each target gets its own `concurrency` clients
 * (one MCP session each), a warm-up, then the measured calls in `rounds` alternating batches
 * (direct, gateway, gateway, direct, ...) so that drifting background load hits both alike.
 */
async function measurePair(
  endpoints: Record<Target, Endpoint>,
  concurrency: number,
  calls: number,
  opts: Options,
  procs: Procs,
  text: string,
  log: (s: string) => void,
): Promise<Record<Target, Result>> {
  const clients: Partial<Record<Target, Client[]>> = {};
  try {
    for (const target of TARGETS) {
      const ep = endpoints[target];
      const pool = await openClients(ep, concurrency);
      clients[target] = pool;
      // Sanity check: the tool is there (and, through the gateway, visible to this agent).
      const { tools } = await pool[0]!.listTools();
      if (!tools.some((t) => t.name === ep.tool))
        throw new Error(
          `${target}: tool ${ep.tool} is not listed (${tools.map((t) => t.name).join(', ')})`,
        );
      await runCalls(pool, ep.tool, Math.max(opts.warmup, concurrency), text);
    }
    const acc = Object.fromEntries(
      TARGETS.map((t) => [
        t,
        {
          latencies: new Float64Array(calls),
          offset: 0,
          elapsedMs: 0,
          cpu: { bench: 0, upstream: 0, gateway: procs.gateway === undefined ? undefined : 0 },
        },
      ]),
    ) as Record<Target, Accumulator>;
    const rounds = Math.max(1, Math.min(opts.rounds, Math.floor(calls / concurrency)));
    for (let r = 0; r < rounds; r++) {
      const batch = Math.floor(calls / rounds) + (r < calls % rounds ? 1 : 0);
      const order: readonly Target[] = r % 2 === 0 ? TARGETS : [...TARGETS].reverse();
      for (const target of order) {
        const a = acc[target];
        const before = sampleCpu(procs);
        a.elapsedMs += await runCalls(clients[target]!, endpoints[target].tool, batch, text, a);
        const after = sampleCpu(procs);
        a.offset += batch;
        a.cpu.bench += after.bench - before.bench;
        a.cpu.upstream = sumDefined(a.cpu.upstream, minus(after.upstream, before.upstream));
        a.cpu.gateway = sumDefined(a.cpu.gateway, minus(after.gateway, before.gateway));
      }
      log(`    round ${r + 1}/${rounds} done`);
    }
    return {
      direct: summarize('direct', concurrency, acc.direct),
      gateway: summarize('gateway', concurrency, acc.gateway),
    };
  } finally {
    await Promise.all(Object.values(clients).map((pool) => closeClients(pool)));
  }
}

function sumDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

/** Fraction of all CPUs' time spent busy (by anything) over the next `ms` milliseconds. */
async function hostBusy(ms: number): Promise<number> {
  const total = () =>
    cpus().reduce(
      (acc, c) => {
        const t = c.times;
        acc.busy += t.user + t.nice + t.sys + t.irq;
        acc.all += t.user + t.nice + t.sys + t.irq + t.idle;
        return acc;
      },
      { busy: 0, all: 0 },
    );
  const a = total();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = total();
  return b.all > a.all ? (b.busy - a.busy) / (b.all - a.all) : 0;
}

// ---------------------------------------------------------------------------------------------
// Output

const ms = (v: number) => v.toFixed(3);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
const cpu = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(3));

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function report(meta: Record<string, string>, results: readonly Result[], added: Added[]): string {
  const rows: string[][] = [
    [
      'target',
      'conc',
      'calls',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'mean ms',
      'max ms',
      'calls/s',
      'cpu ms/call: bench',
      'upstream',
      'gatehouse',
    ],
  ];
  for (const r of results) {
    rows.push([
      r.target,
      String(r.concurrency),
      String(r.calls),
      ms(r.p50Ms),
      ms(r.p90Ms),
      ms(r.p99Ms),
      ms(r.meanMs),
      ms(r.maxMs),
      r.callsPerSec.toFixed(0),
      cpu(r.cpuMsPerCall.bench),
      cpu(r.cpuMsPerCall.upstream),
      cpu(r.cpuMsPerCall.gateway),
    ]);
  }
  const addedRows: string[][] = [
    [
      'conc',
      'added p50 ms',
      'added p99 ms',
      'added mean ms',
      'added cpu ms/call',
      'calls/s vs direct',
    ],
  ];
  for (const a of added) {
    addedRows.push([
      String(a.concurrency),
      signed(a.p50Ms),
      signed(a.p99Ms),
      signed(a.meanMs),
      a.cpuMsPerCall === undefined ? '-' : signed(a.cpuMsPerCall),
      `${(a.throughputRatio * 100).toFixed(1)}%`,
    ]);
  }
  return [
    'Gatehouse gateway benchmark: MCP tools/call over Streamable HTTP',
    ...Object.entries(meta).map(([k, v]) => `  ${k}: ${v}`),
    '',
    table(rows),
    '',
    'Added by Gatehouse (gateway minus direct):',
    table(addedRows),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const log = opts.json ? () => undefined : (s: string) => process.stderr.write(`${s}\n`);
  const text = 'x'.repeat(opts.textBytes);
  const began = performance.now();
  const cores = availableParallelism();
  const busyBefore = await hostBusy(1000);
  if (busyBefore > 0.2)
    log(
      `warning: the CPUs were ${(busyBefore * 100).toFixed(0)}% busy before the benchmark started; figures will be noisy`,
    );

  log('starting upstream and gateway ...');
  const upstream = await startUpstream();
  const gw = await startGateway(opts.gateway, upstream.url);
  const procs: Procs = { upstream: upstream.pid, gateway: gw.pid };
  const endpoints: Record<Target, Endpoint> = {
    direct: { url: upstream.url, tool: 'echo', headers: {} },
    gateway: { url: gw.url, tool: 'bench__echo', headers: { authorization: `Bearer ${gw.token}` } },
  };

  const results: Result[] = [];
  const added: Added[] = [];
  for (const c of opts.concurrency) {
    const calls = c === 1 ? opts.calls : opts.callsConcurrent;
    log(`  concurrency ${c}: ${calls} calls per target ...`);
    const { direct: d, gateway: g } = await measurePair(
      endpoints,
      c,
      calls,
      opts,
      procs,
      text,
      log,
    );
    results.push(d, g);
    const total = (r: Result) =>
      r.cpuMsPerCall.upstream === undefined ||
      (procs.gateway !== undefined && r.cpuMsPerCall.gateway === undefined)
        ? undefined
        : r.cpuMsPerCall.bench + r.cpuMsPerCall.upstream + (r.cpuMsPerCall.gateway ?? 0);
    added.push({
      concurrency: c,
      p50Ms: g.p50Ms - d.p50Ms,
      p99Ms: g.p99Ms - d.p99Ms,
      meanMs: g.meanMs - d.meanMs,
      cpuMsPerCall: minus(total(g), total(d)),
      throughputRatio: g.callsPerSec / d.callsPerSec,
    });
  }

  const meta: Record<string, string> = {
    node: `${process.version} on ${cores} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
    gatehouse:
      opts.gateway === 'inproc'
        ? 'in-process (shares the event loop and CPU of the benchmark clients)'
        : 'child process (bin/gatehouse.js up)',
    upstream: `child process: SDK McpServer + StreamableHTTPServerTransport, stateful, ${
      process.env.BENCH_UPSTREAM_JSON === '1' ? 'JSON' : 'SSE'
    } responses`,
    clients: 'SDK Client + StreamableHTTPClientTransport, one session per concurrent client',
    call: `tools/call echo({text}) with ${opts.textBytes} bytes of text`,
    method: `${opts.warmup} warm-up calls per target and level; ${opts.rounds} alternating rounds`,
    'child warnings': childWarnings(),
    'host CPU busy': `${(busyBefore * 100).toFixed(0)}% just before the run (other processes)`,
    'bench time': `${((performance.now() - began) / 1000).toFixed(1)} s`,
  };
  if (opts.json) {
    const round = (_key: string, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(3)) : v);
    process.stdout.write(`${JSON.stringify({ meta, results, added }, round, 2)}\n`);
  } else {
    process.stdout.write(report(meta, results, added));
  }
}

try {
  await main();
  await cleanup();
} catch (err) {
  console.error(
    `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  const dead = deadChildren();
  if (dead) console.error(dead);
  await cleanup();
  process.exitCode = 1;
}
