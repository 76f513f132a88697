import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createAdminKey } from '../src/identity/index.js';
import { runCli } from './helpers/cli.js';
import { eventually, firstText, startGatehouse, type Running } from './helpers/gatehouse.js';
import { quickstartCopy, type PolicySetup } from './helpers/policy-setup.js';

const BALANCE = { name: 'payments__get_balance', arguments: {} };
const FORBID_BALANCE =
  '@id("no-balance") @reason("balances are closed today")\nforbid (principal, action == Action::"payments__get_balance", resource);\n';

async function isDenied(client: Client, call = BALANCE): Promise<boolean> {
  const res = await client.callTool(call);
  if (process.env.DEBUG_TEST) console.error(JSON.stringify(res));
  return res.isError === true;
}

/** Operating policy on a running Gatehouse: lockdown, reload, shadow mode, invalid sets. */
describe('operating policy', () => {
  let setup: PolicySetup;
  let gh: Running;
  let client: Client;
  let adminKey: string;

  before(async () => {
    setup = quickstartCopy(['watch: false']);
    gh = await startGatehouse(setup.config());
    client = await gh.client(await gh.mint());
    adminKey = (await createAdminKey(gh.rt.store, 'ada', 'admin', Date.now())).key;
  });
  after(async () => gh.close());

  const reload = (key = adminKey) =>
    fetch(new URL('/v1/policies/reload', gh.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });

  it('locks a tool down from the CLI on the next call, without a restart, and lifts it', async () => {
    assert.equal(await isDenied(client), false);
    const lock = runCli([
      'lockdown',
      'payments__*',
      '--reason',
      'incident 7',
      '--config',
      setup.configPath,
    ]);
    assert.equal(lock.code, 0, lock.err);
    const res = await client.callTool(BALANCE);
    assert.equal(res.isError, true, 'the very next call is refused');
    assert.match(firstText(res), /locked down by local: incident 7/);
    assert.match(firstText(res), /lockdown:payments__\*/);
    assert.equal(
      await isDenied(client, {
        name: 'web__fetch',
        arguments: { url: 'https://forum.example.net/thread/4242' },
      }),
      false,
    );
    const tools = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(!tools.includes('payments__get_balance'), 'a locked tool is hidden');
    const list = runCli(['lockdown', '--list', '--config', setup.configPath]);
    assert.match(list.out, /payments__\*\s+\S+ \S+\s+local\s+incident 7/);
    const lift = runCli(['lockdown', 'payments__*', '--lift', '--config', setup.configPath]);
    assert.equal(lift.code, 0, lift.err);
    assert.equal(await isDenied(client), false);
    const events = (await gh.rt.store.listEvents(20)).map((e) => e.kind);
    assert.ok(events.includes('lockdown.add') && events.includes('lockdown.lift'));
    const badPattern = runCli([
      'lockdown',
      'pay ments',
      '--reason',
      'x',
      '--config',
      setup.configPath,
    ]);
    assert.equal(badPattern.code, 1);
    assert.match(badPattern.err, /the pattern "pay ments" must be/);
  });

  it('refuses a bad reload and keeps the last good set; swaps in a good one; records both', async () => {
    const before = gh.rt.policy.current().policySetHash;
    setup.write('broken.cedar', 'permit (principal, action resource);');
    const refused = await reload();
    assert.equal(refused.status, 409);
    const body = (await refused.json()) as { ok: boolean; errors: string[]; serving: string };
    assert.equal(body.ok, false);
    assert.match(body.errors[0] ?? '', /^broken\.cedar:1: /);
    assert.equal(body.serving, before);
    assert.equal(gh.rt.policy.current().policySetHash, before, 'the last good set keeps serving');
    assert.equal(await isDenied(client), false);

    setup.write('broken.cedar', FORBID_BALANCE);
    const ok = await reload();
    assert.equal(ok.status, 200);
    assert.notEqual(gh.rt.policy.current().policySetHash, before);
    const res = await client.callTool(BALANCE);
    assert.match(firstText(res), /balances are closed today/);
    const reloads = (await gh.rt.store.listEvents(50)).filter((e) => e.kind === 'policy.reload');
    assert.deepEqual(
      reloads.slice(0, 2).map((e) => [e.actor, e.detail.ok]),
      [
        ['ada', true],
        ['ada', false],
      ],
    );
    setup.write('broken.cedar', '// nothing\n');
    assert.equal((await reload()).status, 200);
    const agentToken = await gh.mint();
    assert.equal((await reload(agentToken)).status, 403, 'agents cannot reload policy');
  });

  it('reloads when a policy file changes', async () => {
    gh.rt.policy.watch();
    try {
      setup.write('later.cedar', FORBID_BALANCE);
      await eventually(async () => isDenied(client));
      setup.write('later.cedar', '// reopened\n');
      await eventually(async () => !(await isDenied(client)));
    } finally {
      gh.rt.policy.close();
    }
  });
});

describe('policy at the edges', () => {
  it('denies every call when the set is invalid at start, and says why', async () => {
    const setup = quickstartCopy();
    setup.write('broken.cedar', 'forbid (principal, action, resource) when { principal.nope };');
    const gh = await startGatehouse(setup.config());
    try {
      const client = await gh.client(await gh.mint());
      assert.deepEqual((await client.listTools()).tools, []);
      const res = await client.callTool(BALANCE);
      assert.equal(res.isError, true);
      assert.match(firstText(res), /no valid policy set is loaded \(broken\.cedar:1 .*nope/);
      const rec = (await gh.rt.store.listDecisions({ limit: 1 }))[0];
      assert.equal(rec?.outcome, 'deny');
      assert.equal(rec.policySetHash, 'none');
    } finally {
      await gh.close();
    }
  });

  it('passes calls in shadow mode and records what policy would have decided', async () => {
    const setup = quickstartCopy(['mode: shadow']);
    const gh = await startGatehouse(setup.config());
    try {
      const client = await gh.client(await gh.mint());
      // The injected page names the recipient: enforced, this payment would be refused outright.
      await client.callTool({
        name: 'web__fetch',
        arguments: { url: 'https://forum.example.net/thread/4242' },
      });
      const res = await client.callTool({
        name: 'payments__send_money',
        arguments: { to: 'DE89370400440532013000', amount: 5 },
      });
      assert.notEqual(res.isError, true, 'shadow mode does not block');
      const rec = (await gh.rt.store.listDecisions({ limit: 1, tool: 'payments__send_money' }))[0];
      assert.equal(rec?.outcome, 'allow');
      assert.equal(rec.shadow?.outcome, 'deny');
      assert.deepEqual(rec.shadow.policies, ['send-money-untrusted-recipient']);
      assert.match(rec.shadow.reason, /"to" from web__fetch/);
    } finally {
      await gh.close();
    }
  });

  it('sees untrusted content in the run: after a web fetch, a refund needs a human', async () => {
    const setup = quickstartCopy([], ['approvals: { wait: 300ms }']);
    const gh = await startGatehouse(setup.config());
    try {
      const client = await gh.client(await gh.mint());
      const refund = { name: 'payments__refund', arguments: { customer: 'c-1', amount: 50 } };
      assert.notEqual((await client.callTool(refund)).isError, true);
      await client.callTool({
        name: 'web__fetch',
        arguments: { url: 'https://forum.example.net/thread/4242' },
      });
      const after = await client.callTool(refund);
      assert.equal(after.isError, true);
      assert.match(
        firstText(after),
        /Waiting for a human: approval apr_\S+ is pending \(the run has read untrusted content/,
      );
      const other = await gh.client(await gh.mint());
      assert.notEqual((await other.callTool(refund)).isError, true, 'another run is unaffected');
    } finally {
      await gh.close();
    }
  });
});
