import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactSign, SignJWT, UnsecuredJWT } from 'jose';
import { generateKeyPairInMemory, memoryKeyStore, type KeyPair } from '../src/crypto/index.js';
import {
  createVerifier,
  mintAgentToken,
  verifyAgentToken,
  type IdentityDeps,
  type TokenRejection,
} from '../src/identity/index.js';
import { TEST_SETTINGS } from './helpers/agents.js';

const SETTINGS = TEST_SETTINGS;
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

async function setup(
  alg: 'EdDSA' | 'ES256' = 'EdDSA',
): Promise<{ deps: IdentityDeps; key: KeyPair; clock: { t: number } }> {
  const key = await generateKeyPairInMemory(alg, T0);
  const clock = { t: T0 };
  return {
    deps: { keys: memoryKeyStore([key]), settings: SETTINGS, now: () => clock.t },
    key,
    clock,
  };
}

const REQ = { agent: { name: 'support-bot', version: '1.4.0' }, principal: 'user:alice' };

async function expectRejected(
  deps: IdentityDeps,
  token: string,
  code: TokenRejection,
): Promise<void> {
  const r = await verifyAgentToken(deps, token);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.code, code);
    assert.ok(!r.message.includes(token), 'the token is never put in a message');
  }
}

/** Sign arbitrary claims/headers with a key, to build hostile tokens. */
function forge(
  key: KeyPair,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: 'gatehouse-agent+jwt', kid: key.kid, ...header })
    .sign(key.privateKey);
}

describe('agent credentials', () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    it(`mints and verifies a credential with ${alg}, carrying the standard claim layout`, async () => {
      const { deps } = await setup(alg);
      const { token, claims } = await mintAgentToken(deps, { ...REQ, run: 'run-42' });
      const header = JSON.parse(
        Buffer.from(token.split('.')[0] ?? '', 'base64url').toString(),
      ) as Record<string, unknown>;
      assert.equal(header.typ, 'gatehouse-agent+jwt');
      assert.equal(header.alg, alg);
      assert.equal(claims.sub, 'user:alice');
      assert.equal(claims.sub_profile, 'user');
      assert.equal(claims.client_profile, 'ai_agent');
      assert.match(
        claims.client_id,
        /^spiffe:\/\/test\.local\/agent\/support-bot\/[A-Za-z0-9_-]+$/,
      );
      assert.equal(claims.act.sub, claims.client_id);
      assert.equal(claims.exp - claims.iat, 15 * 60);
      const r = await verifyAgentToken(deps, token);
      assert.ok(r.ok);
      assert.equal(r.identity.name, 'support-bot');
      assert.equal(r.identity.version, '1.4.0');
      assert.equal(r.identity.principal, 'user:alice');
      assert.equal(r.identity.run, 'run-42');
    });
  }

  it('refuses to mint beyond the maximum lifetime or with bad names', async () => {
    const { deps } = await setup();
    await assert.rejects(
      mintAgentToken(deps, { ...REQ, ttlMs: 2 * 60 * 60_000 }),
      /at most 3600 s/,
    );
    await assert.rejects(
      mintAgentToken(deps, { ...REQ, principal: 'alice' }),
      /sub: must look like user:<id>/,
    );
    await assert.rejects(
      mintAgentToken(deps, { ...REQ, agent: { name: 'bad name', version: '1' } }),
      /agent\.name/,
    );
  });

  it('honours expiry and not-before with at most 60 s of clock skew', async () => {
    const { deps, clock } = await setup();
    const { token } = await mintAgentToken(deps, { ...REQ, ttlMs: 60_000 });
    clock.t = T0 + 60_000 + 59_000;
    assert.ok((await verifyAgentToken(deps, token)).ok, 'within skew');
    clock.t = T0 + 60_000 + 61_000;
    await expectRejected(deps, token, 'TOKEN_EXPIRED');
    clock.t = T0 - 61_000;
    await expectRejected(deps, token, 'TOKEN_NOT_YET_VALID');
  });

  it('refuses wrong issuer, wrong audience, wrong type and over-long lifetime', async () => {
    const { deps, key } = await setup();
    const { claims } = await mintAgentToken(deps, REQ);
    await expectRejected(deps, await forge(key, { ...claims, iss: 'evil' }), 'TOKEN_WRONG_ISSUER');
    await expectRejected(
      deps,
      await forge(key, { ...claims, aud: 'other' }),
      'TOKEN_WRONG_AUDIENCE',
    );
    await expectRejected(deps, await forge(key, claims, { typ: 'JWT' }), 'TOKEN_BAD_TYPE');
    await expectRejected(
      deps,
      await forge(key, { ...claims, exp: claims.iat + 7200 }),
      'TOKEN_LIFETIME_TOO_LONG',
    );
    await expectRejected(
      deps,
      await forge(key, { ...claims, client_profile: 'user' }),
      'TOKEN_BAD_CLAIMS',
    );
  });

  it('refuses alg none, an unknown key, a key confused with another algorithm, and tampering', async () => {
    const { deps, key } = await setup();
    const { token, claims } = await mintAgentToken(deps, REQ);
    const none = new UnsecuredJWT(claims).encode();
    await expectRejected(deps, none, 'TOKEN_UNKNOWN_KEY');
    const noneWithKid = `${Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid, typ: 'gatehouse-agent+jwt' })).toString('base64url')}.${token.split('.')[1]}.`;
    await expectRejected(deps, noneWithKid, 'TOKEN_BAD_ALG');

    const stranger = await generateKeyPairInMemory('EdDSA', T0);
    await expectRejected(deps, await forge(stranger, claims), 'TOKEN_UNKNOWN_KEY');
    // A stranger's signature under our kid.
    await expectRejected(
      deps,
      await forge(stranger, claims, { kid: key.kid }),
      'TOKEN_BAD_SIGNATURE',
    );
    // The key is pinned to EdDSA: an ES256 token naming it is refused before any signature check.
    const es = await generateKeyPairInMemory('ES256', T0);
    await expectRejected(deps, await forge(es, claims, { kid: key.kid }), 'TOKEN_BAD_ALG');

    const [h, p, s] = token.split('.') as [string, string, string];
    const tampered = Buffer.from(JSON.stringify({ ...claims, sub: 'user:mallory' })).toString(
      'base64url',
    );
    await expectRejected(deps, `${h}.${tampered}.${s}`, 'TOKEN_BAD_SIGNATURE');
    await expectRejected(deps, `${h}.${p}`, 'TOKEN_MALFORMED');
    await expectRejected(deps, 'x'.repeat(50), 'TOKEN_MALFORMED');
  });

  it('ignores key material in headers (jwk, jku, x5u) and rejects unknown crit', async () => {
    const { deps, key } = await setup();
    const { claims } = await mintAgentToken(deps, REQ);
    const attacker = await generateKeyPairInMemory('EdDSA', T0);
    const embedded = await new SignJWT(claims)
      .setProtectedHeader({
        alg: 'EdDSA',
        typ: 'gatehouse-agent+jwt',
        jwk: attacker.publicJwk,
        jku: 'https://evil.example/jwks',
      })
      .sign(attacker.privateKey);
    await expectRejected(deps, embedded, 'TOKEN_UNKNOWN_KEY');
    // The signer is told the extension is understood; the verifier is not, so it must refuse.
    const crit = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({
        alg: 'EdDSA',
        typ: 'gatehouse-agent+jwt',
        kid: key.kid,
        crit: ['urn:x-unknown'],
        'urn:x-unknown': 1,
      })
      .sign(key.privateKey, { crit: { 'urn:x-unknown': true } });
    await expectRejected(deps, crit, 'TOKEN_MALFORMED');
  });

  it('caches verified credentials by hash but still enforces expiry on a cache hit', async () => {
    const { deps, clock } = await setup();
    const verify = createVerifier(deps);
    const { token } = await mintAgentToken(deps, { ...REQ, ttlMs: 60_000 });
    assert.ok((await verify(token)).ok);
    assert.ok((await verify(token)).ok);
    clock.t = T0 + 60_000 + 61_000;
    const r = await verify(token);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.code, 'TOKEN_EXPIRED');
  });
});
