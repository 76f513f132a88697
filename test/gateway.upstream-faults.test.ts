import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  configWithPolicies,
  eventually,
  firstText,
  FLAKY_UPSTREAM,
  REPO_ROOT,
  type Running,
  startGatehouse,
} from './helpers/gatehouse.js';

const WEB = join(REPO_ROOT, 'dist/examples/quickstart/servers/web.js');

/** A2: a crashing or hanging upstream gives its callers a clear error and hurts nobody else. */
describe('upstream faults', () => {
  let gh: Running;
  let client: Client;

  before(async () => {
    const config = configWithPolicies(
      { 'all.cedar': '@id("all") permit (principal, action, resource);' },
      ...FLAKY_UPSTREAM,
      '    timeout: 1s',
      '  web:',
      '    command: node',
      `    args: [${WEB}]`,
    );
    gh = await startGatehouse(config);
    client = await gh.client(await gh.mint());
  });
  after(async () => gh.close());

  it('passes an upstream JSON-RPC error through, and records it as the result of the call', async () => {
    await assert.rejects(
      client.callTool({ name: 'flaky__refuse', arguments: {} }),
      (err: unknown) => err instanceof McpError && /open a page first/.test(err.message),
    );
    const size = await gh.rt.store.auditSize();
    const [last] = await gh.rt.store.auditEntries(size - 1, 1);
    const entry = JSON.parse(Buffer.from(last?.leaf ?? []).toString('utf8')) as {
      type: string;
      status: string;
      detail: string;
    };
    assert.equal(entry.type, 'result');
    assert.equal(entry.status, 'failed');
    assert.match(entry.detail, /upstream error -32042: .*open a page first/);
  });

  it('answers a hanging upstream with a clear error within its timeout', async () => {
    const started = Date.now();
    const res = await client.callTool({ name: 'flaky__hang', arguments: {} });
    const took = Date.now() - started;
    assert.equal(res.isError, true);
    assert.match(firstText(res), /Upstream server "flaky" did not answer within the timeout/);
    assert.ok(took >= 900 && took < 5000, `took ${took} ms`);
  });

  it('answers a crashed upstream with a clear error, keeps the others serving, and restarts it', async () => {
    const pidBefore = firstText(await client.callTool({ name: 'flaky__ok', arguments: {} }));
    const crashed = await client.callTool({ name: 'flaky__crash', arguments: {} });
    assert.equal(crashed.isError, true);
    assert.match(firstText(crashed), /Upstream server "flaky" failed/);

    const web = await client.callTool({
      name: 'web__fetch',
      arguments: { url: 'https://status.example.com/' },
    });
    assert.match(firstText(web), /All systems operational/);

    await eventually(async () => {
      const res = await client.callTool({ name: 'flaky__ok', arguments: {} });
      return !res.isError && firstText(res) !== pidBefore;
    });
    const status = gh.rt.gateway.status().find((s) => s.name === 'flaky');
    assert.equal(status?.state, 'up');
    assert.ok((status?.restarts ?? 0) >= 1);
  });
});
