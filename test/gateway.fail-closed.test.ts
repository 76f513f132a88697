import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  configWithPolicies,
  firstText,
  FLAKY_UPSTREAM,
  startGatehouse,
} from './helpers/gatehouse.js';

const config = (policies: Record<string, string>) =>
  configWithPolicies(policies, ...FLAKY_UPSTREAM);

/** Faults deny: nothing is forwarded that was not decided and recorded (THREATS: failure rule). */
describe('gateway fails closed', () => {
  it('forwards nothing when the decision cannot be recorded', async () => {
    const gh = await startGatehouse(
      config({ 'all.cedar': '@id("all") permit (principal, action, resource);' }),
    );
    try {
      const client = await gh.client(await gh.mint());
      const ok = await client.callTool({ name: 'flaky__ok', arguments: {} });
      assert.match(firstText(ok), /^ok from pid/);
      // Another connection breaks the decisions table: credentials still verify, recording fails.
      const raw = new Database(gh.rt.config.store.sqlite);
      raw.exec('ALTER TABLE decisions RENAME TO decisions_gone');
      raw.close();
      const res = await client.callTool({ name: 'flaky__ok', arguments: {} });
      assert.equal(res.isError, true);
      assert.match(
        firstText(res),
        /could not record the decision for this call, so it was not forwarded/,
      );
    } finally {
      await gh.close().catch(() => undefined);
    }
  });

  it('refuses every request when the store is unavailable (revocations cannot be checked)', async () => {
    const gh = await startGatehouse(
      config({ 'all.cedar': '@id("all") permit (principal, action, resource);' }),
    );
    try {
      const client = await gh.client(await gh.mint());
      await gh.rt.store.close();
      await assert.rejects(
        client.callTool({ name: 'flaky__ok', arguments: {} }),
        /store unavailable/,
      );
    } finally {
      await gh.close().catch(() => undefined);
    }
  });

  it('denies every call and lists no tools when the policy set does not load', async () => {
    const gh = await startGatehouse(
      config({ 'broken.cedar': 'permit (principal, action, resource' }),
    );
    try {
      const client = await gh.client(await gh.mint());
      assert.deepEqual((await client.listTools()).tools, []);
      const res = await client.callTool({ name: 'flaky__ok', arguments: {} });
      assert.equal(res.isError, true);
      assert.match(
        firstText(res),
        /no valid policy set is loaded \(broken\.cedar:1: .*\); every call is denied/,
      );
      const [rec] = await gh.rt.store.listDecisions({ limit: 1 });
      assert.equal(rec?.outcome, 'deny');
      assert.equal(rec?.policySetHash, 'none');
    } finally {
      await gh.close();
    }
  });
});
