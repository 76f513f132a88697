import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { ALLOW_ALL_AND_ASKING, EVERYTHING_UPSTREAM } from './helpers/content.js';
import {
  configWithPolicies,
  eventually,
  firstText,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';
import { rawMcp, type RawMcp, type RpcBody } from './helpers/mcp-raw.js';

const LONG = 'everything__trigger-long-running-operation';

/** How Gatehouse answered each POST of a client: the JSON-RPC method and the content type. */
interface Seen {
  method: string;
  type: string;
  length: string | null;
}

/**
 * How the MCP endpoint answers a POST: one JSON body when the response is the first thing to say,
 * an event stream when something must go before it; and what happens to requests whose client goes
 * away, is cancelled, or whose session ends.
 */
describe('MCP transport: JSON or event stream, disconnects and cancellation', () => {
  let gh: Running;
  let raw: RawMcp;

  before(async () => {
    gh = await startGatehouse(
      configWithPolicies(ALLOW_ALL_AND_ASKING, 'upstreams:', ...EVERYTHING_UPSTREAM),
    );
    raw = rawMcp(gh.url, await gh.mint());
  });
  after(() => gh.close());

  /** An SDK client whose POSTs are recorded. */
  async function recordingClient(): Promise<{ client: Client; seen: Seen[] }> {
    const seen: Seen[] = [];
    const recording: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      if (init?.method === 'POST' && typeof init.body === 'string') {
        const { method } = JSON.parse(init.body) as { method?: string };
        const type = res.headers.get('content-type') ?? '';
        seen.push({
          method: method ?? '(response)',
          type,
          length: res.headers.get('content-length'),
        });
      }
      return res;
    };
    const client = new Client(
      { name: 'recording', version: '1' },
      { capabilities: { sampling: {} } },
    );
    const headers = { authorization: `Bearer ${await gh.mint()}` };
    await client.connect(
      new StreamableHTTPClientTransport(gh.url, { requestInit: { headers }, fetch: recording }),
    );
    return { client, seen };
  }

  it('answers initialize and a plain tools/call as one application/json body with its length', async () => {
    const { client, seen } = await recordingClient();
    const res = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
    assert.match(firstText(res), /hi/);
    const init = seen.find((s) => s.method === 'initialize');
    const call = seen.find((s) => s.method === 'tools/call');
    assert.equal(init?.type, 'application/json');
    assert.equal(call?.type, 'application/json');
    assert.ok(Number(call?.length) > 0);
    assert.equal(seen.find((s) => s.method === 'notifications/initialized')?.type, '');
    await client.close();
  });

  it('streams a call with a progress token: progress first, then the result', async () => {
    const { client, seen } = await recordingClient();
    const progress: number[] = [];
    const res = await client.callTool(
      { name: LONG, arguments: { duration: 0.2, steps: 2 } },
      undefined,
      {
        onprogress: (p) => progress.push(p.progress),
      },
    );
    assert.match(firstText(res), /Long running operation completed/);
    // The last one may be lost upstream of this transport (the SDK client runs a progress handler a
    // turn after it reads the notification, and drops it if the result came in the same chunk).
    assert.equal(progress[0], 1);
    assert.equal(seen.find((s) => s.method === 'tools/call')?.type, 'text/event-stream');
    await client.close();
  });

  it('streams a call during which the upstream asks the client for sampling', async () => {
    const { client, seen } = await recordingClient();
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      model: 'test-model',
      role: 'assistant',
      content: { type: 'text', text: 'sampled' },
    }));
    const res = await client.callTool({
      name: 'everything__trigger-sampling-request',
      arguments: { prompt: 'say something', maxTokens: 5 },
    });
    assert.match(firstText(res), /sampled/);
    assert.equal(seen.find((s) => s.method === 'tools/call')?.type, 'text/event-stream');
    // The client's answer to sampling is a POST of a response: accepted with 202, no body.
    assert.equal(seen.find((s) => s.method === '(response)')?.type, '');
    await client.close();
  });

  const call = (id: number, duration: number) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: LONG, arguments: { duration, steps: 1 } },
  });

  it('keeps the id of a request whose client went away until it ends, and stays usable', async () => {
    const session = { 'mcp-session-id': await raw.openSession() };
    const gone = new AbortController();
    const first = raw.post(call(77, 0.6), session, gone.signal).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 150));
    gone.abort();
    assert.equal(await first, 'aborted');
    // The request runs on (a disconnect is not a cancellation): its id cannot take another's answer.
    const reused = await raw.post(call(77, 0), session);
    assert.equal(reused.status, 400);
    assert.match(((await reused.json()) as RpcBody).error?.message ?? '', /already in progress/);
    const ping = await raw.post({ jsonrpc: '2.0', id: 78, method: 'ping' }, session);
    assert.deepEqual(await ping.json(), { jsonrpc: '2.0', id: 78, result: {} });
    await eventually(async () => {
      const again = await raw.post(call(77, 0), session);
      await again.text();
      return again.status === 200;
    });
  });

  it('ends the POST of a cancelled request instead of leaving it open', async () => {
    const session = { 'mcp-session-id': await raw.openSession() };
    const started = Date.now();
    const pending = raw.post(call(90, 5), session);
    await new Promise((r) => setTimeout(r, 150));
    const cancel = await raw.post(
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 90 } },
      session,
    );
    assert.equal(cancel.status, 202);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(await res.text(), '');
    assert.ok(Date.now() - started < 4000, 'ended well before the operation would have');
  });

  it('answers requests still open when their session ends with a "session closed" error', async () => {
    const id = await raw.openSession();
    const pending = raw.post(call(91, 5), { 'mcp-session-id': id });
    await new Promise((r) => setTimeout(r, 150));
    const del = await raw.send('DELETE', undefined, { 'mcp-session-id': id });
    assert.equal(del.status, 200);
    const res = await pending;
    assert.equal(res.status, 200);
    const body = (await res.json()) as RpcBody;
    assert.equal(body.id, 91);
    assert.equal(body.error?.message, 'Session closed');
  });
});
