import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  firstText,
  policyDir,
  REPO_ROOT,
  startGatehouse,
  testConfig,
  type Running,
} from './helpers/gatehouse.js';
import { freePort, spawnUntil } from './helpers/processes.js';
import { withoutReceipt } from './helpers/receipts.js';

const EVERYTHING = join(REPO_ROOT, 'node_modules/.bin/mcp-server-everything');

const POLICY = `
@id("everything-all")
permit (principal, action in Action::"call_tool", resource in Server::"everything");
@id("everything-http-all")
permit (principal, action in Action::"call_tool", resource in Server::"everyhttp");
@id("no-env")
@reason("environment variables may hold secrets")
forbid (principal, action in Action::"call_tool", resource in Label::"secrets:yes");
`;

/** Calls whose results are deterministic, so the gateway's answer can be compared with the upstream's. */
const CALLS: readonly [string, Record<string, unknown>][] = [
  ['echo', { message: 'hello through the gate' }],
  ['get-sum', { a: 19, b: 23.5 }],
  ['get-tiny-image', {}],
  ['get-structured-content', { location: 'Chicago' }],
  ['get-annotated-message', { messageType: 'success', includeImage: true }],
  // Resource links. (Its embedded resources carry the time they were made, to the second: they are
  // compared exactly in gateway.content-gates.test.ts with a fixture of fixed content.)
  ['get-resource-links', { count: 4 }],
];

/** Against the reference `server-everything`, as a stdio upstream and as a Streamable HTTP upstream. */
describe('gateway in front of @modelcontextprotocol/server-everything', () => {
  let gh: Running;
  let httpUpstream: ChildProcess;
  let httpUrl: string;
  let client: Client;
  let direct: Client;

  before(async () => {
    const port = await freePort();
    httpUpstream = await spawnUntil(EVERYTHING, ['streamableHttp'], /listening on port/i, {
      PORT: String(port),
    });
    httpUrl = `http://127.0.0.1:${port}/mcp`;
    const dir = policyDir({ 'everything.cedar': POLICY });
    const yaml = [
      'policies: { dir: . }',
      'upstreams:',
      '  everything:',
      `    command: ${EVERYTHING}`,
      '    args: [stdio]',
      '    tools:',
      '      get-env: { labels: { secrets: "yes" } }',
      '  everyhttp:',
      `    url: ${httpUrl}`,
      '    tools:',
      '      get-env: { labels: { secrets: "yes" } }',
    ].join('\n');
    gh = await startGatehouse(testConfig(yaml, join(dir, 'gatehouse.yaml')));
    client = await gh.client(await gh.mint());
    direct = new Client({ name: 'direct', version: '1' });
    await direct.connect(
      new StdioClientTransport({ command: EVERYTHING, args: ['stdio'], stderr: 'ignore' }),
    );
  });
  after(async () => {
    await direct.close();
    await gh.close();
    httpUpstream.kill();
  });

  for (const prefix of ['everything', 'everyhttp']) {
    it(`returns exactly the upstream's results through the ${prefix} upstream`, async () => {
      for (const [tool, args] of CALLS) {
        const expected = await direct.callTool({ name: tool, arguments: args });
        const got = await client.callTool({ name: `${prefix}__${tool}`, arguments: args });
        assert.deepEqual(withoutReceipt(got), expected, `${tool} differs`);
      }
    });

    it(`denies get-env through the ${prefix} upstream and hides it`, async () => {
      const res = await client.callTool({ name: `${prefix}__get-env`, arguments: {} });
      assert.equal(res.isError, true);
      assert.match(firstText(res), /environment variables may hold secrets.*no-env/);
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(!names.includes(`${prefix}__get-env`));
      assert.ok(names.includes(`${prefix}__echo`));
    });
  }

  it('keeps structured content and the output schema intact', async () => {
    const tools = (await client.listTools()).tools;
    const structured = tools.find((t) => t.name === 'everything__get-structured-content');
    assert.ok(structured?.outputSchema, 'the output schema is passed through');
    const res = await client.callTool({
      name: 'everything__get-structured-content',
      arguments: { location: 'New York' },
    });
    assert.equal(typeof (res.structuredContent as { temperature?: unknown }).temperature, 'number');
  });

  it("relays the upstream's progress notifications to the agent that asked for them", async () => {
    for (const server of ['everything', 'everyhttp']) {
      const seen: { progress: number; total?: number }[] = [];
      const res = await client.callTool(
        {
          name: `${server}__trigger-long-running-operation`,
          arguments: { duration: 0.3, steps: 3 },
        },
        undefined,
        { onprogress: (p) => seen.push({ progress: p.progress, total: p.total }) },
      );
      assert.match(firstText(res), /Long running operation completed/, server);
      // The last step races the result even without Gatehouse (the SDK client drops progress that
      // arrives after the answer), so: the first steps, in order, with the upstream's total.
      assert.ok(seen.length >= 2, `${server}: ${JSON.stringify(seen)}`);
      assert.deepEqual(
        seen,
        seen.map((_, i) => ({ progress: i + 1, total: 3 })),
        `${server}: steps in order`,
      );
    }
  });

  it('lets an agent reach the HTTP upstream directly too (sanity of the comparison)', async () => {
    const raw = new Client({ name: 'raw', version: '1' });
    await raw.connect(new StreamableHTTPClientTransport(new URL(httpUrl)));
    const res = await raw.callTool({ name: 'echo', arguments: { message: 'x' } });
    assert.match(firstText(res), /x/);
    await raw.close();
  });
});
