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
 *   --gateway inproc     run Gatehouse in this process (default; openRuntime + startHttpServer)
 *   --gateway child      run Gatehouse as `node bin/gatehouse.js up --config <tmp>` in a child
 *
 * Environment (all optional):
 *   BENCH_CALLS              measured calls at concurrency 1 (default 2000)
 *   BENCH_CALLS_CONCURRENT   measured calls in total at higher concurrency (default 4 x BENCH_CALLS)
 *   BENCH_WARMUP             warm-up calls per target and concurrency level (default 300)
 *   BENCH_CONCURRENCY        comma-separated concurrency levels (default "1,32")
 *   BENCH_TEXT_BYTES         size of the echoed text (default 64)
 *   BENCH_GATEWAY            same as --gateway
 *   BENCH_CHILD_NODE_ARGS    extra node flags for the child processes (e.g. "--cpu-prof")
 *   GATEHOUSE_LOG_LEVEL      log level of a child gateway (default "warn")
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseConfig } from '../src/config/index.js';
import { mintAgentToken } from '../src/identity/index.js';
import { silentLogger } from '../src/log/index.js';
import { openIdentity, openRuntime, startHttpServer } from '../src/server/index.js';

type GatewayMode = 'inproc' | 'child';
type Target = 'direct' | 'gateway';

interface Options {
  readonly calls: number;
  readonly callsConcurrent: number;
  readonly warmup: number;
  readonly concurrency: readonly number[];
  readonly textBytes: number;
  readonly json: boolean;
  readonly gateway: GatewayMode;
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
}

interface Added {
  readonly concurrency: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly throughputRatio: number;
}

const BIN = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
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
  let gateway = process.env.BENCH_GATEWAY ?? 'inproc';
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
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > 50) stderr.shift();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${label} exited during start-up (${signal ?? `code ${String(code)}`}):\n${stderr.join('')}`,
        ),
      );
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

// ---------------------------------------------------------------------------------------------
// Setup

async function startUpstream(): Promise<string> {
  const { match } = await spawnNode('benchmark upstream', [UPSTREAM], /^UPSTREAM_READY (\S+)$/);
  return match[1]!;
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
): Promise<{ url: string; token: string }> {
  const file = writeGatehouseConfig(upstreamUrl);
  const config = parseConfig(file.text, file.path);
  // Minting first also creates the signing key, before a child gateway reads the keys folder.
  const identity = await openIdentity(config);
  const { token } = await mintAgentToken(identity, {
    agent: { name: 'bench', version: '1' },
    principal: 'user:bench',
  });

  if (mode === 'child') {
    const env = { ...process.env, GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'warn' };
    const { match } = await spawnNode(
      'gatehouse up',
      [BIN, 'up', '--config', file.path],
      /serving MCP at (\S+)/,
      env,
    );
    return { url: match[1]!, token };
  }

  const rt = await openRuntime(config, silentLogger(), { keys: identity.keys });
  closers.push(() => rt.close());
  const http = await startHttpServer(rt, { port: 0 });
  closers.push(() => http.close());
  await rt.gateway.whenSettled();
  const status = rt.gateway.status().find((u) => u.name === 'bench');
  if (status?.state !== 'up')
    throw new Error(`gateway cannot reach the upstream: ${JSON.stringify(status)}`);
  return { url: http.url, token };
}

// ---------------------------------------------------------------------------------------------
// Measurement

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

/** Runs `total` calls spread over the clients (each with one call in flight); latencies in ms. */
async function runCalls(
  clients: readonly Client[],
  tool: string,
  total: number,
  text: string,
): Promise<{ latencies: Float64Array; elapsedMs: number }> {
  const latencies = new Float64Array(total);
  let next = 0;
  const worker = async (client: Client) => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      const result = await client.callTool({ name: tool, arguments: { text } });
      latencies[i] = performance.now() - t0;
      if (result.isError === true || textOf(result) !== text) {
        throw new Error(`${tool} returned an unexpected result: ${JSON.stringify(result)}`);
      }
    }
  };
  const start = performance.now();
  await Promise.all(clients.map(worker));
  return { latencies, elapsedMs: performance.now() - start };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, q: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

function summarize(
  target: Target,
  concurrency: number,
  latencies: Float64Array,
  elapsedMs: number,
): Result {
  const sorted = latencies.slice().sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    target,
    concurrency,
    calls: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    meanMs: sum / sorted.length,
    maxMs: sorted[sorted.length - 1] ?? 0,
    callsPerSec: (sorted.length / elapsedMs) * 1000,
    elapsedMs,
  };
}

async function measure(
  target: Target,
  ep: Endpoint,
  concurrency: number,
  calls: number,
  opts: Options,
  text: string,
): Promise<Result> {
  const clients = await openClients(ep, concurrency);
  try {
    // Sanity check: the tool is there (and, through the gateway, visible to this agent).
    const { tools } = await clients[0]!.listTools();
    if (!tools.some((t) => t.name === ep.tool))
      throw new Error(
        `${target}: tool ${ep.tool} is not listed (${tools.map((t) => t.name).join(', ')})`,
      );
    await runCalls(clients, ep.tool, Math.max(opts.warmup, concurrency), text);
    const { latencies, elapsedMs } = await runCalls(clients, ep.tool, calls, text);
    return summarize(target, concurrency, latencies, elapsedMs);
  } finally {
    await closeClients(clients);
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const ms = (v: number) => v.toFixed(3);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

function table(rows: readonly (readonly string[])[], rightAlign: readonly boolean[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) =>
          rightAlign[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function report(meta: Record<string, unknown>, results: readonly Result[], added: Added[]): string {
  const rows: string[][] = [
    ['target', 'conc', 'calls', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'max ms', 'calls/s'],
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
    ]);
  }
  const addedRows: string[][] = [
    ['conc', 'added p50 ms', 'added p99 ms', 'gateway/direct calls/s'],
  ];
  for (const a of added) {
    addedRows.push([
      String(a.concurrency),
      signed(a.p50Ms),
      signed(a.p99Ms),
      `${(a.throughputRatio * 100).toFixed(1)}%`,
    ]);
  }
  return [
    'Gatehouse gateway benchmark: MCP tools/call over Streamable HTTP',
    Object.entries(meta)
      .map(([k, v]) => `  ${k}: ${String(v)}`)
      .join('\n'),
    '',
    table(rows, [false, true, true, true, true, true, true, true, true]),
    '',
    'Latency added by Gatehouse (gateway minus direct):',
    table(addedRows, [true, true, true, true]),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const log = opts.json ? () => undefined : (s: string) => process.stderr.write(`${s}\n`);
  const text = 'x'.repeat(opts.textBytes);
  const began = performance.now();

  log('starting upstream and gateway ...');
  const upstreamUrl = await startUpstream();
  const gw = await startGateway(opts.gateway, upstreamUrl);
  const endpoints: Record<Target, Endpoint> = {
    direct: { url: upstreamUrl, tool: 'echo', headers: {} },
    gateway: { url: gw.url, tool: 'bench__echo', headers: { authorization: `Bearer ${gw.token}` } },
  };

  const results: Result[] = [];
  const added: Added[] = [];
  for (const c of opts.concurrency) {
    const calls = c === 1 ? opts.calls : opts.callsConcurrent;
    const pair: Partial<Record<Target, Result>> = {};
    for (const target of ['direct', 'gateway'] as const) {
      log(`  ${target.padEnd(7)} concurrency ${String(c).padStart(3)}: ${calls} calls ...`);
      const r = await measure(target, endpoints[target], c, calls, opts, text);
      pair[target] = r;
      results.push(r);
    }
    const d = pair.direct!;
    const g = pair.gateway!;
    added.push({
      concurrency: c,
      p50Ms: g.p50Ms - d.p50Ms,
      p99Ms: g.p99Ms - d.p99Ms,
      throughputRatio: g.callsPerSec / d.callsPerSec,
    });
  }

  const meta = {
    node: process.version,
    cpus: `${availableParallelism()} x ${cpus()[0]?.model.trim() ?? 'unknown'}`,
    gateway: opts.gateway === 'inproc' ? 'in-process (same event loop as the clients)' : 'child',
    upstream: 'child process, @modelcontextprotocol/sdk McpServer, stateful sessions',
    payload: `echo({text}) with ${opts.textBytes} bytes of text`,
    warmup: `${opts.warmup} calls per target and concurrency`,
    'bench time': `${((performance.now() - began) / 1000).toFixed(1)} s`,
  };
  if (opts.json) {
    const round = (r: object) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toFixed(3)) : v]),
      );
    process.stdout.write(
      `${JSON.stringify({ meta, results: results.map(round), added: added.map(round) }, null, 2)}\n`,
    );
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
  await cleanup();
  process.exitCode = 1;
}
