import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEngine, loadPolicyDir, type PolicyEngine } from '../src/policy/index.js';
import { agent, tool } from './helpers/agents.js';
import { policyDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';

function engineFrom(files: Record<string, string>): PolicyEngine {
  const r = loadPolicyDir(policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, ...files }));
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return createEngine(r.set, { maxArgDepth: 8, maxArgBytes: 4096 });
}

const PAYMENTS = `
@id("refund-small")
permit (principal, action == Action::"payments__refund", resource)
when { principal.name == "support-bot" && context.args.amount <= 500 };

@id("refund-large")
@reason("refunds over 500 need a human")
forbid (principal, action == Action::"payments__refund", resource)
when { context.args.amount > 500 };

@id("high-blast-for-v1")
forbid (principal, action in Action::"call_tool", resource in Label::"blast_radius:high")
when { principal.version like "0.*" };
`;

const REFUND = tool('payments', 'refund', { blast_radius: 'high' });

describe('policy engine', () => {
  it('allows and names the permitting policy and the policy-set hash', () => {
    const e = engineFrom({ 'p.cedar': PAYMENTS });
    const d = e.decide({ agent: agent(), tool: REFUND, args: { amount: 100 } });
    assert.equal(d.outcome, 'allow');
    assert.deepEqual(d.policies, ['refund-small']);
    assert.match(d.policySetHash, /^sha256:[0-9a-f]{64}$/);
    assert.match(d.id, /^dec_/);
  });

  it('denies with the forbid id and its @reason', () => {
    const e = engineFrom({ 'p.cedar': PAYMENTS });
    const d = e.decide({ agent: agent(), tool: REFUND, args: { amount: 900 } });
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(d.policies, ['refund-large']);
    assert.equal(d.reason, 'refunds over 500 need a human');
  });

  it('groups tools by label and sees the agent version', () => {
    const e = engineFrom({ 'p.cedar': PAYMENTS });
    const d = e.decide({ agent: agent({ version: '0.9.0' }), tool: REFUND, args: { amount: 10 } });
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(d.policies, ['high-blast-for-v1']);
    assert.match(d.reason, /forbidden by "high-blast-for-v1"/);
  });

  it('denies by default and says so', () => {
    const e = engineFrom({ 'p.cedar': PAYMENTS });
    const d = e.decide({ agent: agent({ name: 'other-bot' }), tool: REFUND, args: { amount: 10 } });
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(d.policies, []);
    assert.match(d.reason, /no policy permits agent "other-bot"/);
  });

  it('fails closed when a forbid errors, even though Cedar itself would allow', () => {
    // Cedar skips an erroring policy: here the forbid errors on a string amount and the permit holds.
    const e = engineFrom({
      'p.cedar': `
        @id("open") permit (principal, action, resource);
        @id("cap") forbid (principal, action == Action::"payments__refund", resource)
          when { context.args.amount > 500 };`,
    });
    const d = e.decide({ agent: agent(), tool: REFUND, args: { amount: 'a lot' } });
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(d.policies, ['cap']);
    assert.match(d.reason, /policy evaluation failed \(cap: .*\); denied to fail closed/);
    const missing = e.decide({ agent: agent(), tool: REFUND, args: {} });
    assert.equal(missing.outcome, 'deny', 'a missing argument errors and denies');
  });

  it('denies every call when no valid policy set is loaded', () => {
    const e = createEngine(undefined, {
      maxArgDepth: 8,
      maxArgBytes: 4096,
      loadErrors: ['p.cedar:3: unexpected token'],
    });
    const d = e.decide({ agent: agent(), tool: REFUND, args: { amount: 1 } });
    assert.equal(d.outcome, 'deny');
    assert.match(d.reason, /no valid policy set is loaded \(p\.cedar:3: unexpected token\)/);
    assert.equal(d.policySetHash, 'none');
    assert.equal(e.couldAllow(agent(), REFUND), false);
  });

  it('refuses arguments that would smuggle Cedar entity escapes', () => {
    const e = engineFrom({
      'p.cedar':
        '@id("open") permit (principal, action == Action::"payments__refund", resource) when { context.args has who && context.args.who == "x" };',
    });
    const d = e.decide({
      agent: agent(),
      tool: REFUND,
      args: { who: { __entity: { type: 'Agent', id: agent().id } } },
    });
    assert.equal(d.outcome, 'deny');
    assert.match(
      d.reason,
      /arguments refused before policy: who\.__entity: the key "__entity" is reserved/,
    );
  });

  it('compares decimals and refuses numbers it cannot represent', () => {
    const e = engineFrom({
      'p.cedar':
        '@id("d") permit (principal, action == Action::"payments__refund", resource) when { context.args has rate && context.args.rate.lessThan(decimal("0.5")) };',
    });
    assert.equal(e.decide({ agent: agent(), tool: REFUND, args: { rate: 0.25 } }).outcome, 'allow');
    assert.equal(e.decide({ agent: agent(), tool: REFUND, args: { rate: 0.75 } }).outcome, 'deny');
    const odd = e.decide({ agent: agent(), tool: REFUND, args: { rate: 0.123456 } });
    assert.equal(odd.outcome, 'deny');
    assert.match(odd.reason, /rate: the number 0\.123456 cannot be represented exactly/);
  });

  it('tells which tools some arguments could allow', () => {
    const e = engineFrom({ 'p.cedar': PAYMENTS });
    assert.equal(e.couldAllow(agent(), REFUND), true);
    assert.equal(e.couldAllow(agent({ name: 'other-bot' }), REFUND), false);
    assert.equal(e.couldAllow(agent({ version: '0.1.0' }), REFUND), false);
    assert.equal(e.couldAllow(agent(), tool('payments', 'send_money')), false);
  });

  it('sees lineage: principal in Agent::"<orchestrator>" holds for the whole tree', () => {
    const orch = 'spiffe://test.local/agent/orchestrator/o1';
    const e = engineFrom({
      'p.cedar': `@id("tree") permit (principal in Agent::"${orch}", action, resource);`,
    });
    const sub = agent({
      id: 'spiffe://test.local/agent/reader/r1',
      depth: 2,
      ancestors: ['spiffe://test.local/agent/researcher/x1', orch],
    });
    assert.equal(e.decide({ agent: sub, tool: REFUND, args: {} }).outcome, 'allow');
    assert.equal(e.decide({ agent: agent({ id: orch }), tool: REFUND, args: {} }).outcome, 'allow');
    assert.equal(
      e.decide({
        agent: agent({ ancestors: ['spiffe://test.local/agent/other/z9'] }),
        tool: REFUND,
        args: {},
      }).outcome,
      'deny',
    );
  });
});
