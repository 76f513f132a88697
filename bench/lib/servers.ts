/**
 * The two servers the gateway benchmark talks to: the benchmark upstream (always a child
 * process) and Gatehouse in front of it (a child process, or in this process), with the temp
 * config, policy and agent token that Gatehouse needs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/index.js';
import { openLocalAdmin, openRuntime, startHttpServer } from '../../src/server/index.js';
import { makeTempDir, onCleanup, spawnNode } from './children.js';
import type { GatewayMode } from './types.js';

/** `node bin/gatehouse.js <args>`, stopped when this process goes away (see that file). */
const GATEHOUSE = fileURLToPath(new URL('../gatehouse-child.js', import.meta.url));
const UPSTREAM = fileURLToPath(new URL('../upstream-server.js', import.meta.url));
const PROXY = fileURLToPath(new URL('../proxy-server.js', import.meta.url));

/** Starts bench/upstream-server.ts as a child; resolves with its MCP URL and pid. */
export async function startUpstream(): Promise<{ url: string; pid: number | undefined }> {
  const { child, match } = await spawnNode(
    'benchmark upstream',
    [UPSTREAM],
    /^UPSTREAM_READY (\S+)$/,
  );
  return { url: match[1]!, pid: child.pid };
}

/** Starts bench/proxy-server.ts, a bare proxy in front of the upstream, as a child. */
export async function startProxy(
  upstreamUrl: string,
): Promise<{ url: string; pid: number | undefined }> {
  const { child, match } = await spawnNode(
    'reference proxy',
    [PROXY, upstreamUrl],
    /^PROXY_READY (\S+)$/,
  );
  return { url: match[1]!, pid: child.pid };
}

/** The benchmark upstream as Gatehouse's config names it: a URL, or a command it launches. */
export type BenchUpstream =
  { readonly url: string } | { readonly command: string; readonly args: string[] };

/**
 * The policy the gateway decides every benchmark call with. `allowlist` (default): the echo tool
 * for every agent, a scope-only policy, so Cedar gets the slim request. `conditions`
 * (BENCH_POLICY=conditions): the same permit only for the benchmark agent, for arguments of
 * bounded size, from a run that has read no untrusted content; Cedar then gets the whole request,
 * as for most policies that guard a tool that acts.
 */
function benchPolicy(kind = process.env.BENCH_POLICY ?? 'allowlist'): string {
  const lines = ['// The benchmark agent may call the echo tool.', '@id("bench-echo")'];
  const permit =
    'permit (principal, action in Action::"call_tool", resource == Tool::"bench__echo")';
  if (kind === 'allowlist') return [...lines, `${permit};`, ''].join('\n');
  if (kind === 'conditions')
    return [
      ...lines,
      permit,
      'when { principal.name == "bench" && context.run.lowest_trust != "untrusted" };',
      '',
    ].join('\n');
  throw new Error('BENCH_POLICY must be "allowlist" or "conditions"');
}

function writeGatehouseConfig(upstream: BenchUpstream): { path: string; text: string } {
  const dir = makeTempDir('gatehouse-bench-');
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  writeFileSync(join(policies, 'bench.cedar'), benchPolicy());
  // JSON is YAML; every path is absolute.
  const text = JSON.stringify(
    {
      listen: { host: '127.0.0.1', port: 0 },
      store: { sqlite: join(dir, 'gatehouse.db') },
      keys: { dir: join(dir, 'keys') },
      policies: { dir: policies },
      identity: { trust_domain: 'bench.gatehouse.local', default_ttl: '1h', max_ttl: '1h' },
      upstreams: { bench: { ...upstream, trust: 'internal' } },
    },
    null,
    2,
  );
  const path = join(dir, 'gatehouse.yaml');
  writeFileSync(path, text);
  return { path, text };
}

const BENCH_AGENT = { agent: { name: 'bench', version: '1' }, principal: 'user:bench' };

/**
 * A Gatehouse config in front of `upstream` and a credential for the benchmark agent, for a
 * Gatehouse the benchmark launches itself (`gatehouse stdio`).
 */
export async function prepareGatehouse(
  upstream: BenchUpstream,
): Promise<{ configPath: string; token: string }> {
  const file = writeGatehouseConfig(upstream);
  // Minting first also creates the signing key, before the gateway reads the keys folder.
  const admin = await openLocalAdmin(parseConfig(file.text, file.path));
  const { token } = await admin.authority.mint(BENCH_AGENT).finally(() => admin.close());
  return { configPath: file.path, token };
}

/**
 * The child gateway's log level: `warn`, so that the bench measures the gate and not the decision
 * log line (`info`, the default, writes one per call: about 0.1 ms more on a 2-vCPU VM).
 */
export const GATEWAY_LOG_LEVEL = process.env.GATEHOUSE_LOG_LEVEL ?? 'warn';

/**
 * Starts Gatehouse in front of the upstream (`child`: `gatehouse up`; `inproc`: in this process)
 * and mints a token for the benchmark agent; pid is set only for a child.
 */
export async function startGateway(
  mode: GatewayMode,
  upstreamUrl: string,
): Promise<{ url: string; token: string; pid: number | undefined }> {
  if (mode === 'child') {
    const { configPath, token } = await prepareGatehouse({ url: upstreamUrl });
    const env = { ...process.env, GATEHOUSE_LOG_LEVEL: GATEWAY_LOG_LEVEL };
    const { child, match } = await spawnNode(
      'gatehouse up',
      [GATEHOUSE, 'up', '--config', configPath],
      /serving MCP at (\S+)/,
      env,
    );
    return { url: match[1]!, token, pid: child.pid };
  }

  const file = writeGatehouseConfig({ url: upstreamUrl });
  const rt = await openRuntime(parseConfig(file.text, file.path), silentLogger());
  onCleanup(() => rt.close());
  const { token } = await rt.authority.mint(BENCH_AGENT);
  const http = await startHttpServer(rt, { port: 0 });
  onCleanup(() => http.close());
  await rt.gateway.whenSettled();
  const status = rt.gateway.status().find((u) => u.name === 'bench');
  if (status?.state !== 'up')
    throw new Error(`gateway cannot reach the upstream: ${JSON.stringify(status)}`);
  return { url: http.url, token, pid: undefined };
}
