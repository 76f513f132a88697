import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAdminKey } from '../src/identity/index.js';
import {
  configWithPolicies,
  firstText,
  FLAKY_UPSTREAM,
  type Running,
  startGatehouse,
} from './helpers/gatehouse.js';

// The literal from RFC 8693 §2.1, not the project's constant: the wire value is what is tested.
const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/**
 * An orchestrator delegates to two subagents over the control plane; every call carries its
 * lineage into the decision records; revoking the orchestrator's subtree stops all three.
 */
describe('identity end to end', () => {
  let gh: Running;
  let adminKey: string;
  let approverKey: string;
  const base = () => new URL('/', gh.url).toString();

  const post = async (path: string, body: unknown, auth?: string, form = false) => {
    const res = await fetch(new URL(path, base()), {
      method: 'POST',
      headers: {
        'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      },
      body: form
        ? new URLSearchParams(body as Record<string, string>).toString()
        : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    const config = configWithPolicies(
      {
        'all.cedar': '@id("all") permit (principal, action in Action::"call_tool", resource);',
        'depth.cedar':
          '@id("no-grandchildren") @reason("subagents of subagents may not call tools") forbid (principal, action, resource) when { principal.depth >= 2 };',
      },
      ...FLAKY_UPSTREAM,
    );
    gh = await startGatehouse(config);
    adminKey = (await createAdminKey(gh.rt.store, 'ada', 'admin', Date.now())).key;
    approverKey = (await createAdminKey(gh.rt.store, 'bob', 'approver', Date.now())).key;
  });
  after(async () => gh.close());

  it('publishes the verification keys as JWKS', async () => {
    const res = await fetch(new URL('/.well-known/jwks.json', base()));
    const jwks = (await res.json()) as {
      keys: { kty: string; crv: string; kid: string; d?: string }[];
    };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]?.crv, 'Ed25519');
    assert.equal(jwks.keys[0]?.d, undefined, 'no private key material');
  });

  it('refuses agent credentials, missing keys and the wrong role on admin endpoints', async () => {
    const agentToken = await gh.mint();
    const asAgent = await post('/v1/revocations', { run: 'x', reason: 'r' }, agentToken);
    assert.equal(asAgent.status, 403);
    assert.match(String(asAgent.body.error_description), /agent credentials are not accepted/);
    assert.equal((await post('/v1/token/mint', {}, undefined)).status, 401);
    assert.equal(
      (await post('/v1/token/mint', {}, 'ghk_AAAAAAAAAAAA_' + 'A'.repeat(43))).status,
      401,
    );
    // The right key id with a wrong secret is refused like an unknown key.
    const forged = `${adminKey.slice(0, 17)}${'A'.repeat(43)}`;
    assert.equal((await post('/v1/token/mint', {}, forged)).status, 401);
    const asApprover = await post('/v1/revocations', { run: 'x', reason: 'r' }, approverKey);
    assert.equal(asApprover.status, 403);
    const bad = await post('/v1/revocations', { run: 'x', jti: 'y', reason: '' }, adminKey);
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error_description), /reason.*exactly one of/s);
  });

  it('delegates, records lineage on every call, and stops a whole tree on subtree revocation', async () => {
    const minted = await post(
      '/v1/token/mint',
      {
        agent: { name: 'orchestrator', version: '3.0.0' },
        principal: 'user:alice',
        run: 'run-e2e',
      },
      adminKey,
    );
    assert.equal(minted.status, 201);
    const orchToken = String(minted.body.access_token);
    const orchJti = String(minted.body.jti);

    const exchange = (name: string, extra: Record<string, string> = {}) =>
      post(
        '/v1/token/exchange',
        {
          grant_type: GRANT,
          subject_token: orchToken,
          agent_name: name,
          agent_version: '1.0.0',
          ...extra,
        },
        undefined,
        true,
      );
    const research = await exchange('researcher', { scope: 'flaky__ok' });
    const writer = await exchange('writer');
    assert.equal(research.status, 200, JSON.stringify(research.body));
    assert.equal(research.body.issued_token_type, 'urn:ietf:params:oauth:token-type:jwt');
    assert.equal(research.body.scope, 'flaky__ok');
    const widened = await post(
      '/v1/token/exchange',
      {
        grant_type: GRANT,
        subject_token: String(research.body.access_token),
        agent_name: 'x',
        agent_version: '1',
        scope: 'flaky__crash',
      },
      undefined,
      true,
    );
    assert.equal(widened.status, 400);
    assert.equal(widened.body.error, 'invalid_scope');

    const clients = {
      orchestrator: await gh.client(orchToken),
      researcher: await gh.client(String(research.body.access_token)),
      writer: await gh.client(String(writer.body.access_token)),
    };
    for (const c of Object.values(clients)) {
      assert.match(
        firstText(await c.callTool({ name: 'flaky__ok', arguments: {} })),
        /^ok from pid/,
      );
    }
    const records = await gh.rt.store.listDecisions({ limit: 10, run: 'run-e2e' });
    assert.equal(records.length, 3);
    const orchId = records.find((r) => r.agent.name === 'orchestrator')?.agent.id ?? '';
    assert.match(orchId, /^spiffe:\/\/gatehouse\.local\/agent\/orchestrator\//);
    for (const r of records) {
      assert.equal(r.agent.principal, 'user:alice');
      if (r.agent.name === 'orchestrator') {
        assert.equal(r.agent.depth, 0);
        assert.deepEqual(r.agent.ancestors, []);
      } else {
        assert.equal(r.agent.depth, 1);
        assert.deepEqual(
          r.agent.ancestors,
          [orchId],
          `${r.agent.name} descends from the orchestrator`,
        );
      }
    }

    const revoked = await post(
      '/v1/revocations',
      { subtree: orchJti, reason: 'incident 7' },
      adminKey,
    );
    assert.equal(revoked.status, 201);
    for (const [name, c] of Object.entries(clients)) {
      await assert.rejects(
        c.callTool({ name: 'flaky__ok', arguments: {} }),
        /revoked/,
        `${name} must be stopped`,
      );
    }
  });

  it('lets policy see the depth of a delegated agent', async () => {
    const orch = await gh.mint({ run: 'run-depth' });
    const child = await gh.rt.authority.exchange({
      subjectToken: orch,
      agent: { name: 'child', version: '1' },
    });
    assert.ok(child.ok);
    const grandchild = await gh.rt.authority.exchange({
      subjectToken: child.token,
      agent: { name: 'grandchild', version: '1' },
    });
    assert.ok(grandchild.ok);
    const c = await gh.client(grandchild.token);
    const res = await c.callTool({ name: 'flaky__ok', arguments: {} });
    assert.equal(res.isError, true);
    assert.match(firstText(res), /subagents of subagents may not call tools/);
  });

  it('rotates and retires signing keys over HTTP with an admin key, never with an agent credential', async () => {
    const agentToken = await gh.mint();
    const asAgent = await post('/v1/keys/rotate', {}, agentToken);
    assert.equal(asAgent.status, 403);
    assert.equal((await post('/v1/keys/rotate', {}, approverKey)).status, 403);
    const oldKid = String(
      (
        JSON.parse(Buffer.from(agentToken.split('.')[0] ?? '', 'base64url').toString()) as {
          kid: string;
        }
      ).kid,
    );
    const rotated = await post('/v1/keys/rotate', {}, adminKey);
    assert.equal(rotated.status, 201);
    const newKid = (rotated.body.key as { kid: string }).kid;
    assert.notEqual(newKid, oldKid);
    assert.ok((await gh.rt.authority.verify(agentToken)).ok, 'old credentials keep verifying');
    const retired = await post(`/v1/keys/${oldKid}/retire`, {}, adminKey);
    assert.equal(retired.status, 200);
    const r = await gh.rt.authority.verify(agentToken);
    assert.equal(r.ok, false);
    assert.equal(
      (await post(`/v1/keys/${newKid}/retire`, {}, adminKey)).status,
      409,
      'the last key stays',
    );
    assert.equal((await post('/v1/keys/nope/retire', {}, adminKey)).status, 404);
    const events = (await gh.rt.store.listEvents(5)).map((e) => `${e.kind} by ${e.actor}`);
    assert.deepEqual(events.slice(0, 2), ['key.retire by ada', 'key.rotate by ada']);
  });
});
