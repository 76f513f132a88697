import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { configWithPolicies, type Running, startGatehouse } from './helpers/gatehouse.js';
import { ACCEPT, INIT, ping, rawMcp, type RawMcp, type RpcBody } from './helpers/mcp-raw.js';

/**
 * Malformed input at the MCP endpoint (THREATS A7): every refusal is the status and JSON-RPC code
 * the SDK's own transport gives, in a clear JSON body, and leaves no session and no other trace.
 */
describe('MCP transport: malformed requests', () => {
  let gh: Running;
  let token: string;
  let raw: RawMcp;

  before(async () => {
    gh = await startGatehouse(
      configWithPolicies(
        { 'all.cedar': 'permit (principal, action, resource);' },
        'upstreams: {}',
        'limits: { max_body_bytes: 8192 }',
      ),
    );
    token = await gh.mint();
    raw = rawMcp(gh.url, token);
  });
  after(async () => gh.close());

  const send: RawMcp['send'] = (...args) => raw.send(...args);
  const post: RawMcp['post'] = (...args) => raw.post(...args);
  const openSession = () => raw.openSession();

  /** Asserts the status and JSON-RPC error code of a refusal; returns its message. */
  async function refused(res: Response, status: number, code: number): Promise<string> {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as RpcBody;
    assert.equal(body.error?.code, code, body.error?.message);
    assert.equal(body.id, null);
    return body.error?.message ?? '';
  }

  /** Refusals leave no session behind. */
  async function noNewSession(act: () => Promise<void>): Promise<void> {
    const before = gh.http.sessionCount();
    await act();
    assert.equal(gh.http.sessionCount(), before);
  }

  it('answers bad JSON with -32700 and opens no session', () =>
    noNewSession(async () => {
      const msg = await refused(await post('{"jsonrpc": "2.0", "id": 1, "method": '), 400, -32700);
      assert.match(msg, /Invalid JSON/);
    }));

  it('answers a wrong content type with 415 and a missing or partial Accept with 406', () =>
    noNewSession(async () => {
      await refused(await post(INIT, { 'content-type': 'text/plain' }), 415, -32000);
      // A media type that merely contains "application/json" is not it.
      await refused(
        await post(INIT, { 'content-type': 'text/plain; a=application/json' }),
        415,
        -32000,
      );
      await refused(await post(INIT, { accept: 'application/json' }), 406, -32000);
      await refused(await post(INIT, { accept: '*/*' }), 406, -32000);
    }));

  it('refuses a body over the limit with 413, whether declared or streamed, and closes', () =>
    noNewSession(async () => {
      const big = { ...INIT, params: { ...INIT.params, clientInfo: { name: 'x'.repeat(10_000) } } };
      const declared = await post(big);
      assert.match(await refused(declared, 413, -32000), /must not exceed 8192 bytes/);
      // Chunked, without a length: counted while it arrives.
      const streamed = await new Promise<{ status: number; connection: string; body: string }>(
        (resolve, reject) => {
          const req = request(gh.url, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              accept: ACCEPT,
            },
          });
          req.on('response', (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                connection: res.headers.connection ?? '',
                body,
              }),
            );
          });
          req.on('error', reject);
          req.write('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"');
          req.write('y'.repeat(10_000));
        },
      );
      assert.equal(streamed.status, 413);
      assert.equal(streamed.connection, 'close');
      assert.match(streamed.body, /Payload Too Large/);
    }));

  it('answers anything that is not JSON-RPC 2.0 with -32700, and a malformed initialize with -32602', () =>
    noNewSession(async () => {
      for (const bad of [
        { jsonrpc: '1.0', id: 1, method: 'initialize' },
        { id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: { nested: true }, method: 'ping' },
        { hello: 'world' },
        42,
        'a string',
        null,
        [1, 2],
      ]) {
        await refused(await post(JSON.stringify(bad)), 400, -32700);
      }
      await refused(
        await post({ ...INIT, params: { protocolVersion: LATEST_PROTOCOL_VERSION } }),
        400,
        -32602,
      );
    }));

  it('refuses a request without a session, and an unknown session with 404', async () => {
    await noNewSession(async () => {
      assert.match(await refused(await post(ping(2)), 400, -32000), /Mcp-Session-Id/);
      await refused(await send('GET', undefined), 400, -32000);
      await refused(await send('DELETE', undefined), 400, -32000);
    });
    const unknown = { 'mcp-session-id': '00000000-0000-4000-8000-000000000000' };
    await refused(await post(ping(2), unknown), 404, -32600);
  });

  it('refuses batch edge cases before delivering any of their messages', async () => {
    await noNewSession(async () => {
      assert.match(await refused(await post([]), 400, -32600), /empty batch/);
      assert.match(await refused(await post([INIT, ping(2)]), 400, -32600), /Only one init/);
    });
    const session = { 'mcp-session-id': await openSession() };
    const tooMany = Array.from({ length: 101 }, (_, i) => ping(i + 10));
    assert.match(await refused(await post(tooMany, session), 400, -32600), /must not exceed 100/);
    assert.match(
      await refused(await post([ping(3), ping(3)], session), 400, -32600),
      /duplicate request id/,
    );
    // One bad member refuses the whole batch.
    await refused(await post([ping(4), { jsonrpc: '2.0', id: 5 }], session), 400, -32700);
  });

  it('answers a batch with an array of its responses, and notifications alone with 202', async () => {
    const session = { 'mcp-session-id': await openSession() };
    const both = await post([ping('a'), ping('b')], session);
    assert.equal(both.status, 200);
    assert.match(both.headers.get('content-type') ?? '', /^application\/json/);
    const answers = (await both.json()) as RpcBody[];
    assert.deepEqual(answers.map((a) => a.id).sort(), ['a', 'b']);
    const note = { jsonrpc: '2.0', method: 'notifications/initialized' };
    const notes = await post([note, note], session);
    assert.equal(notes.status, 202);
    assert.equal(await notes.text(), '');
  });

  it('refuses a second initialize on a session and an unsupported protocol version', async () => {
    const session = { 'mcp-session-id': await openSession() };
    await noNewSession(async () => {
      const again = await post({ ...INIT, id: 9 }, session);
      assert.match(await refused(again, 400, -32600), /already initialized/);
    });
    const old = { ...session, 'mcp-protocol-version': '1999-01-01' };
    assert.match(await refused(await post(ping(6), old), 400, -32000), /Unsupported protocol/);
    const fine = await post(ping(7), { ...session, 'mcp-protocol-version': '2025-06-18' });
    assert.equal(fine.status, 200);
    assert.deepEqual(await fine.json(), { jsonrpc: '2.0', id: 7, result: {} });
  });

  it('allows one GET stream per session (409 for a second), a new one once it is gone', async () => {
    const session = { 'mcp-session-id': await openSession() };
    await refused(
      await send('GET', undefined, { ...session, accept: 'application/json' }),
      406,
      -32000,
    );
    const first = new AbortController();
    const stream = await fetch(gh.url, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...session },
      signal: first.signal,
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('content-type'), 'text/event-stream');
    const second = await send('GET', undefined, { ...session, accept: 'text/event-stream' });
    assert.match(await refused(second, 409, -32000), /Only one SSE stream/);
    first.abort();
    await stream.body?.cancel().catch(() => undefined);
    for (let i = 0; ; i++) {
      const again = await send('GET', undefined, { ...session, accept: 'text/event-stream' });
      if (again.status === 200) {
        await again.body?.cancel();
        break;
      }
      await again.body?.cancel();
      assert.ok(i < 50, 'the stream is released once its client is gone');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('ends a session on DELETE; its id is unknown afterwards', async () => {
    const id = await openSession();
    const count = gh.http.sessionCount();
    const del = await send('DELETE', undefined, { 'mcp-session-id': id });
    assert.equal(del.status, 200);
    assert.equal(gh.http.sessionCount(), count - 1);
    await refused(await post(ping(8), { 'mcp-session-id': id }), 404, -32600);
  });

  it('answers other methods with 405 and its Allow header, and serves /mcp with a query', async () => {
    const put = await send('PUT', JSON.stringify(ping(1)));
    await refused(put, 405, -32000);
    assert.equal(put.headers.get('allow'), 'GET, POST, DELETE');
    const withQuery = await fetch(`${gh.url.href}?client=raw`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: ACCEPT,
      },
      body: JSON.stringify(INIT),
    });
    assert.equal(withQuery.status, 200);
    await withQuery.json();
  });
});
