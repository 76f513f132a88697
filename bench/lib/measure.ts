/**
 * The measurement loop of the gateway benchmark: MCP client pools, timed `tools/call` batches,
 * and the alternating direct/gateway rounds at one concurrency level.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { minus, sampleCpu, sumDefined } from './cpu.js';
import { summarize, type Accumulator } from './stats.js';
import { warmUp, type WarmupCurve, type WarmupPlan } from './warmup.js';
import {
  TARGETS,
  type Endpoint,
  type Options,
  type Procs,
  type Result,
  type Target,
} from './types.js';

/**
 * fetch for the bench's SDK clients. The SDK hands every request of a session the same abort
 * signal, and Node's fetch (undici) drops a request's listener on it only once the request is
 * garbage-collected: between collections a busy session's signal holds over 1,500 listeners and
 * every further one printed a MaxListenersExceededWarning with its stack, thousands per run, in the
 * middle of the timed calls. No limit on that signal (0) keeps the client quiet; nothing else changes.
 */
const benchFetch: typeof fetch = (input, init) => {
  if (init?.signal) setMaxListeners(0, init.signal);
  return fetch(input, init);
};

async function openClients(ep: Endpoint, n: number): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const client = new Client({ name: `bench-client-${i}`, version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(ep.url), {
        requestInit: { headers: ep.headers },
        fetch: benchFetch,
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

/** Warms one target's clients up until their p50 settles (see warmup.ts). */
async function warmUpTarget(
  target: Target,
  pool: readonly Client[],
  tool: string,
  text: string,
  plan: WarmupPlan,
  log: (s: string) => void,
): Promise<WarmupCurve> {
  const curve = await warmUp(target, pool.length, plan, (out) =>
    runCalls(pool, tool, out.length, text, { latencies: out, offset: 0 }),
  );
  log(`    ${target}: warmed up with ${curve.calls} calls${curve.settled ? '' : ' (not settled)'}`);
  return curve;
}

/**
 * Measures every target at one concurrency level. Each target gets its own `concurrency` clients
 * (one MCP session each) and a warm-up until its latency settles, then the measured calls run in
 * `rounds` alternating batches (direct, proxy, gateway, gateway, proxy, direct, ...) so that
 * drifting background load hits all alike.
 */
export async function measureTargets(
  endpoints: Record<Target, Endpoint>,
  concurrency: number,
  calls: number,
  opts: Options,
  procs: Procs,
  text: string,
  log: (s: string) => void,
): Promise<{ results: Record<Target, Result>; warmups: WarmupCurve[] }> {
  const warmups: WarmupCurve[] = [];
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
      warmups.push(await warmUpTarget(target, pool, ep.tool, text, opts.warmup, log));
    }
    const acc = Object.fromEntries(
      TARGETS.map((t) => [
        t,
        {
          latencies: new Float64Array(calls),
          offset: 0,
          roundEnds: [] as number[],
          elapsedMs: 0,
          cpu: {
            bench: 0,
            upstream: 0,
            proxy: 0,
            gateway: procs.gateway === undefined ? undefined : 0,
          },
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
        a.roundEnds.push(a.offset);
        a.cpu.bench += after.bench - before.bench;
        a.cpu.upstream = sumDefined(a.cpu.upstream, minus(after.upstream, before.upstream));
        a.cpu.proxy = sumDefined(a.cpu.proxy, minus(after.proxy, before.proxy));
        a.cpu.gateway = sumDefined(a.cpu.gateway, minus(after.gateway, before.gateway));
      }
      log(`    round ${r + 1}/${rounds} done`);
    }
    return {
      results: {
        direct: summarize('direct', concurrency, acc.direct),
        proxy: summarize('proxy', concurrency, acc.proxy),
        gateway: summarize('gateway', concurrency, acc.gateway),
      },
      warmups,
    };
  } finally {
    await Promise.all(Object.values(clients).map((pool) => closeClients(pool)));
  }
}
