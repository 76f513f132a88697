import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createEngine,
  loadPolicyDir,
  type EngineOptions,
  type PolicyEngine,
  type RunContext,
} from '../src/policy/index.js';
import { agent, tool } from './helpers/agents.js';
import { policyDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';

function engineFrom(
  files: Record<string, string>,
  opts: Partial<EngineOptions> & { shadowFiles?: string[] } = {},
): PolicyEngine {
  const r = loadPolicyDir(policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, ...files }), {
    shadowFiles: opts.shadowFiles ?? [],
  });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return createEngine(r.set, { maxArgDepth: 8, maxArgBytes: 4096, ...opts });
}

const REFUND = tool('payments', 'refund', { blast_radius: 'high' });
const SEND = tool('payments', 'send_money', { blast_radius: 'high' });
const FETCH = tool('web', 'fetch');
const UNTRUSTED: RunContext = { lowestTrust: 'untrusted', sources: ['web__fetch'] };

/** "Refunds over 500 need a human" although a broader policy permits every refund. */
const REFUNDS = `
@id("refunds") permit (principal, action == Action::"payments__refund", resource)
when { principal.name == "support-bot" };

@id("big-refunds") @approval @approvers("finance") @reason("refunds over 500 need a human")
forbid (principal, action == Action::"payments__refund", resource) when { context.args.amount > 500 };
`;

/** "Once untrusted content is in the run, high-blast-radius tools need a human", over every permit. */
const TAINT = `
@id("taint") @approval @reason("the run read untrusted content")
forbid (principal, action in Action::"call_tool", resource in Label::"blast_radius:high")
when { context.run.lowest_trust == "untrusted" };
`;

const SEND_OFF = `
@id("send-permit") permit (principal, action == Action::"payments__send_money", resource);
@id("send-off") @reason("send_money is off") forbid (principal, action == Action::"payments__send_money", resource)
when { context.args.to like "DE*" };
`;

describe('policy outcomes', () => {
  it('needs approval for a refund over 500 that a broader permit allows', () => {
    const e = engineFrom({ 'p.cedar': REFUNDS });
    const small = e.decide({ agent: agent(), tool: REFUND, args: { amount: 400 } });
    assert.equal(small.outcome, 'allow');
    assert.deepEqual(small.policies, ['refunds']);
    const big = e.decide({ agent: agent(), tool: REFUND, args: { amount: 900 } });
    assert.equal(big.outcome, 'approval_required');
    assert.deepEqual(big.policies, ['big-refunds']);
    assert.equal(big.reason, 'refunds over 500 need a human');
    assert.deepEqual(big.approvers, ['finance']);
  });

  it('denies, not asks, when no permit would allow the call once approved', () => {
    const e = engineFrom({ 'p.cedar': REFUNDS });
    const d = e.decide({
      agent: agent({ name: 'other-bot' }),
      tool: REFUND,
      args: { amount: 900 },
    });
    assert.equal(d.outcome, 'deny', 'a human cannot approve what no policy permits');
    assert.deepEqual(d.policies, []);
    assert.match(d.reason, /no policy permits agent "other-bot"/);
  });

  it('needs approval for high-blast-radius tools once the run read untrusted content', () => {
    const e = engineFrom({ 'p.cedar': REFUNDS, 'taint.cedar': TAINT });
    const clean = e.decide({ agent: agent(), tool: REFUND, args: { amount: 50 } });
    assert.equal(clean.outcome, 'allow');
    const tainted = e.decide({
      agent: agent(),
      tool: REFUND,
      args: { amount: 50 },
      run: UNTRUSTED,
    });
    assert.equal(tainted.outcome, 'approval_required');
    assert.deepEqual(tainted.policies, ['taint']);
    assert.deepEqual(tainted.approvers, [], 'no @approvers: any approver');
    const both = e.decide({ agent: agent(), tool: REFUND, args: { amount: 900 }, run: UNTRUSTED });
    assert.equal(both.outcome, 'approval_required');
    assert.deepEqual([...both.policies].sort(), ['big-refunds', 'taint']);
    assert.deepEqual(both.approvers, ['finance']);
  });

  it('lets a hard forbid win over an approval, even in an untrusted run', () => {
    const e = engineFrom({ 'send.cedar': SEND_OFF, 'taint.cedar': TAINT });
    const d = e.decide({
      agent: agent(),
      tool: SEND,
      args: { to: 'DE89', amount: 1 },
      run: UNTRUSTED,
    });
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(d.policies, ['send-off']);
    assert.equal(d.reason, 'send_money is off');
    const other = e.decide({
      agent: agent(),
      tool: SEND,
      args: { to: 'FR76', amount: 1 },
      run: UNTRUSTED,
    });
    assert.equal(other.outcome, 'approval_required');
  });

  it('denies when an approval forbid errors instead of asking', () => {
    const e = engineFrom({ 'p.cedar': REFUNDS });
    const d = e.decide({ agent: agent(), tool: REFUND, args: { amount: 'lots' } });
    assert.equal(d.outcome, 'deny');
    assert.match(d.reason, /policy evaluation failed \(big-refunds: .*\); denied to fail closed/);
  });

  it('sees the time of the call', () => {
    const e = engineFrom({
      'p.cedar': `@id("office-hours") permit (principal, action == Action::"web__fetch", resource)
        when { context.time.hour_utc >= 8 && context.time.hour_utc < 18 && context.time.now > datetime("2020-01-01") };`,
    });
    const at = (iso: string) =>
      e.decide({ agent: agent(), tool: FETCH, args: { url: 'x' }, time: Date.parse(iso) }).outcome;
    assert.equal(at('2026-11-25T09:00:00Z'), 'allow');
    assert.equal(at('2026-11-25T22:00:00Z'), 'deny');
  });

  it('refuses arguments over the size limit before policy', () => {
    const e = engineFrom({ 'p.cedar': REFUNDS });
    const d = e.decide({
      agent: agent(),
      tool: REFUND,
      args: { amount: 1, note: 'x'.repeat(5000) },
    });
    assert.equal(d.outcome, 'deny');
    assert.match(
      d.reason,
      /arguments refused before policy: \d+ bytes is more than the 4096-byte limit/,
    );
  });

  it('shadows one file: the call is decided without it, and what it would say is recorded', () => {
    const e = engineFrom(
      { 'p.cedar': REFUNDS, 'new.cedar': TAINT },
      { shadowFiles: ['new.cedar'] },
    );
    const d = e.decide({ agent: agent(), tool: REFUND, args: { amount: 50 }, run: UNTRUSTED });
    assert.equal(d.outcome, 'allow', 'the shadowed forbid is not enforced');
    assert.equal(d.shadow?.outcome, 'approval_required');
    assert.deepEqual(d.shadow?.policies, ['taint']);
    assert.equal(e.policies.get('taint')?.shadow, true);
  });

  it('shadows everything in shadow mode: calls pass and the verdict is recorded, but a lockdown still holds', () => {
    const e = engineFrom(
      { 'p.cedar': REFUNDS },
      {
        mode: 'shadow',
        lockdowns: [{ pattern: 'web__*', reason: 'incident', by: 'alice', time: 1 }],
      },
    );
    const d = e.decide({
      agent: agent({ name: 'other-bot' }),
      tool: REFUND,
      args: { amount: 900 },
    });
    assert.equal(d.outcome, 'allow');
    assert.deepEqual(d.policies, ['gatehouse.shadow-mode']);
    assert.equal(d.shadow?.outcome, 'deny');
    const locked = e.decide({ agent: agent(), tool: FETCH, args: { url: 'x' } });
    assert.equal(locked.outcome, 'deny');
    assert.deepEqual(locked.policies, ['lockdown:web__*']);
    assert.match(locked.reason, /locked down by alice: incident/);
  });

  it('locks down matching tools over every permit and changes the policy-set hash', () => {
    const plain = engineFrom({ 'p.cedar': REFUNDS });
    const locked = engineFrom(
      { 'p.cedar': REFUNDS },
      { lockdowns: [{ pattern: 'payments__*', reason: 'fraud wave', by: 'local', time: 1 }] },
    );
    assert.notEqual(plain.policySetHash, locked.policySetHash);
    const d = locked.decide({ agent: agent(), tool: REFUND, args: { amount: 10 } });
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(d.policies, ['lockdown:payments__*']);
    assert.equal(locked.couldAllow(agent(), REFUND), false, 'hidden from tools/list');
    assert.equal(plain.couldAllow(agent(), REFUND), true);
  });

  it('shows approval-gated tools in tools/list (a human can lift the forbid)', () => {
    const e = engineFrom({ 'p.cedar': REFUNDS, 'taint.cedar': TAINT });
    assert.equal(e.couldAllow(agent(), REFUND, UNTRUSTED), true);
    assert.equal(e.couldAllow(agent({ name: 'other-bot' }), REFUND, UNTRUSTED), false);
  });
});
