/**
 * Gatehouse over stdio: the latency `gatehouse stdio` adds to MCP `tools/call` for a client that
 * launches its servers as commands (Claude Desktop, IDEs), measured in one run against launching
 * the same upstream directly:
 *   direct   client -> upstream-stdio.js                          (the client launches it)
 *   gateway  client -> gatehouse stdio -> upstream-stdio.js       (Gatehouse launches it)
 * One client per process is how stdio works, so this measures concurrency 1 only; calls alternate
 * between the two in rounds so that drifting background load affects both alike.
 *
 * Usage:  npm run bench   (or, after `npm run build`: node dist/bench/stdio.bench.js [--json])
 * Environment: BENCH_CALLS (default 2000), BENCH_WARMUP, BENCH_WARMUP_MAX and BENCH_WARMUP_BATCH
 * (the warm-up lasts until the latency settles: see lib/warmup.ts), BENCH_ROUNDS (4),
 * BENCH_TEXT_BYTES (64), BENCH_POLICY, BENCH_CHILD_NODE_ARGS (extra node flags for the children), as in
 * gateway.bench.ts.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from '@modelcontextprotocol/sdk/client/stdio.js';
import { childPids, minus, sampleCpu, sumDefined } from './lib/cpu.js';
import { CHILD_NODE_ARGS, installCleanupHandlers, runBench } from './lib/children.js';
import { jsonReport, report } from './lib/report.js';
import { GATEWAY_LOG_LEVEL, prepareGatehouse } from './lib/servers.js';
import { addedBy, summarize, type Accumulator } from './lib/stats.js';
import type { Procs, Result } from './lib/types.js';
import { positiveInt } from './lib/env.js';
import { describePlan, warmUp, warmupPlan, type WarmupCurve } from './lib/warmup.js';

installCleanupHandlers();

const UPSTREAM = fileURLToPath(new URL('./upstream-stdio.js', import.meta.url));
const GATEHOUSE = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));

interface Side {
  readonly target: 'direct' | 'gateway';
  readonly client: Client;
  readonly tool: string;
  readonly procs: Procs;
  readonly acc: Accumulator;
}

/** Connects a client that launches `args` with node; for Gatehouse, waits until the tool is listed. */
async function connect(args: string[], env: Record<string, string>, tool: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...CHILD_NODE_ARGS, ...args],
    env: { ...getDefaultEnvironment(), ...env },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'bench-stdio', version: '1.0.0' });
  await client.connect(transport);
  const until = performance.now() + 15_000;
  for (;;) {
    const { tools } = await client.listTools();
    if (tools.some((t) => t.name === tool)) break;
    if (performance.now() > until) throw new Error(`${tool} is not listed within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { client, pid: transport.pid ?? undefined };
}

/** Makes `count` calls one at a time, writing their latencies (ms) into `out` from `offset`. */
async function timedCalls(
  side: Side,
  count: number,
  text: string,
  out: Float64Array,
  offset: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await side.client.callTool({ name: side.tool, arguments: { text } });
    const dt = performance.now() - t0;
    const first = (res.content as { type: string; text?: string }[] | undefined)?.[0];
    if (res.isError === true || first?.text !== text)
      throw new Error(`${side.tool} returned an unexpected result: ${JSON.stringify(res)}`);
    out[offset + i] = dt;
  }
}

async function calls(side: Side, count: number, text: string): Promise<void> {
  const before = sampleCpu(side.procs);
  const start = performance.now();
  await timedCalls(side, count, text, side.acc.latencies, side.acc.offset);
  const after = sampleCpu(side.procs);
  const { acc } = side;
  acc.offset += count;
  acc.roundEnds.push(acc.offset);
  acc.elapsedMs += performance.now() - start;
  acc.cpu.bench += after.bench - before.bench;
  acc.cpu.upstream = sumDefined(acc.cpu.upstream, minus(after.upstream, before.upstream));
  acc.cpu.gateway = sumDefined(acc.cpu.gateway, minus(after.gateway, before.gateway));
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const log = json ? () => undefined : (s: string) => process.stderr.write(`${s}\n`);
  const total = positiveInt('BENCH_CALLS', 2000);
  const plan = warmupPlan();
  const rounds = Math.min(positiveInt('BENCH_ROUNDS', 4), total);
  const text = 'x'.repeat(positiveInt('BENCH_TEXT_BYTES', 64));
  const began = performance.now();

  log('starting the upstream and gatehouse stdio ...');
  const gh = await prepareGatehouse({ command: process.execPath, args: [UPSTREAM] });
  const direct = await connect([UPSTREAM], {}, 'echo');
  const gateway = await connect(
    [GATEHOUSE, 'stdio', '--config', gh.configPath],
    { GATEHOUSE_TOKEN: gh.token, GATEHOUSE_LOG_LEVEL: GATEWAY_LOG_LEVEL },
    'bench__echo',
  );
  const acc = (): Accumulator => ({
    latencies: new Float64Array(total),
    offset: 0,
    roundEnds: [],
    elapsedMs: 0,
    cpu: { bench: 0, upstream: 0, proxy: undefined, gateway: 0 },
  });
  const warmups: WarmupCurve[] = [];
  const sides: Side[] = [
    {
      target: 'direct',
      client: direct.client,
      tool: 'echo',
      // Gatehouse idles meanwhile; counted as the HTTP bench counts it.
      procs: { upstream: direct.pid, proxy: undefined, gateway: gateway.pid },
      acc: acc(),
    },
    {
      target: 'gateway',
      client: gateway.client,
      tool: 'bench__echo',
      // Gatehouse's one child is the upstream it launched.
      procs: { upstream: childPids(gateway.pid)[0], proxy: undefined, gateway: gateway.pid },
      acc: acc(),
    },
  ];
  try {
    for (const side of sides) {
      const curve = await warmUp(side.target, 1, plan, (out) =>
        timedCalls(side, out.length, text, out, 0),
      );
      warmups.push(curve);
      log(
        `  ${side.target}: warmed up with ${curve.calls} calls${curve.settled ? '' : ' (not settled)'}`,
      );
    }
    for (let r = 0; r < rounds; r++) {
      const batch = Math.floor(total / rounds) + (r < total % rounds ? 1 : 0);
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) await calls(side, batch, text);
      log(`  round ${r + 1}/${rounds} done`);
    }
  } finally {
    await Promise.all(sides.map((s) => s.client.close().catch(() => undefined)));
  }
  const results: Result[] = sides.map((s) => summarize(s.target, 1, s.acc));
  const added = [addedBy(results[0]!, results[1]!, true)];
  const meta = {
    node: process.version,
    upstream: 'child process: SDK McpServer + StdioServerTransport, the echo tool',
    gatehouse: `\`gatehouse stdio\` as a child process, launching the same upstream as its own child; log level ${GATEWAY_LOG_LEVEL}`,
    call: `tools/call echo({text}) with ${text.length} bytes of text, one client, one call at a time`,
    policy: `${process.env.BENCH_POLICY ?? 'allowlist'} (BENCH_POLICY)`,
    method: `${describePlan(plan)}; then ${rounds} alternating rounds`,
    'bench time': `${((performance.now() - began) / 1000).toFixed(1)} s`,
  };
  process.stdout.write(
    json
      ? jsonReport(meta, results, added, warmups)
      : report('Gatehouse over stdio: MCP tools/call', meta, results, added, warmups),
  );
}

await runBench(main);
