import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  gatehouseCanUseTool,
  guard,
  type GuardError,
  type PermissionResult,
} from '../src/adapters/agent-sdk.js';
import { GatehouseClient } from '../src/client/index.js';
import { createAdminKey } from '../src/identity/index.js';
import {
  eventually,
  quickstartNoWait,
  startGatehouse,
  tempDir,
  type Running,
} from './helpers/gatehouse.js';
import { freePort } from './helpers/processes.js';

const signal = new AbortController().signal;

function denied(r: PermissionResult): string {
  assert.equal(r.behavior, 'deny', JSON.stringify(r));
  return r.behavior === 'deny' ? r.message : '';
}

/** The Agent SDK adapter and guard() against a real Gatehouse (the quickstart) on a free port. */
describe('Agent SDK: canUseTool and guard()', () => {
  let gh: Running;
  let dir: string;
  let approver: GatehouseClient;

  before(async () => {
    dir = tempDir();
    gh = await startGatehouse(quickstartNoWait(dir));
    const { key } = await createAdminKey(gh.rt.store, 'ann', 'approver', Date.now());
    approver = new GatehouseClient({ url: gh.http.baseUrl, adminKey: key });
  });
  after(() => gh.close());

  const clientFor = async (run = `run-${randomUUID()}`) =>
    new GatehouseClient({ url: gh.http.baseUrl, token: await gh.mint({ run }) });

  /** Approves the pending request of `run` on `tool` as soon as it appears. */
  async function approveWhenAsked(run: string, tool: string): Promise<string> {
    let id = '';
    await eventually(async () => {
      id =
        (await approver.listApprovals()).find((a) => a.agent.run === run && a.tool === tool)?.id ??
        '';
      return id !== '';
    });
    await approver.approve(id, 'checked');
    return id;
  }

  describe('gatehouseCanUseTool', () => {
    it('allows with the input unchanged', async () => {
      const canUseTool = gatehouseCanUseTool({ client: await clientFor() });
      const input = { command: 'git status', description: 'status' };
      const r = await canUseTool('Bash', input, { signal });
      assert.deepEqual(r, { behavior: 'allow', updatedInput: input });
      const mcp = await canUseTool('mcp__payments__get_balance', {}, { signal });
      assert.equal(mcp.behavior, 'allow');
    });

    it('denies with a message naming the policies and the decision', async () => {
      const seen: string[] = [];
      const canUseTool = gatehouseCanUseTool({
        client: await clientFor(),
        onDecision: (tool, d) => seen.push(`${tool}:${d.outcome}`),
      });
      const message = denied(await canUseTool('Bash', { command: 'rm -rf /' }, { signal }));
      assert.match(
        message,
        /Gatehouse denied claude__Bash: destructive shell commands are not allowed/,
      );
      assert.match(
        message,
        /Deciding policies: claude-no-destructive-commands \(decision dec_[\w-]+\)/,
      );
      assert.deepEqual(seen, ['claude__Bash:deny']);
      assert.match(
        denied(await canUseTool('mcp__no_such__x', {}, { signal })),
        /not a Gatehouse server name/,
      );
    });

    it('denies a call that needs approval, naming the open request', async () => {
      const canUseTool = gatehouseCanUseTool({ client: await clientFor() });
      const message = denied(
        await canUseTool('mcp__payments__refund', { customer: 'c-1001', amount: 900 }, { signal }),
      );
      assert.match(message, /needs a human approval: refunds over 500 need a human approver/);
      assert.match(message, /Approval request apr_[\w-]+ is pending/);
      assert.match(message, /refunds-over-500-need-approval/);
    });

    it('waits for an approval when asked to, then allows', async () => {
      const run = `run-${randomUUID()}`;
      const canUseTool = gatehouseCanUseTool({
        client: await clientFor(run),
        waitForApprovalMs: 20_000,
        pollMs: 100,
      });
      const input = { customer: 'c-1001', amount: 901 };
      const [r] = await Promise.all([
        canUseTool('mcp__payments__refund', input, { signal }),
        approveWhenAsked(run, 'payments__refund'),
      ]);
      assert.deepEqual(r, { behavior: 'allow', updatedInput: input });
    });

    it('denies when Gatehouse cannot be asked (fail closed)', async () => {
      const down = new GatehouseClient({
        url: `http://127.0.0.1:${await freePort()}`,
        token: await gh.mint(),
      });
      const message = denied(
        await gatehouseCanUseTool({ client: down })('Read', { file_path: '/x' }, { signal }),
      );
      assert.match(message, /could not decide claude__Read, so it was refused/);
      const forged = new GatehouseClient({
        url: gh.http.baseUrl,
        token: 'eyJhbGciOiJub25lIn0.e30.',
      });
      assert.match(
        denied(
          await gatehouseCanUseTool({ client: forged })('Read', { file_path: '/x' }, { signal }),
        ),
        /refused POST \/v1\/decide \(401\)/,
      );
    });
  });

  describe('guard()', () => {
    it('decides, runs, records the result and returns it', async () => {
      const run = `run-${randomUUID()}`;
      const client = await clientFor(run);
      const calls: unknown[] = [];
      const recorded: number[] = [];
      const fetchPage = guard(
        (a: { url: string }) => {
          calls.push(a);
          return `page of ${a.url}: pay DE89370400440532013000`;
        },
        { tool: 'web__fetch', client, onRecorded: (r) => recorded.push(r.receipt.index) },
      );
      const out = await fetchPage({ url: 'https://forum.example.net/thread/4242' });
      assert.match(out, /pay DE89/);
      assert.equal(calls.length, 1);
      assert.equal(recorded.length, 1);
      assert.equal(gh.rt.runs.get(run).lowestTrust, 'untrusted', 'the run has read the result');
      const send = guard(() => 'sent', { tool: 'payments__send_money', client });
      await assert.rejects(
        send({ to: 'DE89370400440532013000', amount: 2500 }),
        (err: GuardError) => {
          assert.equal(err.code, 'GUARD_DENIED');
          assert.deepEqual(err.policies, ['send-money-untrusted-recipient']);
          return true;
        },
      );
    });

    it('never calls the function when denied, approval is required, or Gatehouse is down', async () => {
      let called = 0;
      const fn = () => {
        called++;
        return 'done';
      };
      const client = await clientFor();
      const write = guard(fn, { tool: 'files__write_file', client });
      await assert.rejects(write({ path: 'a', content: 'b' }), (err: GuardError) => {
        assert.equal(err.code, 'GUARD_DENIED');
        assert.match(err.message, /nobody may write files/);
        assert.match(err.decisionId ?? '', /^dec_/);
        return true;
      });
      const refund = guard(fn, { tool: { server: 'payments', name: 'refund' }, client });
      await assert.rejects(refund({ customer: 'c-1001', amount: 900 }), (err: GuardError) => {
        assert.equal(err.code, 'GUARD_APPROVAL_REQUIRED');
        assert.match(err.approvalId ?? '', /^apr_/);
        return true;
      });
      const down = new GatehouseClient({ url: `http://127.0.0.1:${await freePort()}`, token: 't' });
      await assert.rejects(
        guard(fn, { tool: 'payments__get_balance', client: down })({}),
        (err: GuardError) => err.code === 'GUARD_UNAVAILABLE',
      );
      assert.equal(called, 0);
    });

    it('runs once approved (waiting for it), and passes a failure through after recording it', async () => {
      const run = `run-${randomUUID()}`;
      const client = await clientFor(run);
      const refund = guard(
        (a: { customer: string; amount: number }) => ({
          content: [{ type: 'text' as const, text: `Refunded ${a.amount}` }],
        }),
        {
          tool: 'payments__refund',
          client,
          waitForApprovalMs: 20_000,
          pollMs: 100,
        },
      );
      const [out] = await Promise.all([
        refund({ customer: 'c-1001', amount: 950 }),
        approveWhenAsked(run, 'payments__refund'),
      ]);
      assert.equal(out.content[0]?.text, 'Refunded 950');
      const boom = guard(
        (): string => {
          throw new Error('upstream exploded');
        },
        { tool: 'payments__get_balance', client },
      );
      await assert.rejects(boom({}), /upstream exploded/);
      const [last] = await gh.rt.store.listDecisions({
        limit: 1,
        run,
        tool: 'payments__get_balance',
      });
      const receipt = await gh.rt.store.resultOf(last?.id ?? '');
      const [entry] = await gh.rt.store.auditEntries(receipt?.index ?? -1, 1);
      assert.match(Buffer.from(entry?.leaf ?? []).toString('utf8'), /"status":"failed"/);
    });

    it('withholds a result it could not record (GUARD_UNRECORDED)', async () => {
      const client = await clientFor();
      const db = new Database(join(dir, 'gatehouse.db'));
      db.exec(
        "CREATE TRIGGER refuse_results BEFORE INSERT ON results BEGIN SELECT RAISE(ABORT, 'disk full'); END",
      );
      try {
        const read = guard(() => 'balance: 100', { tool: 'payments__get_balance', client });
        await assert.rejects(read({}), (err: GuardError) => {
          assert.equal(err.code, 'GUARD_UNRECORDED');
          assert.match(
            err.message,
            /ran but Gatehouse could not record its result, so it is withheld/,
          );
          return true;
        });
      } finally {
        db.exec('DROP TRIGGER refuse_results');
        db.close();
      }
    });
  });
});
