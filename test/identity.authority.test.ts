import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { openFileKeyStore } from '../src/crypto/index.js';
import { Authority, type AgentIdentity } from '../src/identity/index.js';
import { openSqliteStore, type RevocationKind } from '../src/store/index.js';
import { tempDir } from './helpers/gatehouse.js';
import { TEST_SETTINGS } from './helpers/agents.js';

const SETTINGS = TEST_SETTINGS;

async function open(dir = tempDir()) {
  const store = openSqliteStore(join(dir, 'gh.db'));
  const keys = await openFileKeyStore(join(dir, 'keys'), 'credential');
  const authority = await Authority.open(store, keys, SETTINGS, Date.now);
  return { dir, store, keys, authority };
}

/** A small tree: orchestrator -> researcher -> reader, plus an unrelated agent in another run. */
async function tree(a: Authority) {
  const orch = await a.mint({
    agent: { name: 'orchestrator', version: '3.0.0' },
    principal: 'user:alice',
    run: 'run-a',
  });
  const researcher = await a.exchange({
    subjectToken: orch.token,
    agent: { name: 'researcher', version: '1.0.0' },
  });
  assert.ok(researcher.ok);
  const reader = await a.exchange({
    subjectToken: researcher.token,
    agent: { name: 'reader', version: '1.0.0' },
  });
  assert.ok(reader.ok);
  const other = await a.mint({
    agent: { name: 'other', version: '1.0.0' },
    principal: 'user:bob',
    run: 'run-b',
  });
  return { orch, researcher, reader, other };
}

async function identity(a: Authority, token: string): Promise<AgentIdentity> {
  const r = await a.verify(token);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.identity;
}

/** Revocation takes effect on the next call, even for cached verifications (A3, A4). */
describe('revocation', () => {
  const cases: [
    RevocationKind,
    (t: Awaited<ReturnType<typeof tree>>, ids: Record<string, AgentIdentity>) => string,
    string[],
  ][] = [
    ['jti', (_t, ids) => ids.researcher?.credential ?? '', ['researcher']],
    ['agent', () => 'researcher@1.0.0', ['researcher']],
    ['run', () => 'run-a', ['orch', 'researcher', 'reader']],
    ['subtree', (_t, ids) => ids.researcher?.id ?? '', ['researcher', 'reader']],
    ['subtree', (t) => t.orch.claims.jti, ['orch', 'researcher', 'reader']],
  ];
  for (const [kind, value, expectRevoked] of cases) {
    it(`by ${kind} revokes exactly ${expectRevoked.join(', ')}, also when cached`, async () => {
      const { authority, store } = await open();
      const t = await tree(authority);
      const tokens = {
        orch: t.orch.token,
        researcher: t.researcher.ok ? t.researcher.token : '',
        reader: t.reader.ok ? t.reader.token : '',
        other: t.other.token,
      };
      const ids: Record<string, AgentIdentity> = {};
      for (const [name, tok] of Object.entries(tokens)) ids[name] = await identity(authority, tok); // now cached
      await authority.revoke({ kind, value: value(t, ids), reason: 'compromised', by: 'test' });
      for (const [name, tok] of Object.entries(tokens)) {
        const r = await authority.verify(tok);
        if (expectRevoked.includes(name)) {
          assert.equal(r.ok, false, `${name} should be revoked`);
          if (!r.ok) {
            assert.equal(r.code, 'TOKEN_REVOKED');
            assert.match(r.message, /compromised/);
          }
        } else {
          assert.ok(r.ok, `${name} should still verify`);
        }
      }
      const events = await store.listEvents(10);
      assert.equal(events[0]?.kind, 'revocation.add');
      await store.close();
    });
  }

  it('sees a revocation written by another process on the next call', async () => {
    const { dir, authority, store } = await open();
    const t = await tree(authority);
    await identity(authority, t.orch.token);
    const cli = openSqliteStore(join(dir, 'gh.db')); // what `gatehouse revoke` does on the host
    await cli.addRevocation({
      kind: 'subtree',
      value: t.orch.claims.jti,
      reason: 'incident 42',
      time: Date.now(),
      by: 'local',
    });
    await cli.close();
    const r = await authority.verify(t.orch.token);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, /incident 42/);
    await store.close();
  });

  it('refuses a subagent token of a revoked subtree at exchange time too', async () => {
    const { authority, store } = await open();
    const t = await tree(authority);
    await authority.revoke({
      kind: 'subtree',
      value: t.orch.claims.jti,
      reason: 'stop',
      by: 'test',
    });
    const r = await authority.exchange({
      subjectToken: t.orch.token,
      agent: { name: 'x', version: '1' },
    });
    assert.equal(r.ok, false);
    await store.close();
  });
});

describe('key rotation', () => {
  it('keeps old keys verifying until retired, then refuses their credentials (even cached)', async () => {
    const { dir, authority, store } = await open();
    const before = await authority.mint({
      agent: { name: 'a', version: '1' },
      principal: 'user:alice',
    });
    const oldKid = decodeProtectedHeader(before.token).kid ?? '';
    await identity(authority, before.token);

    // Another process (the CLI) rotates; this authority picks the new key up on the next call.
    const cli = await open(dir);
    const rotated = await cli.authority.rotateKey('local');
    assert.notEqual(rotated.kid, oldKid);
    const after = await cli.authority.mint({
      agent: { name: 'a', version: '1' },
      principal: 'user:alice',
    });
    assert.equal(decodeProtectedHeader(after.token).kid, rotated.kid);
    assert.ok(
      (await authority.verify(after.token)).ok,
      'a credential signed with the new key verifies',
    );
    assert.ok((await authority.verify(before.token)).ok, 'the old key still verifies');
    assert.deepEqual(
      authority
        .jwks()
        .keys.map((k) => (k as { kid: string }).kid)
        .sort(),
      [oldKid, rotated.kid].sort(),
    );

    await cli.authority.retireKey(oldKid, 'local');
    const r = await authority.verify(before.token);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.code, 'TOKEN_UNKNOWN_KEY');
    assert.ok((await authority.verify(after.token)).ok);
    await assert.rejects(cli.authority.retireKey(rotated.kid, 'local'), /only active key/);
    const kinds = (await store.listEvents(10)).map((e) => e.kind);
    assert.deepEqual(kinds.slice(0, 2), ['key.retire', 'key.rotate']);
    await cli.store.close();
    await store.close();
  });
});
