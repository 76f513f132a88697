/**
 * The whole gateway path to Streamable HTTP upstreams (the SDK's server, in JSON and in SSE): calls,
 * configured headers, a server request relayed to the agent, list changes heard on the GET stream,
 * and upstreams that answer too much, die mid-call or forget their sessions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { ALLOW_ALL_AND_ASKING } from './helpers/content.js';
import {
  configWithPolicies,
  eventually,
  firstText,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';
import { startHttpUpstream, type HttpUpstream } from './helpers/http-upstream.js';
import { MAX_UPSTREAM_MESSAGE_BYTES } from '../src/gateway/http-transport.js';

const TOKEN = 'Bearer gateway-to-upstream';

describe('gateway in front of Streamable HTTP upstreams', () => {
  let json: HttpUpstream;
  let sse: HttpUpstream;
  let gh: Running;

  before(async () => {
    [json, sse] = await Promise.all([startHttpUpstream('json'), startHttpUpstream('sse')]);
    const upstream = (name: string, up: HttpUpstream) => [
      `  ${name}:`,
      `    url: ${up.url}`,
      `    headers: { authorization: "${TOKEN}" }`,
    ];
    gh = await startGatehouse(
      configWithPolicies(
        ALLOW_ALL_AND_ASKING,
        'upstreams:',
        ...upstream('json', json),
        ...upstream('sse', sse),
      ),
    );
  });
  after(async () => {
    await gh.close();
    await Promise.all([json.close(), sse.close()]);
  });

  it('calls tools on both, with the configured headers', async () => {
    const client = await gh.client(await gh.mint());
    for (const name of ['json', 'sse']) {
      const res = await client.callTool({ name: `${name}__echo`, arguments: { text: name } });
      assert.equal(firstText(res), name);
    }
    for (const up of [json, sse])
      assert.ok(up.seen.every((r) => r.headers.authorization === TOKEN));
  });

  it("relays the upstream's sampling request to the calling agent and its answer back", async () => {
    const client = await gh.client(await gh.mint(), { sampling: {} });
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      model: 'm',
      role: 'assistant',
      content: { type: 'text', text: 'from the agent' },
    }));
    const res = await client.callTool({ name: 'sse__ask', arguments: { prompt: 'hi' } });
    assert.equal(firstText(res), 'sampled: from the agent');
  });

  it("hears the upstream's list_changed on its GET stream and lists the new tool", async () => {
    const client = await gh.client(await gh.mint());
    let added = 0;
    await eventually(async () => {
      if (added < 50) sse.addTool(`late${++added}`);
      const names = (await client.listTools()).tools.map((t) => t.name);
      return names.some((n) => n.startsWith('sse__late'));
    });
  });

  it('refuses a result larger than the limit with a clear error, then serves the next call', async () => {
    const client = await gh.client(await gh.mint());
    const res = await client.callTool({
      name: 'json__big',
      arguments: { bytes: MAX_UPSTREAM_MESSAGE_BYTES + 1 },
    });
    assert.equal(res.isError, true);
    assert.match(firstText(res), /larger than 16777216 bytes/);
    const ok = await client.callTool({ name: 'json__echo', arguments: { text: 'still here' } });
    assert.equal(firstText(ok), 'still here');
  });

  it('fails a call whose upstream connection dies mid-call, at once, and recovers', async () => {
    const client = await gh.client(await gh.mint());
    const started = Date.now();
    const res = await client.callTool({ name: 'sse__die', arguments: {} });
    assert.equal(res.isError, true);
    assert.match(
      firstText(res),
      /Upstream server "sse" failed: .*(closed the connection|cannot reach)/,
    );
    assert.ok(Date.now() - started < 5000);
    await eventually(async () => {
      const again = await client.callTool({ name: 'sse__echo', arguments: { text: 'back' } });
      return firstText(again) === 'back';
    });
  });

  it('reconnects with a new session when the upstream forgot the old one (restart)', async () => {
    const client = await gh.client(await gh.mint());
    const restarts = () => gh.rt.gateway.status().find((s) => s.name === 'json')?.restarts ?? 0;
    const before = restarts();
    json.forgetSessions();
    await eventually(async () => {
      const res = await client.callTool({ name: 'json__echo', arguments: { text: 'new' } });
      return firstText(res) === 'new' && restarts() > before;
    });
  });
});
