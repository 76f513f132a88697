import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  firstText,
  quickstartConfig,
  REPO_ROOT,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';
import { withoutReceipt } from './helpers/receipts.js';

/** End to end over Streamable HTTP, with the real SDK client, against the quickstart's real upstreams. */
describe('gateway over Streamable HTTP (quickstart)', () => {
  let gh: Running;
  let client: Client;

  before(async () => {
    const config = quickstartConfig();
    // A call that needs approval is held this long, then answered with its approval id.
    gh = await startGatehouse({ ...config, approvals: { ...config.approvals, wait: 300 } });
    client = await gh.client(await gh.mint());
  });
  after(async () => gh.close());

  it('returns the upstream result unchanged for an allowed call', async () => {
    const direct = new Client({ name: 'direct', version: '1' });
    await direct.connect(
      new StdioClientTransport({
        command: join(REPO_ROOT, 'node_modules/.bin/mcp-server-filesystem'),
        args: ['sandbox'],
        cwd: join(REPO_ROOT, 'examples/quickstart'),
        stderr: 'ignore',
      }),
    );
    try {
      const args = { path: 'notes.txt' };
      const expected = await direct.callTool({ name: 'read_text_file', arguments: args });
      const got = await client.callTool({ name: 'files__read_text_file', arguments: args });
      assert.deepEqual(withoutReceipt(got), expected);
      assert.match(firstText(got), /Quarterly support notes/);
    } finally {
      await direct.close();
    }
  });

  it('forwards a refund within the limit and records the allow', async () => {
    const res = await client.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c-1001', amount: 120 },
    });
    assert.equal(res.isError, undefined);
    assert.match(firstText(res), /^Refunded 120 EUR to c-1001/);
    const [last] = await gh.rt.store.listDecisions({ limit: 1 });
    assert.equal(last?.outcome, 'allow');
    assert.deepEqual(last?.policies, ['support-bot-refunds']);
    assert.equal(last?.agent.name, 'support-bot');
    assert.equal(last?.agent.principal, 'user:alice');
    assert.match(last?.argsDigest ?? '', /^sha256:[0-9a-f]{64}$/);
  });

  it('holds back a refund over 500 as needing approval, naming the decision, policy and reason', async () => {
    const before = firstText(
      await client.callTool({ name: 'payments__get_balance', arguments: {} }),
    );
    const res = await client.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c-1001', amount: 900 },
    });
    assert.equal(res.isError, true);
    const text = firstText(res);
    assert.match(text, /Waiting for a human: approval apr_\S+ is pending/);
    assert.match(text, /\(decision dec_[A-Za-z0-9_-]+\)/);
    assert.match(text, /refunds over 500 need a human approver/);
    assert.match(text, /refunds-over-500-need-approval/);
    const after = firstText(
      await client.callTool({ name: 'payments__get_balance', arguments: {} }),
    );
    assert.equal(after, before, 'a denied refund must not reach the upstream');
    const id = /decision (dec_[A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '';
    const rec = await gh.rt.store.getDecision(id);
    assert.equal(rec?.outcome, 'approval_required');
    assert.equal(rec?.tool, 'payments__refund');
    assert.deepEqual(
      rec?.args,
      { customer: 'c-1001', amount: 900 },
      'arguments are kept for replay',
    );
  });

  it('denies send_money to agents no policy lets send, and file writes for everyone', async () => {
    const other = await gh.client(
      await gh.mint({ agent: { name: 'research-bot', version: '2.0.0' } }),
    );
    const send = await other.callTool({
      name: 'payments__send_money',
      arguments: { to: 'DE89370400440532013000', amount: 5 },
    });
    assert.equal(send.isError, true);
    assert.match(firstText(send), /no policy permits agent "research-bot"/);
    const write = await client.callTool({
      name: 'files__write_file',
      arguments: { path: 'sandbox/x.txt', content: 'x' },
    });
    assert.equal(write.isError, true);
    assert.match(firstText(write), /files-no-writes/);
  });

  it('lists only the tools policy could allow', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const visible of [
      'files__read_text_file',
      'payments__get_balance',
      'payments__refund',
      'payments__send_money',
      'web__fetch',
    ]) {
      assert.ok(names.includes(visible), `${visible} should be listed`);
    }
    for (const hidden of ['files__write_file', 'files__edit_file']) {
      assert.ok(!names.includes(hidden), `${hidden} should be hidden`);
    }
    for (const n of names) assert.match(n, /^[A-Za-z0-9_-]{1,64}$/);
  });

  it('hides and denies refunds for an agent that is not support-bot', async () => {
    const other = await gh.client(
      await gh.mint({ agent: { name: 'research-bot', version: '2.0.0' } }),
    );
    const names = (await other.listTools()).tools.map((t) => t.name);
    assert.ok(!names.includes('payments__refund'));
    const res = await other.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c', amount: 10 },
    });
    assert.equal(res.isError, true);
    assert.match(firstText(res), /no policy permits agent "research-bot"/);
  });

  it('answers an unknown tool with an error result the model can read, and calls nothing', async () => {
    const count = (await gh.rt.store.listDecisions({ limit: 1000 })).length;
    const res = await client.callTool({ name: 'payments__steal', arguments: {} });
    assert.equal(res.isError, true);
    assert.match(firstText(res), /^Unknown tool: payments__steal$/);
    assert.equal((await gh.rt.store.listDecisions({ limit: 1000 })).length, count);
  });

  it('refuses arguments that do not match the input schema before policy and upstream', async () => {
    const count = (await gh.rt.store.listDecisions({ limit: 1000 })).length;
    const res = await client.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c', amount: 'lots' },
    });
    assert.equal(res.isError, true);
    assert.match(
      firstText(res),
      /Invalid arguments for payments__refund: \/amount must be integer/,
    );
    const after = await gh.rt.store.listDecisions({ limit: 1000 });
    assert.equal(after.length, count + 1, 'the refusal is recorded');
    assert.equal(after[0]?.outcome, 'deny');
    assert.deepEqual(after[0]?.policies, ['gatehouse.input-schema'], 'policy was not asked');
  });

  it('restricts a credential to its scope', async () => {
    const scoped = await gh.client(await gh.mint({ scope: ['files__*'] }));
    const names = (await scoped.listTools()).tools.map((t) => t.name);
    assert.ok(names.length > 0 && names.every((n) => n.startsWith('files__')));
    const res = await scoped.callTool({ name: 'payments__get_balance', arguments: {} });
    assert.equal(res.isError, true);
    assert.match(firstText(res), /outside the scope of this credential/);
  });
});
