import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { runCli, runCliAsync } from './helpers/cli.js';
import { eventually, firstText, startGatehouse, type Running } from './helpers/gatehouse.js';
import { quickstartCopy, type PolicySetup } from './helpers/policy-setup.js';

/** `gatehouse approvals` on the host, answering a call parked in a running Gatehouse. */
describe('gatehouse approvals', () => {
  let setup: PolicySetup;
  let gh: Running;
  let client: Client;
  let key: string;

  before(async () => {
    setup = quickstartCopy([], ['approvals: { wait: 20s }']);
    gh = await startGatehouse(setup.config());
    client = await gh.client(await gh.mint());
    const created = runCli([
      'admin',
      'key',
      'create',
      '--config',
      setup.configPath,
      '--name',
      'fay',
      '--role',
      'approver',
      '--groups',
      'finance,ops',
    ]);
    assert.equal(created.code, 0, created.err);
    assert.match(created.err, /groups finance, ops/);
    key = created.out.trim();
  });
  after(async () => gh.close());

  const cli = (args: string[], env: Record<string, string> = { GATEHOUSE_ADMIN_KEY: key }) =>
    runCli([...args, '--config', setup.configPath], env);

  it('lists and shows a parked call, and approves it from another process', async () => {
    const call = client.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c-9', amount: 777 },
    });
    let id = '';
    await eventually(() => {
      const list = cli(['approvals', 'list']);
      id = /apr_[A-Za-z0-9_-]+/.exec(list.out)?.[0] ?? '';
      return id !== '';
    });
    const list = cli(['approvals', 'list']);
    assert.match(list.out, /ID\s+STATUS\s+AGENT\s+PRINCIPAL\s+TOOL\s+REASON\s+EXPIRES/);
    assert.match(
      list.out,
      /pending\s+support-bot@1\.4\.0\s+user:alice\s+payments__refund\s+refunds over 500/,
    );
    const show = cli(['approvals', 'show', id]);
    assert.match(show.out, /arguments\s+\{"customer":"c-9","amount":777\}/);
    assert.match(show.out, /lineage\s+\(root orchestrator\)/);
    const noKey = cli(['approvals', 'approve', id], {});
    assert.equal(noKey.code, 1);
    assert.match(noKey.err, /set GATEHOUSE_ADMIN_KEY/);
    const agentKey = cli(['approvals', 'approve', id], { GATEHOUSE_ADMIN_KEY: await gh.mint() });
    assert.equal(agentKey.code, 1, 'an agent credential cannot approve');
    const denyNoReason = cli(['approvals', 'deny', id]);
    assert.equal(denyNoReason.code, 1);
    const ok = cli(['approvals', 'approve', id, '--reason', 'checked with the customer']);
    assert.equal(ok.code, 0, ok.err);
    const res = await call;
    assert.notEqual(res.isError, true, firstText(res));
    assert.match(firstText(res), /Refunded 777/i);
    const approved = cli(['approvals', 'list', '--status', 'approved', '--json']);
    const rows = approved.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; decided_by: string });
    assert.equal(rows.find((r) => r.id === id)?.decided_by, 'fay');
  });

  it('answers over HTTP with --url', async () => {
    const call = client.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c-9', amount: 778 },
    });
    const base = gh.url.origin;
    let id = '';
    await eventually(async () => {
      const list = await runCliAsync(['approvals', 'list', '--url', base], {
        GATEHOUSE_ADMIN_KEY: key,
      });
      id = /apr_[A-Za-z0-9_-]+/.exec(list.out)?.[0] ?? '';
      return id !== '';
    });
    const deny = await runCliAsync(
      ['approvals', 'deny', id, '--reason', 'duplicate refund', '--url', base],
      {
        GATEHOUSE_ADMIN_KEY: key,
      },
    );
    assert.equal(deny.code, 0, deny.err);
    const res = await call;
    assert.equal(res.isError, true);
    assert.match(firstText(res), /denied by fay: duplicate refund/);
  });
});
