/**
 * The gateway's Streamable HTTP client transport against the SDK's own server transport on a real
 * HTTP server, answering in JSON and in SSE: headers, answers, server requests, the GET stream,
 * limits, and upstreams that fail, forget, die, hang or stall in an error's body.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  LATEST_PROTOCOL_VERSION,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { AddressInfo } from 'node:net';
import { endpoint, Exchange } from '../src/gateway/http-exchange.js';
import { HttpClientTransport } from '../src/gateway/http-transport.js';
import { eventually, firstText } from './helpers/gatehouse.js';
import { startHttpUpstream, type HttpUpstream } from './helpers/http-upstream.js';

const SECRET = 'Bearer upstream-token-123';

async function connect(
  up: HttpUpstream,
  maxMessageBytes?: number,
): Promise<{ client: Client; transport: HttpClientTransport; errors: Error[] }> {
  const transport = new HttpClientTransport(new URL(up.url), {
    headers: { authorization: SECRET },
    ...(maxMessageBytes ? { maxMessageBytes } : {}),
  });
  const client = new Client(
    { name: 'transport-test', version: '1' },
    { capabilities: { sampling: {} } },
  );
  const errors: Error[] = [];
  client.onerror = (err) => errors.push(err);
  await client.connect(transport);
  return { client, transport, errors };
}

for (const mode of ['json', 'sse'] as const) {
  describe(`HTTP client transport, upstream answering in ${mode}`, () => {
    let up: HttpUpstream;
    before(async () => (up = await startHttpUpstream(mode)));
    after(() => up.close());

    it('sends the session id once known, the protocol version once negotiated, and our headers', async () => {
      const from = up.seen.length;
      const { client, transport } = await connect(up);
      const res = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
      assert.equal(firstText(res), 'hello');
      const posts = up.seen.slice(from).filter((r) => r.method === 'POST');
      assert.ok(posts.length >= 3, 'initialize, initialized, tools/call');
      const [init, ...later] = posts;
      assert.equal(init?.headers['mcp-session-id'], undefined);
      assert.ok(transport.sessionId);
      for (const r of posts) {
        assert.equal(r.headers.authorization, SECRET);
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers.accept, 'application/json, text/event-stream');
        assert.ok(Number(r.headers['content-length']) > 0, 'content-length, not chunked');
        assert.equal(r.headers['transfer-encoding'], undefined);
      }
      for (const r of later) {
        assert.equal(r.headers['mcp-session-id'], transport.sessionId);
        assert.equal(r.headers['mcp-protocol-version'], LATEST_PROTOCOL_VERSION);
      }
      await client.close();
    });

    // A JSON answer has no room for notifications (the SDK server sends them on the GET stream).
    if (mode === 'sse')
      it('delivers every progress notification, even the one that arrives with the result', async () => {
        const { client } = await connect(up);
        for (let round = 0; round < 5; round++) {
          const seen: number[] = [];
          const res = await client.callTool({ name: 'steps', arguments: { steps: 3 } }, undefined, {
            onprogress: (p) => seen.push(p.progress),
          });
          assert.equal(firstText(res), '3 steps');
          assert.deepEqual(seen, [1, 2, 3], `round ${round}`);
        }
        await client.close();
      });

    it('refuses a response larger than the limit, and keeps serving after it', async () => {
      const { client } = await connect(up, 8192);
      await assert.rejects(
        client.callTool({ name: 'big', arguments: { bytes: 20_000 } }),
        /(larger|longer) than 8192 bytes/,
      );
      const ok = await client.callTool({ name: 'big', arguments: { bytes: 1000 } });
      assert.equal(firstText(ok).length, 1000);
      await client.close();
    });

    it('fails a call on HTTP 500 with the status and the body, never the headers', async () => {
      const { client, errors } = await connect(up);
      up.failNext(500, 'boom\n\u0000 at line 1');
      await assert.rejects(client.callTool({ name: 'echo', arguments: { text: 'x' } }), (err) => {
        const message = (err as Error).message;
        assert.match(message, /the upstream answered HTTP 500: boom at line 1/);
        assert.doesNotMatch(message, /upstream-secret|upstream-token/);
        return true;
      });
      assert.ok(
        errors.some((e) => /HTTP 500/.test(e.message)),
        'onerror heard it',
      );
      assert.equal(
        firstText(await client.callTool({ name: 'echo', arguments: { text: 'y' } })),
        'y',
      );
      await client.close();
    });

    it('closes when the upstream no longer knows the session (404), so it can be reconnected', async () => {
      const { client, transport } = await connect(up);
      let closed = 0;
      client.onclose = () => closed++;
      // Once the GET stream is open, the call is what finds the session gone.
      await eventually(() =>
        up.seen.some(
          (r) => r.method === 'GET' && r.headers['mcp-session-id'] === transport.sessionId,
        ),
      );
      up.forgetSessions();
      await assert.rejects(
        client.callTool({ name: 'echo', arguments: { text: 'x' } }),
        /no longer knows the session \(HTTP 404\): Session not found/,
      );
      await eventually(() => closed === 1);
      const deletes = up.seen.filter((r) => r.method === 'DELETE').length;
      await client.close();
      assert.equal(closed, 1, 'onclose once');
      assert.equal(up.seen.filter((r) => r.method === 'DELETE').length, deletes, 'no DELETE');
    });

    it('fails a call at once when the upstream drops the connection mid-call', async () => {
      const { client } = await connect(up);
      const started = Date.now();
      await assert.rejects(
        client.callTool({ name: 'die', arguments: {} }, undefined, { timeout: 10_000 }),
        /closed the connection before its response ended|cannot reach the upstream/,
      );
      assert.ok(Date.now() - started < 2000, 'not at the timeout');
      await client.close();
    });

    it('never sends a call again when its kept-alive connection breaks after the upstream had it', async () => {
      const { client } = await connect(up);
      // Calls first, so that the next one goes out on a kept-alive connection and others are free.
      await Promise.all(
        [1, 2].map(() => client.callTool({ name: 'echo', arguments: { text: 'warm' } })),
      );
      await new Promise((resolve) => setImmediate(resolve));
      const runs = up.resetRuns();
      await assert.rejects(
        client.callTool({ name: 'reset', arguments: {} }, undefined, { timeout: 10_000 }),
        /closed the connection before its response ended|cannot reach the upstream/,
      );
      // A reset connection does not say whether the upstream had the call; here it ran it.
      assert.equal(up.resetRuns() - runs, 1, 'the tool ran once');
      const ok = await client.callTool({ name: 'echo', arguments: { text: 'after' } });
      assert.equal(firstText(ok), 'after');
      await client.close();
    });

    it('aborts a call in flight on close, and ends the session with DELETE', async () => {
      const { client, transport } = await connect(up);
      const sid = transport.sessionId;
      const call = assert.rejects(client.callTool({ name: 'hang', arguments: {} }), /closed/i);
      await eventually(() =>
        up.seen.some(
          (r) =>
            r.method === 'POST' &&
            r.headers['content-length'] !== undefined &&
            r.headers['mcp-session-id'] === sid,
        ),
      );
      await client.close();
      await call;
      const del = up.seen.find((r) => r.method === 'DELETE' && r.headers['mcp-session-id'] === sid);
      assert.ok(del, 'DELETE with the session id');
      assert.equal(del.headers.authorization, SECRET);
    });

    it('stops reading an answer the client cancelled', async () => {
      const { client } = await connect(up);
      const controller = new AbortController();
      const call = client.callTool({ name: 'hang', arguments: {} }, undefined, {
        signal: controller.signal,
      });
      await new Promise((r) => setTimeout(r, 100));
      controller.abort(new Error('no longer needed'));
      await assert.rejects(call, /no longer needed/);
      assert.equal(
        firstText(await client.callTool({ name: 'echo', arguments: { text: 'z' } })),
        'z',
      );
      await client.close();
    });
  });
}

describe('HTTP client transport, server-initiated messages (SSE)', () => {
  let up: HttpUpstream;
  before(async () => (up = await startHttpUpstream('sse')));
  after(() => up.close());

  it("carries the server's sampling request on the call's own stream, before the result", async () => {
    const { client } = await connect(up);
    client.setRequestHandler(CreateMessageRequestSchema, (req) => ({
      model: 'm',
      role: 'assistant',
      content: { type: 'text', text: `re: ${JSON.stringify(req.params.messages[0]?.content)}` },
    }));
    const res = await client.callTool({ name: 'ask', arguments: { prompt: 'why?' } });
    assert.match(firstText(res), /^sampled: re: .*why\?/);
    await client.close();
  });

  it('hears list_changed on the GET stream, and reopens the stream after it drops', async () => {
    const { client } = await connect(up);
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    // A notification sent before the upstream registered the stream is lost: add until one is heard.
    let added = 0;
    const heard = async (n: number) =>
      eventually(() => {
        if (changed < n) up.addTool(`tool${++added}`);
        return changed >= n;
      });
    await heard(1);
    const gets = () => up.seen.filter((r) => r.method === 'GET').length;
    const opened = gets();
    up.dropStreams();
    await eventually(() => gets() > opened, 5000);
    const seen = changed;
    await heard(seen + 1);
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes(`tool${added}`));
    await client.close();
  });
});

describe('HTTP client transport, an upstream that closes a call stream to be polled', () => {
  let up: HttpUpstream;
  before(async () => (up = await startHttpUpstream('resumable')));
  after(() => up.close());

  it('resumes the stream with GET and the last event id, and gets the answer', async () => {
    const { client } = await connect(up);
    const from = up.seen.length;
    const res = await client.callTool({ name: 'polled', arguments: {} });
    assert.equal(firstText(res), 'after the poll');
    const resumed = up.seen
      .slice(from)
      .filter((r) => r.method === 'GET' && r.headers['last-event-id'] !== undefined);
    assert.ok(resumed.length >= 1, 'a GET with last-event-id');
    await client.close();
  });

  it('does not reopen the stream of a call cancelled while it waited to resume it', async () => {
    const { client } = await connect(up);
    const from = up.seen.length;
    // The stream ends at once and would be resumed after the 100 ms shortest wait (the upstream
    // asks for 50); the call gives up at 40 ms, during that wait.
    await assert.rejects(
      client.callTool({ name: 'polled', arguments: {} }, undefined, { timeout: 40 }),
      /timed out/i,
    );
    await new Promise((resolve) => setTimeout(resolve, 400));
    const resumed = up.seen.slice(from).filter((r) => r.headers['last-event-id'] !== undefined);
    assert.equal(resumed.length, 0, 'no GET for a cancelled call: it would hold a connection');
    await client.close();
  });
});

describe('HTTP client transport, an error answer whose body stalls', () => {
  it(
    'takes what came of the body within 2 s instead of waiting for the rest',
    { timeout: 10_000 },
    async () => {
      const { createServer } = await import('node:http');
      const server = createServer((_req, res) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.write('overloaded, try'); // ... and never ends
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const ex = new Exchange(endpoint(new URL(`http://127.0.0.1:${port}/mcp`)));
      const res = await ex.start('GET', { accept: 'text/event-stream' }, undefined, true);
      assert.equal(res.statusCode, 500);
      const t0 = Date.now();
      assert.match(await ex.errorText(), /overloaded, try/);
      assert.ok(Date.now() - t0 < 4000, 'the wait is bounded');
      server.closeAllConnections();
      server.close();
    },
  );
});
