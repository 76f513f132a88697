/**
 * MCP sessions over HTTP are closed once the client has not used them for `sessionIdleMs`, and
 * never while it is using them: a request still open (a long call) or its GET stream. The runtime's
 * clock is moved; plain fetch (no GET stream) and the real SDK client talk to a real upstream
 * through the gateway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { startHttpServer, type HttpServer } from '../src/server/index.js';
import { ALLOW_ALL } from './helpers/content.js';
import {
  configWithPolicies,
  eventually,
  firstText,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';
import { startHttpUpstream, type HttpUpstream } from './helpers/http-upstream.js';
import { rawMcp } from './helpers/mcp-raw.js';

const IDLE_MS = 60_000;

describe('idle MCP sessions', () => {
  let up: HttpUpstream;
  let gh: Running;
  let http: HttpServer;
  const clients: Client[] = [];

  before(async () => {
    up = await startHttpUpstream('sse');
    gh = await startGatehouse(
      configWithPolicies(ALLOW_ALL, 'upstreams:', '  up:', `    url: ${up.url}`),
    );
    // Swept every 50 ms of real time, idle by the runtime's clock (which the tests move).
    http = await startHttpServer(gh.rt, { port: 0, sessionIdleMs: IDLE_MS, sweepEveryMs: 50 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await http.close();
    await gh.close();
    await up.close();
  });

  const connect = async (): Promise<Client> => {
    const client = new Client({ name: 'sessions-test', version: '1.0.0' });
    const headers = { authorization: `Bearer ${await gh.mint()}` };
    await client.connect(
      new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers } }),
    );
    clients.push(client);
    return client;
  };
  /** A session over plain fetch: no GET stream, so only its requests keep it in use. */
  const rawSession = async () => {
    const raw = rawMcp(new URL(http.url), await gh.mint());
    const id = await raw.openSession();
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
    const initialized = await raw.post(
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      headers,
    );
    assert.equal(initialized.status, 202);
    let next = 10;
    return {
      post: (body: unknown, signal?: AbortSignal) => raw.post(body, headers, signal),
      call: (name: string, args: Record<string, unknown>, signal?: AbortSignal) =>
        raw.post(
          { jsonrpc: '2.0', id: next++, method: 'tools/call', params: { name, arguments: args } },
          headers,
          signal,
        ),
    };
  };
  /** Lets a few sweeps run (each 50 ms apart in real time). */
  const sweeps = () => new Promise((resolve) => setTimeout(resolve, 200));

  it('closes a session nobody used for longer than the idle time, and only then', async () => {
    const session = await rawSession();
    const echo = async (text: string) => {
      const res = await session.call('up__echo', { text });
      return { status: res.status, body: await res.text() };
    };
    assert.equal((await echo('a')).status, 200);
    const open = http.sessionCount();
    gh.clock.offsetMs += IDLE_MS - 1_000;
    await sweeps();
    assert.equal(http.sessionCount(), open, 'not idle long enough yet');
    const b = await echo('b');
    assert.equal(b.status, 200, 'a request makes it fresh again');
    assert.match(b.body, /"text":"b"/);
    gh.clock.offsetMs += IDLE_MS - 1_000;
    await sweeps();
    assert.equal(http.sessionCount(), open);
    gh.clock.offsetMs += 2_000;
    await eventually(() => http.sessionCount() === open - 1, 5000);
    const gone = await echo('c');
    assert.equal(gone.status, 404, 'its id is no longer served');
    assert.match(gone.body, /Session not found/);
  });

  it('keeps a session whose call is still running, and counts idle time from when it ends', async () => {
    const session = await rawSession();
    const open = http.sessionCount();
    const waiting = session.call('up__wait', { ms: 600 });
    await sweeps();
    gh.clock.offsetMs += 10 * IDLE_MS;
    await sweeps();
    assert.equal(http.sessionCount(), open, 'a call in flight keeps its session');
    const res = await waiting;
    assert.equal(res.status, 200);
    assert.match(await res.text(), /waited 600 ms/);
    await sweeps();
    assert.equal(http.sessionCount(), open, 'idle time starts when the call ends');
    gh.clock.offsetMs += IDLE_MS + 1_000;
    await eventually(() => http.sessionCount() === open - 1, 5000);
  });

  it('keeps a session while a call held by the client is cancelled, then lets it go', async () => {
    const session = await rawSession();
    const open = http.sessionCount();
    const hanging = session.call('up__hang', {});
    await sweeps();
    gh.clock.offsetMs += 10 * IDLE_MS;
    await sweeps();
    assert.equal(http.sessionCount(), open);
    const cancel = await session.post({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 10, reason: 'test' },
    });
    assert.equal(cancel.status, 202);
    await (await hanging).text();
    gh.clock.offsetMs += IDLE_MS + 1_000;
    await eventually(() => http.sessionCount() === open - 1, 5000);
  });

  it('keeps the session of a client listening on its GET stream', async () => {
    const client = await connect();
    const open = http.sessionCount();
    // The SDK client opens its GET stream once initialized: let it arrive before time moves.
    await sweeps();
    gh.clock.offsetMs += 10 * IDLE_MS;
    await sweeps();
    assert.equal(http.sessionCount(), open);
    const res = await client.callTool({ name: 'up__echo', arguments: { text: 'still here' } });
    assert.equal(firstText(res), 'still here');
  });
});
