/**
 * Gatehouse gateway benchmark: the latency Gatehouse adds to MCP `tools/call` over Streamable HTTP.
 *
 * One run measures, with the real SDK Client + StreamableHTTPClientTransport:
 *   direct   client -> upstream                (bench/upstream-server.ts, a child process)
 *   proxy    client -> bare proxy -> upstream  (bench/proxy-server.ts: the floor of any extra hop)
 *   gateway  client -> Gatehouse -> upstream   (same upstream, behind the gate)
 * at each concurrency level (default 1 and 32; N concurrent clients, one MCP session each),
 * after a warm-up that lasts until the latency settles, and prints p50 / p99 latency, throughput,
 * and the latency each hop adds.
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
 *   BENCH_WARMUP             warm-up calls per target and concurrency level, at least (default 3000);
 *                            the warm-up goes on in batches until the p50 stops improving
 *                            (see bench/lib/warmup.ts)
 *   BENCH_WARMUP_MAX         warm-up calls at most (default 10000)
 *   BENCH_WARMUP_BATCH       warm-up calls per batch at concurrency 1 (default 500)
 *   BENCH_ROUNDS             measured calls are split into this many alternating direct/gateway
 *                            batches, so drifting background load affects both alike (default 4)
 *   BENCH_CONCURRENCY        comma-separated concurrency levels (default "1,32")
 *   BENCH_TEXT_BYTES         size of the echoed text (default 64)
 *   BENCH_GATEWAY            same as --gateway
 *   BENCH_UPSTREAM_JSON=1    the upstream answers with JSON bodies instead of SSE streams
 *   BENCH_POLICY             "allowlist" (default: one scope-only permit) or "conditions" (the
 *                            permit reads the agent's name and the run's trust): see servers.ts
 *   BENCH_CHILD_NODE_ARGS    extra node flags for the child processes (e.g. "--cpu-prof")
 *   GATEHOUSE_LOG_LEVEL      log level of a child gateway (default "warn")
 */
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { childWarnings, installCleanupHandlers, runBench } from './lib/children.js';
import { hostBusy } from './lib/cpu.js';
import { measureTargets } from './lib/measure.js';
import { jsonReport, report } from './lib/report.js';
import { GATEWAY_LOG_LEVEL, startGateway, startProxy, startUpstream } from './lib/servers.js';
import { addedBy } from './lib/stats.js';
import type { Added, Endpoint, Options, Procs, Result, Target } from './lib/types.js';
import { positiveInt } from './lib/env.js';
import { describePlan, warmupPlan, type WarmupCurve } from './lib/warmup.js';

// Child processes and temp dirs go away at exit, on error and on Ctrl-C.
installCleanupHandlers();

// ---------------------------------------------------------------------------------------------
// Options

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
    warmup: warmupPlan(),
    rounds: positiveInt('BENCH_ROUNDS', 4),
    concurrency,
    textBytes: positiveInt('BENCH_TEXT_BYTES', 64),
    json,
    gateway,
  };
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

  log('starting upstream, reference proxy and gateway ...');
  const upstream = await startUpstream();
  const proxy = await startProxy(upstream.url);
  const gw = await startGateway(opts.gateway, upstream.url);
  const procs: Procs = { upstream: upstream.pid, proxy: proxy.pid, gateway: gw.pid };
  const endpoints: Record<Target, Endpoint> = {
    direct: { url: upstream.url, tool: 'echo', headers: {} },
    proxy: { url: proxy.url, tool: 'echo', headers: {} },
    gateway: { url: gw.url, tool: 'bench__echo', headers: { authorization: `Bearer ${gw.token}` } },
  };

  const results: Result[] = [];
  const added: Added[] = [];
  const warmups: WarmupCurve[] = [];
  for (const c of opts.concurrency) {
    const calls = c === 1 ? opts.calls : opts.callsConcurrent;
    log(`  concurrency ${c}: ${calls} calls per target ...`);
    const measured = await measureTargets(endpoints, c, calls, opts, procs, text, log);
    const { direct: d, proxy: p, gateway: g } = measured.results;
    results.push(d, p, g);
    warmups.push(...measured.warmups);
    added.push(
      addedBy(d, p, procs.gateway !== undefined),
      addedBy(d, g, procs.gateway !== undefined),
    );
  }

  const meta: Record<string, string> = {
    node: `${process.version} on ${cores} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
    gatehouse:
      opts.gateway === 'inproc'
        ? 'in-process (shares the event loop and CPU of the benchmark clients)'
        : `child process (bin/gatehouse.js up), log level ${GATEWAY_LOG_LEVEL}`,
    upstream: `child process: SDK McpServer + StreamableHTTPServerTransport, stateful, ${
      process.env.BENCH_UPSTREAM_JSON === '1' ? 'JSON' : 'SSE'
    } responses`,
    proxy: 'child process: node:http, reads each body whole and forwards it, checks nothing',
    clients: 'SDK Client + StreamableHTTPClientTransport, one session per concurrent client',
    call: `tools/call echo({text}) with ${opts.textBytes} bytes of text`,
    policy: `${process.env.BENCH_POLICY ?? 'allowlist'} (BENCH_POLICY)`,
    method: `${describePlan(opts.warmup)}; then ${opts.rounds} alternating rounds`,
    'child warnings': childWarnings(),
    'host CPU busy': `${(busyBefore * 100).toFixed(0)}% just before the run (other processes)`,
    'bench time': `${((performance.now() - began) / 1000).toFixed(1)} s`,
  };
  process.stdout.write(
    opts.json
      ? jsonReport(meta, results, added, warmups)
      : report(
          'Gatehouse gateway benchmark: MCP tools/call over Streamable HTTP',
          meta,
          results,
          added,
          warmups,
        ),
  );
}

await runBench(main);
