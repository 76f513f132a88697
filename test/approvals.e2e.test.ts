import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createAdminKey } from '../src/identity/index.js';
import { openRuntime } from '../src/server/index.js';
import { silentLogger } from '../src/log/index.js';
import { eventually, firstText, startGatehouse, type Running } from './helpers/gatehouse.js';
import { quickstartCopy, type PolicySetup } from './helpers/policy-setup.js';

const REFUND_900 = { name: 'payments__refund', arguments: { customer: 'c-1001', amount: 900 } };
/** Only finance may approve refunds over 5,000. */
const FINANCE = `@id("very-big-refunds") @approval @approvers("finance")
@reason("refunds over 5000 need finance")
forbid (principal, action == Action::"payments__refund", resource) when { context.args.amount > 5000 };`;

interface ApprovalBody {
  id: string;
  status: string;
  decided_by?: string;
  used_by_decision?: string;
  arguments?: unknown;
  error?: string;
}

/** Human approval through the gateway, with the real MCP SDK client. */
describe('approvals', () => {
  let setup: PolicySetup;
  let gh: Running;
  let client: Client;
  let finance: string;
  let ops: string;

  before(async () => {
    setup = quickstartCopy([], ['approvals: { wait: 4s, ttl: 15m }']);
    setup.write('finance.cedar', FINANCE);
    gh = await startGatehouse(setup.config());
    client = await gh.client(await gh.mint());
    finance = (await createAdminKey(gh.rt.store, 'fay', 'approver', Date.now(), ['finance'])).key;
    ops = (await createAdminKey(gh.rt.store, 'oscar', 'approver', Date.now(), ['ops'])).key;
  });
  after(async () => gh.close());

  async function api(
    path: string,
    key: string,
    body?: unknown,
  ): Promise<{ status: number; body: ApprovalBody & { approvals?: ApprovalBody[] } }> {
    const res = await fetch(new URL(path, gh.url), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as ApprovalBody };
  }

  async function pendingFor(amount: number): Promise<ApprovalBody> {
    let found: ApprovalBody | undefined;
    await eventually(async () => {
      const list = (await api('/v1/approvals', finance)).body.approvals ?? [];
      found = list.find((a) => (a.arguments as { amount?: number } | undefined)?.amount === amount);
      return found !== undefined;
    });
    assert.ok(found);
    return found;
  }

  it('parks a refund of 900 until an approver approves it over HTTP, then returns the upstream result', async () => {
    const progress: string[] = [];
    const call = client.callTool(REFUND_900, undefined, {
      onprogress: (p) => progress.push(p.message ?? ''),
      timeout: 30_000,
    });
    const pending = await pendingFor(900);
    assert.equal(pending.status, 'pending');
    const answered = await api(`/v1/approvals/${pending.id}/approve`, ops, {
      reason: 'customer verified',
    });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    const res = await call;
    assert.notEqual(res.isError, true, firstText(res));
    assert.match(firstText(res), /Refunded 900/i);
    assert.ok(
      progress.some((m) => m.includes(pending.id)),
      'progress names the approval',
    );
    const after = (await api(`/v1/approvals/${pending.id}`, finance)).body;
    assert.equal(after.status, 'approved');
    assert.equal(after.decided_by, 'oscar');
    assert.match(after.used_by_decision ?? '', /^dec_/);
  });

  it('tells the agent when the approver denies, with the reason', async () => {
    const call = client.callTool({ ...REFUND_900, arguments: { customer: 'c-2', amount: 901 } });
    const pending = await pendingFor(901);
    const noReason = await api(`/v1/approvals/${pending.id}/deny`, finance, {});
    assert.equal(noReason.status, 400, 'a denial needs a reason');
    assert.equal(
      (await api(`/v1/approvals/${pending.id}/deny`, finance, { reason: 'looks like fraud' }))
        .status,
      200,
    );
    const res = await call;
    assert.equal(res.isError, true);
    assert.match(
      firstText(res),
      new RegExp(`Approval ${pending.id} was denied by fay: looks like fraud`),
    );
    assert.equal(
      (await api(`/v1/approvals/${pending.id}/approve`, finance, {})).status,
      409,
      'answered once',
    );
  });

  it('lets a retry pass exactly once after a late approval, and not with other arguments', async () => {
    const first = await client.callTool({
      ...REFUND_900,
      arguments: { customer: 'c-3', amount: 902 },
    });
    assert.equal(first.isError, true);
    const id = /approval (apr_[A-Za-z0-9_-]+) is pending/.exec(firstText(first))?.[1] ?? '';
    assert.ok(id, firstText(first));
    assert.match(
      firstText(first),
      /retry the same call, with the same arguments, once it is approved/,
    );
    assert.equal((await api(`/v1/approvals/${id}/approve`, finance, {})).status, 200);
    const other = client.callTool({ ...REFUND_900, arguments: { customer: 'c-3', amount: 903 } });
    const retry = await client.callTool({
      ...REFUND_900,
      arguments: { customer: 'c-3', amount: 902 },
    });
    assert.notEqual(retry.isError, true, firstText(retry));
    assert.match(firstText(retry), /Refunded 902/i);
    const otherRes = await other;
    assert.equal(otherRes.isError, true, 'an approval covers one argument digest');
    assert.doesNotMatch(firstText(otherRes), new RegExp(id));
    const again = await client.callTool({
      ...REFUND_900,
      arguments: { customer: 'c-3', amount: 902 },
    });
    assert.equal(again.isError, true, 'an approval is used once');
    assert.doesNotMatch(firstText(again), new RegExp(id), 'the second retry asks again');
  });

  it('refuses agent credentials and approvers outside the named group', async () => {
    const call = client.callTool({ ...REFUND_900, arguments: { customer: 'c-4', amount: 6000 } });
    const pending = await pendingFor(6000);
    const agentTry = await api(`/v1/approvals/${pending.id}/approve`, await gh.mint(), {});
    assert.equal(agentTry.status, 403);
    const wrongGroup = await api(`/v1/approvals/${pending.id}/approve`, ops, {});
    assert.equal(wrongGroup.status, 403);
    assert.match(JSON.stringify(wrongGroup.body), /needs an approver from finance/);
    assert.equal((await api(`/v1/approvals/${pending.id}/approve`, finance, {})).status, 200);
    assert.notEqual((await call).isError, true);
  });
});

describe('approvals over time', () => {
  it('expires a request nobody answers, and the parked call says so', async () => {
    const setup = quickstartCopy([], ['approvals: { wait: 10s, ttl: 1s }']);
    const gh = await startGatehouse(setup.config());
    try {
      const client = await gh.client(await gh.mint());
      const res = await client.callTool(REFUND_900);
      assert.equal(res.isError, true);
      assert.match(firstText(res), /Approval apr_\S+ expired before anyone approved it/);
      const [a] = await gh.rt.store.listApprovals({ limit: 1 });
      assert.equal(a?.status, 'expired');
      const events = (await gh.rt.store.listEvents(10)).map((e) => e.kind);
      assert.ok(events.includes('approval.expire'));
    } finally {
      await gh.close();
    }
  });

  it('keeps a pending request across a restart; the retry passes once it is approved', async () => {
    const setup = quickstartCopy([], ['approvals: { wait: 1s }']);
    const gh = await startGatehouse(setup.config());
    const token = await gh.mint();
    let id = '';
    try {
      const client = await gh.client(token);
      const res = await client.callTool(REFUND_900);
      id = /approval (apr_\S+) is pending/.exec(firstText(res))?.[1] ?? '';
      assert.ok(id);
    } finally {
      await gh.close();
    }
    const rt = await openRuntime(setup.config(), silentLogger());
    const { key } = await createAdminKey(rt.store, 'ada', 'approver', Date.now());
    const pending = await rt.store.getApproval(id);
    assert.equal(pending?.status, 'pending', 'the request survived the restart');
    await rt.close();
    const gh2 = await startGatehouse(setup.config());
    try {
      const answer = await fetch(new URL(`/v1/approvals/${id}/approve`, gh2.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(answer.status, 200);
      const client = await gh2.client(token);
      const retry = await client.callTool(REFUND_900);
      assert.notEqual(retry.isError, true, firstText(retry));
    } finally {
      await gh2.close();
    }
  });
});
