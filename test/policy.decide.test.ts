import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { runCli } from './helpers/cli.js';
import { BIN, eventually } from './helpers/gatehouse.js';
import { quickstartCopy, type PolicySetup } from './helpers/policy-setup.js';
import { freePort, spawnUntil } from './helpers/processes.js';

interface DecisionBody {
  decision_id?: string;
  outcome?: string;
  policies?: string[];
  reason?: string;
  policy_set_hash?: string;
  approvers?: string[];
  approval?: { id: string; status: string; used: boolean };
  error?: string;
  error_description?: string;
}

/** The decision API and `gatehouse decide`, against a `gatehouse up` process. */
describe('decision API', () => {
  let setup: PolicySetup;
  let child: ChildProcess;
  let base: string;
  let token: string;

  before(async () => {
    setup = quickstartCopy(['watch: false']);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = await spawnUntil(
      'node',
      [BIN, 'up', '--config', setup.configPath, '--port', String(port)],
      /serving MCP at/,
    );
    const printed = runCli([
      'token',
      'mint',
      '--config',
      setup.configPath,
      '--agent',
      'support-bot',
      '--agent-version',
      '1.4.0',
      '--principal',
      'user:alice',
    ]);
    assert.equal(printed.code, 0, printed.err);
    token = printed.out.trim();
  });
  after(() => {
    child.kill('SIGTERM');
  });

  async function decide(
    body: unknown,
    bearer = token,
  ): Promise<{ status: number; body: DecisionBody }> {
    const res = await fetch(new URL('/v1/decide', base), {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as DecisionBody };
  }

  it('decides and records a call for another runtime', async () => {
    const big = await decide({
      tool: 'payments__refund',
      arguments: { customer: 'c-1', amount: 900 },
    });
    assert.equal(big.status, 200);
    assert.equal(big.body.outcome, 'approval_required');
    assert.deepEqual(big.body.policies, ['refunds-over-500-need-approval']);
    assert.equal(big.body.reason, 'refunds over 500 need a human approver');
    assert.match(big.body.policy_set_hash ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(big.body.approval?.status, 'pending', 'the request is opened, not waited for');
    assert.match(big.body.approval.id, /^apr_/);
    const again = await decide({
      tool: 'payments__refund',
      arguments: { customer: 'c-1', amount: 900 },
    });
    assert.equal(
      again.body.approval?.id,
      big.body.approval.id,
      'the same call finds the same request',
    );
    const small = await decide({
      tool: { server: 'payments', name: 'refund' },
      arguments: { customer: 'c-1', amount: 20 },
    });
    assert.equal(small.body.outcome, 'allow');
    const recorded = runCli(['decisions', '--config', setup.configPath, '--json', '-n', '5']);
    const ids = recorded.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    assert.ok(
      ids.includes(big.body.decision_id ?? '') && ids.includes(small.body.decision_id ?? ''),
    );
  });

  it('checks arguments against the tool schema and refuses bad requests, naming every bad field', async () => {
    const schema = await decide({
      tool: 'payments__refund',
      arguments: { customer: 'c-1', amount: 'lots' },
    });
    assert.equal(schema.status, 400);
    assert.match(schema.body.error_description ?? '', /Invalid arguments for payments__refund/);
    const bad = await decide({ tool: 'bad name!', arguments: [], extra: 1 });
    assert.equal(bad.status, 400);
    for (const field of ['tool', 'arguments', 'extra'])
      assert.match(bad.body.error_description ?? '', new RegExp(field));
    const run = await decide({ tool: 'payments__get_balance', run: 'someone-elses-run' });
    assert.equal(run.status, 400);
    assert.match(run.body.error_description ?? '', /run: does not match the run of the credential/);
  });

  it('accepts only agent credentials', async () => {
    const none = await fetch(new URL('/v1/decide', base), { method: 'POST', body: '{}' });
    assert.equal(none.status, 401);
    const forged = await decide({ tool: 'payments__get_balance' }, `${token.slice(0, -4)}AAAA`);
    assert.equal(forged.status, 401);
    const person = await decide(
      { tool: 'payments__get_balance' },
      `ghk_${'a'.repeat(12)}_${'b'.repeat(43)}`,
    );
    assert.equal(person.status, 403);
  });

  it('gatehouse decide asks the same API and exits with the outcome', () => {
    const env = { GATEHOUSE_TOKEN: token };
    const allow = runCli(
      [
        'decide',
        '--url',
        base,
        '--tool',
        'payments__refund',
        '--args',
        '{"customer":"c","amount":10}',
      ],
      env,
    );
    assert.equal(allow.code, 0, allow.err);
    assert.match(allow.out, /^ALLOW {2}payments__refund/);
    const ask = runCli(
      [
        'decide',
        '--url',
        base,
        '--tool',
        'payments__refund',
        '--args',
        '{"customer":"c","amount":999}',
      ],
      env,
    );
    assert.equal(ask.code, 3);
    assert.match(ask.out, /APPROVAL REQUIRED/);
    const deny = runCli(
      [
        'decide',
        '--url',
        base,
        '--tool',
        'files__write_file',
        '--args',
        '{"path":"sandbox/x.txt","content":"x"}',
        '--json',
      ],
      env,
    );
    assert.equal(deny.code, 2);
    assert.equal((JSON.parse(deny.out) as DecisionBody).outcome, 'deny');
    const local = runCli(
      [
        'decide',
        '--config',
        setup.configPath,
        '--tool',
        'payments__refund',
        '--args',
        '{"customer":"c","amount":999}',
      ],
      env,
    );
    assert.equal(local.code, 3, local.err);
    const badArgs = runCli(
      ['decide', '--url', base, '--tool', 'payments__refund', '--args', '[1'],
      env,
    );
    assert.equal(badArgs.code, 1);
    assert.match(badArgs.err, /--args must be a JSON object/);
  });

  it('reloads on request from the CLI with an admin key, and refuses without one', () => {
    const created = runCli([
      'admin',
      'key',
      'create',
      '--config',
      setup.configPath,
      '--name',
      'ada',
      '--role',
      'admin',
    ]);
    const key = /ghk_\S+/.exec(created.out)?.[0] ?? '';
    assert.ok(key, created.out + created.err);
    const ok = runCli(['policy', 'reload', '--url', base], { GATEHOUSE_ADMIN_KEY: key });
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /Reloaded at .*: \d+ policies, policy set sha256:/);
    const agent = runCli(['policy', 'reload', '--url', base], { GATEHOUSE_ADMIN_KEY: token });
    assert.equal(agent.code, 1);
    assert.match(agent.err, /refused/);
  });

  it('re-reads the policy folder on SIGHUP', async () => {
    setup.write(
      'closed.cedar',
      '@id("closed") forbid (principal, action == Action::"payments__get_balance", resource);',
    );
    child.kill('SIGHUP');
    await eventually(
      async () => (await decide({ tool: 'payments__get_balance' })).body.outcome === 'deny',
    );
    const d = await decide({ tool: 'payments__get_balance' });
    assert.deepEqual(d.body.policies, ['closed']);
  });
});
