import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { after, before, describe, it } from 'node:test';
import {
  credentialRelay,
  passedScenarios,
  runConformance,
  type ScenarioResults,
} from './helpers/conformance.js';
import {
  configWithPolicies,
  REPO_ROOT,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';
import { freePort, spawnUntil } from './helpers/processes.js';

const EVERYTHING = join(REPO_ROOT, 'node_modules/.bin/mcp-server-everything');

/** Scenarios Gatehouse is known not to pass yet, each with why (a missing file fails the test). */
function knownGaps(): Map<string, string> {
  const raw: unknown = parse(readFileSync(join(REPO_ROOT, 'test/conformance-gaps.yaml'), 'utf8'));
  return new Map(Object.entries((raw ?? {}) as Record<string, string>));
}

/**
 * Issue 9's yardstick: the MCP conformance suite (server mode) against server-everything directly
 * and through Gatehouse in front of it. Gatehouse must pass every scenario the server passes alone.
 */
describe('MCP conformance: Gatehouse in front of server-everything', () => {
  let direct: ChildProcess;
  let gh: Running;
  let relay: Awaited<ReturnType<typeof credentialRelay>>;
  const target: { url?: URL; token?: string } = {};

  before(async () => {
    const port = await freePort();
    direct = await spawnUntil(EVERYTHING, ['streamableHttp'], /listening on port/, {
      PORT: String(port),
    });
    target.url = new URL(`http://127.0.0.1:${port}/mcp`);
    relay = await credentialRelay(target);
    gh = await startGatehouse(
      configWithPolicies(
        { 'all.cedar': '@id("all") permit (principal, action, resource);' },
        `listen: { port: 0, allowed_hosts: ['${relay.host}'] }`,
        'upstreams:',
        '  everything:',
        `    command: ${EVERYTHING}`,
        '    trust: trusted',
      ),
    );
  });
  after(async () => {
    relay.server.close();
    direct.kill();
    await gh.close();
  });

  it('passes every scenario that server-everything passes on its own', async (t) => {
    const alone: ScenarioResults = await runConformance(target.url as URL);
    target.url = gh.url;
    target.token = await gh.mint();
    const behind = await runConformance(relay.url);
    const list = (r: ScenarioResults) => passedScenarios(r).join(', ') || '(none)';
    t.diagnostic(`server-everything alone passes: ${list(alone)}`);
    t.diagnostic(`behind Gatehouse passes:        ${list(behind)}`);
    const gaps = knownGaps();
    const lost = passedScenarios(alone).filter((s) => !passedScenarios(behind).includes(s));
    const why = (s: string) => `${s}: failed ${behind.get(s)?.failed.join(', ') ?? 'not run'}`;
    const unexpected = lost.filter((s) => !gaps.has(s));
    assert.deepEqual(
      unexpected,
      [],
      `scenarios lost behind Gatehouse:\n${unexpected.map(why).join('\n')}`,
    );
    const fixed = [...gaps.keys()].filter((s) => !lost.includes(s));
    assert.deepEqual(fixed, [], `these pass now: remove them from test/conformance-gaps.yaml`);
    t.diagnostic(`known gaps (test/conformance-gaps.yaml): ${[...gaps.keys()].join(', ')}`);
  });
});
