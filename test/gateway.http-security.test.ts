import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createAdminKey } from '../src/identity/index.js';
import { startHttpServer } from '../src/server/index.js';
import { configWithPolicies, type Running, startGatehouse } from './helpers/gatehouse.js';
import { INIT } from './helpers/mcp-raw.js';

/** The HTTP edge (A6, A7): credentials, sessions, hosts, sizes, malformed bodies. */
describe('gateway HTTP edge', () => {
  let gh: Running;
  let token: string;

  before(async () => {
    const config = configWithPolicies(
      { 'all.cedar': 'permit (principal, action, resource);' },
      'upstreams: {}',
      'limits: { max_body_bytes: 4096 }',
    );
    gh = await startGatehouse(config);
    token = await gh.mint();
  });
  after(async () => gh.close());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(gh.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers 401 with a clear JSON body and a Bearer challenge when the credential is missing', async () => {
    const res = await post(INIT);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /Authorization: Bearer/);
  });

  it("refuses a person's key with 403, as every agent route does: people are not agents", async () => {
    const { key } = await createAdminKey(gh.rt.store, 'alice', 'admin', Date.now());
    const res = await post(INIT, { authorization: `Bearer ${key}` });
    assert.equal(res.status, 403);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /a person key is not an agent credential/);
    assert.ok(!body.error.message.includes(key), 'the key is never echoed');
  });

  it('answers 401 for a malformed, tampered, foreign-key or alg:none credential', async () => {
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(
      JSON.stringify({ ...claims, agent: { name: 'admin-bot', version: '1' } }),
    ).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'gatehouse-agent+jwt' })).toString('base64url')}.${p}.`;
    const { generateKeyPair } = await import('jose');
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string };
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'gatehouse-agent+jwt', kid: header.kid })
      .sign(other.privateKey);
    for (const [what, bad] of [
      ['garbage', 'not-a-jwt'],
      ['tampered payload', `${h}.${forged}.${s}`],
      ['alg none', none],
      ['signed by another key under our kid', foreign],
    ] as const) {
      const res = await post(INIT, { authorization: `Bearer ${bad}` });
      assert.equal(res.status, 401, what);
      const body = (await res.json()) as { error: { message: string } };
      assert.match(body.error.message, /^Unauthorized: /, what);
      assert.ok(!body.error.message.includes(bad), 'the token is never echoed');
    }
  });

  it('answers 401 for an expired credential', async () => {
    const expired = await gh.mint({ ttlMs: 1000 });
    // Move the runtime clock past expiry plus the allowed skew.
    gh.clock.offsetMs = 5 * 60_000;
    const res = await post(INIT, { authorization: `Bearer ${expired}` }).finally(() => {
      gh.clock.offsetMs = 0;
    });
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /expired/);
  });

  it('refuses a body over the configured limit with 413', async () => {
    const big = {
      ...INIT,
      params: { ...INIT.params, clientInfo: { name: 'x'.repeat(10_000), version: '1' } },
    };
    const res = await post(big, { authorization: `Bearer ${token}` });
    assert.equal(res.status, 413);
  });

  it('answers malformed JSON-RPC with a parse error and no session', async () => {
    const res = await post('{"jsonrpc": "2.0", "id": 1, "method": ', {
      authorization: `Bearer ${token}`,
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: number } };
    assert.equal(body.error.code, -32700);
    assert.equal(gh.http.sessionCount(), 0);
  });

  it('answers 404 for an unknown session and 403 for a session of another agent', async () => {
    const unknown = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      {
        authorization: `Bearer ${token}`,
        'mcp-session-id': '00000000-0000-4000-8000-000000000000',
      },
    );
    assert.equal(unknown.status, 404);

    const init = await post(INIT, { authorization: `Bearer ${token}` });
    assert.equal(init.status, 200);
    const sessionId = init.headers.get('mcp-session-id') ?? '';
    assert.ok(sessionId);
    const otherToken = await gh.mint({ agent: { name: 'other-bot', version: '1.0.0' } });
    const stolen = await post(
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      {
        authorization: `Bearer ${otherToken}`,
        'mcp-session-id': sessionId,
      },
    );
    assert.equal(stolen.status, 403);
  });

  /** Opens a session for `credential`; its id. */
  const open = async (credential: string): Promise<string> => {
    const init = await post(INIT, { authorization: `Bearer ${credential}` });
    assert.equal(init.status, 200);
    const id = init.headers.get('mcp-session-id');
    assert.ok(id);
    return id;
  };
  const LIST = { jsonrpc: '2.0', id: 7, method: 'tools/list' };

  it('checks the credential on every request of an open session, not only when it opens', async () => {
    const own = await gh.mint({ agent: { name: 'session-bot', version: '1.0.0' } });
    const sessionId = await open(own);
    const listed = await post(LIST, {
      authorization: `Bearer ${own}`,
      'mcp-session-id': sessionId,
    });
    assert.equal(listed.status, 200);
    // The session id alone is no credential.
    const bare = await post(LIST, { 'mcp-session-id': sessionId });
    assert.equal(bare.status, 401);
    // A credential revoked after the session opened is refused on its next request.
    const { jti } = JSON.parse(Buffer.from(own.split('.')[1] ?? '', 'base64url').toString()) as {
      jti: string;
    };
    await gh.rt.authority.revoke({ kind: 'jti', value: jti, reason: 'leaked', by: 'test' });
    const revoked = await post(LIST, {
      authorization: `Bearer ${own}`,
      'mcp-session-id': sessionId,
    });
    assert.equal(revoked.status, 401);
    assert.match(await revoked.text(), /revoked/);
  });

  it("lets no other agent end or listen on a session: DELETE and GET with another's credential get 403", async () => {
    const sessionId = await open(token);
    const other = await gh.mint({ agent: { name: 'other-bot', version: '1.0.0' } });
    const as = (credential: string, method: 'GET' | 'DELETE') =>
      fetch(gh.url, {
        method,
        headers: {
          authorization: `Bearer ${credential}`,
          accept: 'text/event-stream',
          'mcp-session-id': sessionId,
        },
      });
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await as(other, method);
      assert.equal(res.status, 403, method);
      await res.body?.cancel();
      // Nor can anyone holding only the session id.
      const bare = await fetch(gh.url, {
        method,
        headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId },
      });
      assert.equal(bare.status, 401, `${method} without a credential`);
      await bare.body?.cancel();
    }
    // The session survived: its own agent still uses it, then ends it.
    const listed = await post(LIST, {
      authorization: `Bearer ${token}`,
      'mcp-session-id': sessionId,
    });
    assert.equal(listed.status, 200);
    const ended = await as(token, 'DELETE');
    assert.equal(ended.status, 200);
    const after = await post(LIST, {
      authorization: `Bearer ${token}`,
      'mcp-session-id': sessionId,
    });
    assert.equal(after.status, 404);
  });

  it('opens no more sessions than its cap, even for initializes that arrive together', async () => {
    const capped = await startHttpServer(gh.rt, { port: 0, maxSessions: 2 });
    try {
      const initialize = () =>
        fetch(`${capped.url}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            authorization: `Bearer ${token}`,
          },
          body: JSON.stringify(INIT),
        });
      const statuses = (await Promise.all([initialize(), initialize(), initialize()])).map(
        (r) => r.status,
      );
      assert.deepEqual([...statuses].sort(), [200, 200, 503]);
      assert.equal(capped.sessionCount(), 2);
    } finally {
      await capped.close();
    }
  });

  it('refuses unexpected Host and cross-origin requests (DNS rebinding), on MCP and the control plane', async () => {
    const { request } = await import('node:http');
    const status = (headers: Record<string, string>, path = '/mcp') =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: gh.http.port,
            path,
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${token}`,
              ...headers,
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(INIT));
      });
    assert.equal(await status({ host: 'evil.example.com' }), 403);
    assert.equal(
      await status({ host: `127.0.0.1:${gh.http.port}`, origin: 'http://evil.example.com' }),
      403,
    );
    // The control plane is served by the same listener but routed apart from /mcp.
    for (const path of ['/mcp?x=1', '/v1/decide', '/healthz'])
      assert.equal(await status({ host: 'evil.example.com' }, path), 403, path);
    // With a good Host the request gets past that check (and is refused for its missing Accept).
    assert.equal(await status({}, '/mcp?x=1'), 406);
  });
});
