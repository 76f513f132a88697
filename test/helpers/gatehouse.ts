import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import type { MintRequest } from '../../src/identity/index.js';
import { silentLogger } from '../../src/log/index.js';
import { repoRoot } from './paths.js';
import {
  openRuntime,
  type OpenRuntimeOptions,
  startHttpServer,
  type HttpServer,
  type Runtime,
} from '../../src/server/index.js';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = repoRoot();
export const QUICKSTART_CONFIG = join(REPO_ROOT, 'examples/quickstart/gatehouse.yaml');
export const FIXTURE_SERVER = join(REPO_ROOT, 'dist/test/fixtures/flaky-server.js');
export const BIN = join(REPO_ROOT, 'bin/gatehouse.js');

const created: string[] = [];
process.once('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'gatehouse-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Parses config text as if it lived at `path`, then points store and keys at a fresh temp folder. */
export function testConfig(text: string, path: string, dir = tempDir()): Config {
  const c = parseConfig(text, path);
  return { ...c, store: { sqlite: join(dir, 'gatehouse.db') }, keys: { dir: join(dir, 'keys') } };
}

/** The quickstart config with its own temp store and keys. */
export function quickstartConfig(dir = tempDir()): Config {
  return testConfig(readFileSync(QUICKSTART_CONFIG, 'utf8'), QUICKSTART_CONFIG, dir);
}

/** The quickstart config, but a call that needs approval answers at once instead of waiting. */
export function quickstartNoWait(dir = tempDir()): Config {
  const c = quickstartConfig(dir);
  return { ...c, approvals: { ...c.approvals, wait: 0 } };
}

/** Writes a policy folder with the given files and returns its path. */
export function policyDir(
  files: Record<string, string>,
  dir = tempDir('gatehouse-policies-'),
): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A config whose policy folder holds `policies`; `yaml` lines follow `policies: { dir: . }`. */
export function configWithPolicies(policies: Record<string, string>, ...yaml: string[]): Config {
  const dir = policyDir(policies);
  return testConfig(['policies: { dir: . }', ...yaml].join('\n'), join(dir, 'gatehouse.yaml'));
}

/** YAML lines declaring the misbehaving test upstream `flaky` (tools ok, crash, hang). */
export const FLAKY_UPSTREAM = [
  'upstreams:',
  '  flaky:',
  '    command: node',
  `    args: [${FIXTURE_SERVER}]`,
];

export interface Running {
  readonly rt: Runtime;
  /** Shifts the injected clock of the whole runtime (expiry tests). */
  readonly clock: { offsetMs: number };
  readonly http: HttpServer;
  readonly url: URL;
  mint(req?: Partial<MintRequest>): Promise<string>;
  /** An MCP client of this Gatehouse; `capabilities` as the agent's client declares them. */
  client(token: string | undefined, capabilities?: ClientCapabilities): Promise<Client>;
  close(): Promise<void>;
}

export const SUPPORT_BOT: MintRequest = {
  agent: { name: 'support-bot', version: '1.4.0' },
  principal: 'user:alice',
};

/** Starts a Gatehouse (runtime + HTTP on a free port) and waits for its upstreams. */
export async function startGatehouse(
  config: Config,
  opts: Omit<OpenRuntimeOptions, 'now'> = {},
): Promise<Running> {
  const clock = { offsetMs: 0 };
  const rt = await openRuntime(config, silentLogger(), {
    ...opts,
    now: () => Date.now() + clock.offsetMs,
  });
  const http = await startHttpServer(rt, { port: 0 });
  await rt.gateway.whenSettled();
  const url = new URL(http.url);
  const clients: Client[] = [];
  return {
    rt,
    clock,
    http,
    url,
    async mint(req = {}) {
      return (await rt.authority.mint({ ...SUPPORT_BOT, ...req })).token;
    },
    async client(token, capabilities) {
      const c = new Client(
        { name: 'gatehouse-test', version: '1.0.0' },
        capabilities ? { capabilities } : undefined,
      );
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      await c.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await http.close();
      await rt.close();
    },
  };
}

/** Whether `p` settles (either way) within `ms`: for asserting that something still waits. */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = () => true;
  return Promise.race([
    p.then(settled, settled),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);
}

/** Polls until `check` returns true or the timeout passes. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Text of the first content block of a tool result. */
export function firstText(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  const first = content[0];
  return first?.type === 'text' ? (first.text ?? '') : '';
}
