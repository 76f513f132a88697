import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatehouseError } from '../src/errors/index.js';
import { silentLogger } from '../src/log/index.js';
import { openRuntime } from '../src/server/index.js';
import {
  configWithPolicies,
  FIXTURE_SERVER,
  firstText,
  startGatehouse,
} from './helpers/gatehouse.js';

const ALLOW_ALL = { 'all.cedar': '@id("all") permit (principal, action, resource);' };
const flaky = (name: string, prefix: boolean) => [
  `  ${name}:`,
  '    command: node',
  `    args: [${FIXTURE_SERVER}]`,
  `    prefix: ${prefix}`,
];

/** `prefix: false`: Gatehouse in front of one server without renaming anything. */
describe('upstreams without a name prefix', () => {
  it("serves an upstream's tools under their own names, decided and recorded as usual", async () => {
    const gh = await startGatehouse(
      configWithPolicies(ALLOW_ALL, 'upstreams:', ...flaky('flaky', false), ...flaky('b', true)),
    );
    try {
      const client = await gh.client(await gh.mint());
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.ok(names.includes('ok') && names.includes('b__ok'), names.join());
      assert.ok(!names.includes('flaky__ok'));
      const res = await client.callTool({ name: 'ok', arguments: {} });
      assert.notEqual(res.isError, true, firstText(res));
      const [rec] = await gh.rt.store.listDecisions({ limit: 1, tool: 'ok' });
      assert.equal(rec?.server, 'flaky');
      assert.equal(rec.outcome, 'allow');
      // The decision API names it the same way when asked by server and tool name.
      const agent = await gh.rt.authority.verify(await gh.mint());
      assert.ok(agent.ok);
      const decided = await gh.rt.gateway.decideCall(
        agent.identity,
        { server: 'flaky', name: 'ok' },
        {},
      );
      assert.ok(decided.ok);
      assert.equal((await gh.rt.store.getDecision(decided.decision.id))?.tool, 'ok');
    } finally {
      await gh.close();
    }
  });

  it('refuses to start when two upstreams offer a tool under the same name', async () => {
    const config = configWithPolicies(
      ALLOW_ALL,
      'upstreams:',
      ...flaky('a', false),
      ...flaky('b', false),
    );
    const rt = await openRuntime(config, silentLogger());
    try {
      await assert.rejects(rt.gateway.whenSettled(), (err: unknown) => {
        assert.ok(isGatehouseError(err, 'GATEWAY_NAME_CLASH'));
        assert.match(err.message, /"ok" \(from a and b\)/);
        return true;
      });
      // Neither is served meanwhile: a call must never reach the wrong server.
      assert.equal(rt.gateway.catalog.get('ok'), undefined);
    } finally {
      await rt.close();
    }
  });
});
