import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Approvals, webhookAnnouncer } from '../src/approvals/index.js';
import type { Decision } from '../src/policy/index.js';
import { silentLogger } from '../src/log/index.js';
import { openSqliteStore, type AdminKeyRecord, type Store } from '../src/store/index.js';
import { tool } from './helpers/agents.js';
import { tempDir } from './helpers/gatehouse.js';

const AGENT = {
  id: 'spiffe://t/agent/support-bot/1',
  name: 'support-bot',
  version: '1.4.0',
  principal: 'user:alice',
  run: 'run-1',
  credential: 'cred-1',
  depth: 0,
  ancestors: [],
};
const REFUND = tool('payments', 'refund', { blast_radius: 'high' });

function decision(id: string, approvers: string[] = []): Decision {
  return {
    id,
    outcome: 'approval_required',
    policies: ['big-refunds'],
    reason: 'refunds over 500 need a human',
    approvers,
    policySetHash: 'sha256:x',
  };
}

function person(name: string, groups: string[] = []): AdminKeyRecord {
  return { id: name, name, role: 'approver', secretHash: 'x', createdAt: 0, groups };
}

function setup(
  clock = { t: 1_000_000 },
  ttlMs = 60_000,
): { store: Store; approvals: Approvals; clock: { t: number } } {
  const store = openSqliteStore(join(tempDir(), 'gh.db'));
  const approvals = new Approvals({
    store,
    log: silentLogger(),
    now: () => clock.t,
    ttlMs,
    waitMs: 0,
    pollMs: 10,
  });
  return { store, approvals, clock };
}

const call = (decisionId: string, amount = 900, approvers: string[] = []) => ({
  agent: AGENT,
  tool: REFUND,
  args: { amount },
  argsDigest: `sha256:${amount}`,
  decision: decision(decisionId, approvers),
});

/** The approval state machine on a real SQLite file, with an injected clock. */
describe('approval requests', () => {
  it('opens one request per call, is used once, and binds to the argument digest', async () => {
    const { store, approvals } = setup();
    const first = await approvals.hold(call('dec_1'));
    assert.equal(first.kind, 'refused');
    const id = first.approval?.id ?? '';
    const again = await approvals.hold(call('dec_2'));
    assert.equal(again.approval?.id, id, 'the same pending request, not a new one');
    assert.equal((await approvals.answer(id, person('fay'), 'approve', 'ok')).ok, true);
    const other = await approvals.hold(call('dec_3', 901));
    assert.equal(other.kind, 'refused');
    assert.notEqual(other.approval?.id, id);
    const used = await Promise.all([approvals.hold(call('dec_4')), approvals.hold(call('dec_5'))]);
    assert.deepEqual(
      used.map((u) => u.kind).sort(),
      ['approved', 'refused'],
      'used at most once, even concurrently',
    );
    const a = await store.getApproval(id);
    assert.match(a?.usedByDecision ?? '', /^dec_[45]$/);
    const kinds = (await store.listEvents(20)).map((e) => e.kind);
    for (const k of ['approval.request', 'approval.approve', 'approval.use'])
      assert.ok(kinds.includes(k), k);
    await store.close();
  });

  it('binds to the agent and the approvers asked for, not only to run, tool and arguments', async () => {
    const { store, approvals } = setup();
    const id = (await approvals.hold(call('dec_1'))).approval?.id ?? '';
    assert.equal((await approvals.answer(id, person('fay'), 'approve', '')).ok, true);
    // A subagent of the same run, same tool and arguments: it needs its own approval.
    const sub = {
      ...call('dec_2'),
      agent: { ...AGENT, id: 'spiffe://t/agent/helper/2', depth: 1, ancestors: [AGENT.id] },
    };
    const subHeld = await approvals.hold(sub);
    assert.equal(subHeld.kind, 'refused');
    assert.notEqual(subHeld.approval?.id, id);
    // Policy now asks for finance: the approval given by anyone does not cover it.
    const stricter = await approvals.hold(call('dec_3', 900, ['finance']));
    assert.equal(stricter.kind, 'refused');
    assert.notEqual(stricter.approval?.id, id);
    // Another tool with the same arguments.
    const other = await approvals.hold({ ...call('dec_4'), tool: tool('payments', 'send_money') });
    assert.notEqual(other.approval?.id, id);
    assert.equal(
      (await approvals.hold(call('dec_5'))).kind,
      'approved',
      'the agent it was for still may',
    );
    await store.close();
  });

  it('expires: a pending request cannot be answered, an approval cannot be used after its time', async () => {
    const { store, approvals, clock } = setup();
    const pending = (await approvals.hold(call('dec_1'))).approval?.id ?? '';
    const approvedId = (await approvals.hold(call('dec_2', 1000))).approval?.id ?? '';
    assert.equal((await approvals.answer(approvedId, person('fay'), 'approve', '')).ok, true);
    clock.t += 60_001;
    const late = await approvals.answer(pending, person('fay'), 'approve', '');
    assert.equal(late.ok, false);
    assert.equal(late.ok ? '' : late.code, 'not_pending');
    assert.deepEqual(await approvals.expireDue(), [pending]);
    assert.equal((await store.getApproval(pending))?.status, 'expired');
    const retry = await approvals.hold(call('dec_3', 1000));
    assert.equal(retry.kind, 'refused', 'an expired approval is not used');
    assert.notEqual(retry.approval?.id, approvedId);
    await store.close();
  });

  it('enforces approver groups and needs a reason to deny', async () => {
    const { store, approvals } = setup();
    const id = (await approvals.hold(call('dec_1', 900, ['finance']))).approval?.id ?? '';
    const outsider = await approvals.answer(id, person('oscar', ['ops']), 'approve', '');
    assert.equal(outsider.ok ? '' : outsider.code, 'forbidden');
    const noReason = await approvals.answer(id, person('fay', ['finance']), 'deny', '  ');
    assert.equal(noReason.ok ? '' : noReason.code, 'invalid');
    const missing = await approvals.answer('apr_nope', person('fay', ['finance']), 'approve', '');
    assert.equal(missing.ok ? '' : missing.code, 'not_found');
    const denied = await approvals.answer(id, person('fay', ['finance']), 'deny', 'fraud');
    assert.equal(denied.ok && denied.approval.status, 'denied');
    const after = await approvals.hold(call('dec_2', 900, ['finance']));
    assert.notEqual(after.approval?.id, id, 'a denied request is closed; calling again asks again');
    await store.close();
  });

  it('releases waiting calls on close, leaving the request pending', async () => {
    const store = openSqliteStore(join(tempDir(), 'gh.db'));
    const approvals = new Approvals({
      store,
      log: silentLogger(),
      now: Date.now,
      ttlMs: 60_000,
      waitMs: 30_000,
    });
    const held = approvals.hold(call('dec_1'));
    await new Promise((r) => setTimeout(r, 100));
    approvals.close();
    const r = await held;
    assert.equal(r.kind, 'refused');
    assert.match(
      r.kind === 'refused' ? r.message : '',
      /shutting down; approval apr_\S+ is still pending/,
    );
    assert.equal((await store.getApproval(r.approval?.id ?? ''))?.status, 'pending');
    await store.close();
  });
});

describe('approval webhook', () => {
  it('announces a request with retries, without arguments', async () => {
    const bodies: unknown[] = [];
    let calls = 0;
    const server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        calls++;
        bodies.push(JSON.parse(text));
        res.writeHead(calls < 2 ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const { store, approvals } = setup();
    const announce = webhookAnnouncer({
      url,
      inboxUrl: 'http://gh/console/approvals',
      log: silentLogger(),
      retryDelaysMs: [10, 10],
    });
    const id = (await approvals.hold(call('dec_1'))).approval?.id ?? '';
    const a = await store.getApproval(id);
    assert.ok(a);
    assert.equal(await announce(a), true);
    assert.equal(calls, 2, 'retried after a 500');
    const body = bodies[1] as Record<string, unknown>;
    assert.equal(body.id, id);
    assert.equal(body.tool, 'payments__refund');
    assert.equal(body.link, `http://gh/console/approvals#${id}`);
    assert.equal((body.agent as { name: string }).name, 'support-bot');
    assert.equal(body.arguments, undefined, 'arguments stay out of the webhook');
    server.close();
    const down = webhookAnnouncer({
      url,
      inboxUrl: 'x',
      log: silentLogger(),
      retryDelaysMs: [5],
      timeoutMs: 500,
    });
    // Retry timers do not hold a process open (a shutting-down Gatehouse must not wait for them).
    const keepAlive = setInterval(() => undefined, 50);
    assert.equal(await down(a), false, 'gives up quietly when the receiver is gone');
    clearInterval(keepAlive);
    await store.close();
  });

  it('never blocks the gate when the webhook fails', async () => {
    const store = openSqliteStore(join(tempDir(), 'gh.db'));
    const approvals = new Approvals({
      store,
      log: silentLogger(),
      now: Date.now,
      ttlMs: 60_000,
      waitMs: 0,
      announce: () => {
        throw new Error('webhook exploded');
      },
    });
    const started = Date.now();
    const r = await approvals.hold(call('dec_1'));
    assert.equal(r.kind, 'refused');
    assert.equal(r.approval?.status, 'pending');
    assert.ok(Date.now() - started < 2000);
    await store.close();
  });
});
