import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { generateKeyPairInMemory, memoryKeyStore, type KeyPair } from '../src/crypto/index.js';
import {
  actChain,
  createVerifier,
  exchangeToken,
  mintAgentToken,
  verifyAgentToken,
  type IdentityDeps,
} from '../src/identity/index.js';
import { TEST_SETTINGS } from './helpers/agents.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const SETTINGS = { ...TEST_SETTINGS, maxDepth: 2 };

async function setup(): Promise<{ deps: IdentityDeps; key: KeyPair; clock: { t: number } }> {
  const key = await generateKeyPairInMemory('EdDSA', T0);
  const clock = { t: T0 };
  return {
    deps: { keys: memoryKeyStore([key]), settings: SETTINGS, now: () => clock.t },
    key,
    clock,
  };
}

const ORCH = {
  agent: { name: 'orchestrator', version: '3.0.0' },
  principal: 'user:alice',
  run: 'run-7',
};
const child = (name: string) => ({ name, version: '1.0.0' });

/** RFC 8693 delegation: a subagent's credential never exceeds its parent's (A4). */
describe('token exchange', () => {
  it('issues a child with the same human and run, depth + 1, the act chain extended and the parent named', async () => {
    const { deps } = await setup();
    const verify = createVerifier(deps);
    const root = await mintAgentToken(deps, { ...ORCH, scope: ['payments__*', 'files__*'] });
    const r = await exchangeToken(deps, verify, {
      subjectToken: root.token,
      agent: child('researcher'),
      scope: ['files__*'],
    });
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.equal(r.claims.sub, 'user:alice');
    assert.equal(r.claims.run, 'run-7');
    assert.equal(r.claims.depth, 1);
    assert.equal(r.claims.scope, 'files__*');
    assert.equal(r.claims.parent_jti, root.claims.jti);
    assert.deepEqual(actChain(r.claims.act), [r.claims.client_id, root.claims.client_id]);
    assert.ok(r.claims.exp <= root.claims.exp);

    const v = await verify(r.token);
    assert.ok(v.ok);
    assert.deepEqual(v.identity.ancestors, [root.claims.client_id]);
    assert.deepEqual(v.identity.ancestorCredentials, [root.claims.jti]);

    const grand = await exchangeToken(deps, verify, {
      subjectToken: r.token,
      agent: child('summariser'),
    });
    assert.ok(grand.ok);
    assert.deepEqual(actChain(grand.claims.act), [
      grand.claims.client_id,
      r.claims.client_id,
      root.claims.client_id,
    ]);
    assert.equal(grand.claims.scope, 'files__*', 'the scope is inherited when not asked for');
  });

  it('refuses to widen scope', async () => {
    const { deps } = await setup();
    const verify = createVerifier(deps);
    const root = await mintAgentToken(deps, { ...ORCH, scope: ['files__read*'] });
    for (const wider of [
      ['*'],
      ['files__*'],
      ['files__read*', 'payments__refund'],
      ['files__read*x*y', 'files__write'],
    ]) {
      const r = await exchangeToken(deps, verify, {
        subjectToken: root.token,
        agent: child('c'),
        scope: wider,
      });
      assert.equal(r.ok, false, wider.join(' '));
      if (!r.ok) {
        assert.equal(r.error, 'invalid_scope');
        assert.match(r.message, /wider than the parent's/);
      }
    }
    const narrower = await exchangeToken(deps, verify, {
      subjectToken: root.token,
      agent: child('c'),
      scope: ['files__read_text_file', 'files__read*x'],
    });
    assert.ok(narrower.ok);
  });

  it('refuses to extend the lifetime past the parent and cuts the default to it', async () => {
    const { deps, clock } = await setup();
    const verify = createVerifier(deps);
    const root = await mintAgentToken(deps, { ...ORCH, ttlMs: 10 * 60_000 });
    const longer = await exchangeToken(deps, verify, {
      subjectToken: root.token,
      agent: child('c'),
      ttlMs: 11 * 60_000,
    });
    assert.equal(longer.ok, false);
    if (!longer.ok) assert.match(longer.message, /outlive the parent/);
    clock.t = T0 + 5 * 60_000;
    const dflt = await exchangeToken(deps, verify, { subjectToken: root.token, agent: child('c') });
    assert.ok(dflt.ok);
    assert.equal(dflt.claims.exp, root.claims.exp, 'default 15 min is cut to the parent expiry');
  });

  it('refuses to exceed the maximum depth', async () => {
    const { deps } = await setup();
    const verify = createVerifier(deps);
    let token = (await mintAgentToken(deps, ORCH)).token;
    for (let depth = 1; depth <= SETTINGS.maxDepth; depth++) {
      const r = await exchangeToken(deps, verify, {
        subjectToken: token,
        agent: child(`level${depth}`),
      });
      assert.ok(r.ok);
      token = r.token;
    }
    const tooDeep = await exchangeToken(deps, verify, {
      subjectToken: token,
      agent: child('too-deep'),
    });
    assert.equal(tooDeep.ok, false);
    if (!tooDeep.ok) assert.match(tooDeep.message, /depth 3 would exceed the maximum of 2/);
  });

  it('refuses an invalid or revoked subject token', async () => {
    const { deps } = await setup();
    const root = await mintAgentToken(deps, ORCH);
    const revokedVerify = createVerifier(deps, (id) =>
      id.credential === root.claims.jti
        ? { kind: 'jti', value: id.credential, reason: 'test', time: T0, by: 'test' }
        : undefined,
    );
    const r = await exchangeToken(deps, revokedVerify, {
      subjectToken: root.token,
      agent: child('c'),
    });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error, 'invalid_grant');
    const bad = await exchangeToken(deps, createVerifier(deps), {
      subjectToken: 'nope',
      agent: child('c'),
    });
    assert.equal(bad.ok, false);
  });

  it('refuses a correctly signed token whose lineage claims disagree', async () => {
    const { deps, key } = await setup();
    const root = await mintAgentToken(deps, ORCH);
    const forged = await new SignJWT({ ...root.claims, depth: 1 })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'gatehouse-agent+jwt', kid: key.kid })
      .sign(key.privateKey);
    const r = await verifyAgentToken(deps, forged);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.code, 'TOKEN_BAD_LINEAGE');
  });
});

/** Attacks on verification not covered elsewhere (RFC 8725). */
describe('credential verification attacks', () => {
  it('refuses HS256 signed with the public key as secret (key confusion)', async () => {
    const { deps, key } = await setup();
    const { claims } = await mintAgentToken(deps, ORCH);
    const secret = new TextEncoder().encode(JSON.stringify(key.publicJwk));
    const raw = Buffer.from(key.publicJwk.x ?? '', 'base64url');
    for (const s of [secret, new Uint8Array(raw)]) {
      const t = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'gatehouse-agent+jwt', kid: key.kid })
        .sign(s);
      const r = await verifyAgentToken(deps, t);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.code, 'TOKEN_BAD_ALG');
    }
  });

  it('refuses key material in x5u/jku headers and a token from another issuer with its own key', async () => {
    const { deps, key } = await setup();
    const { claims } = await mintAgentToken(deps, ORCH);
    const attacker = await generateKeyPairInMemory('EdDSA', T0);
    const x5u = await new SignJWT(claims)
      .setProtectedHeader({
        alg: 'EdDSA',
        typ: 'gatehouse-agent+jwt',
        x5u: 'https://evil.example/cert.pem',
        kid: attacker.kid,
      })
      .sign(attacker.privateKey);
    const r1 = await verifyAgentToken(deps, x5u);
    assert.equal(r1.ok, false);
    if (!r1.ok) assert.equal(r1.code, 'TOKEN_UNKNOWN_KEY');
    const otherIssuer = await new SignJWT({ ...claims, iss: 'https://other-gatehouse.example' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'gatehouse-agent+jwt', kid: attacker.kid })
      .sign(attacker.privateKey);
    const r2 = await verifyAgentToken(deps, otherIssuer);
    assert.equal(r2.ok, false);
    if (!r2.ok) assert.equal(r2.code, 'TOKEN_UNKNOWN_KEY');
    // Even naming our kid, another issuer's key does not verify.
    const r3 = await verifyAgentToken(
      deps,
      await new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', typ: 'gatehouse-agent+jwt', kid: key.kid })
        .sign(attacker.privateKey),
    );
    assert.equal(r3.ok, false);
    if (!r3.ok) assert.equal(r3.code, 'TOKEN_BAD_SIGNATURE');
  });
});
