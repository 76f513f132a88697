import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEngine, loadPolicyDir, type PolicyEngine } from '../src/policy/index.js';
import { isScopeOnly, readsNow } from '../src/policy/context-use.js';
import { agent, tool } from './helpers/agents.js';
import { policyDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';

const when = (cond: string) => `permit (principal, action, resource) when { ${cond} };`;

describe('which policies can observe context.time.now', () => {
  const observing: [string, string][] = [
    ['reads it', 'context.time.now > datetime("2020-01-01")'],
    ['calls a method on it', 'context.time.now.toDate() == datetime("2026-01-01")'],
    ['tests for it with has', 'context.time has now'],
    ['tests for it with a nested has', 'context has time.now'],
    ['uses context.time whole', 'context.time == {"hour_utc": 1, "weekday_utc": 2}'],
    ['uses context whole', 'context == {}'],
    ['puts context in a record', '{"c": context}.c has time'],
    [
      'reads it in one branch',
      'if context.time.hour_utc > 3 then context.time.now > datetime("2020-01-01") else false',
    ],
    ['reads it through brackets', 'context["time"]["now"] > datetime("2020-01-01")'],
    ['reads it in an unless clause', 'true } unless { context.time.now < datetime("2020-01-01")'],
  ];
  for (const [what, cond] of observing) {
    it(`counts a policy that ${what}`, () => assert.equal(readsNow(when(cond)), true));
  }

  const blind: [string, string][] = [
    ['reads only the hour', 'context.time.hour_utc < 18'],
    ['tests for time itself', 'context has time'],
    ['reads an argument named now', 'context.args.now == 1 && context.args has now'],
    ['has no condition', 'true'],
    ['reads the run', 'context.run.lowest_trust == "trusted"'],
  ];
  for (const [what, cond] of blind) {
    it(`leaves out a policy that ${what}`, () => assert.equal(readsNow(when(cond)), false));
  }

  it('counts a text Cedar cannot read as observing everything', () => {
    assert.equal(readsNow('permit (principal, action, resource) when {'), true);
  });
});

function engineFrom(text: string): PolicyEngine {
  const r = loadPolicyDir(policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, 'p.cedar': text }));
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return createEngine(r.set, { maxArgDepth: 8, maxArgBytes: 4096 });
}

describe('decisions with and without the clock', () => {
  const FETCH = tool('web', 'fetch');
  const at = (e: PolicyEngine, iso: string) =>
    e.decide({ agent: agent(), tool: FETCH, args: { url: 'x' }, time: Date.parse(iso) }).outcome;

  it('still gives a policy that reads the clock the time of the call', () => {
    const e = engineFrom(
      '@id("after") permit (principal, action == Action::"web__fetch", resource) when { context.time.now > datetime("2026-06-01") };',
    );
    assert.equal(at(e, '2026-11-25T09:00:00Z'), 'allow');
    assert.equal(at(e, '2026-01-25T09:00:00Z'), 'deny');
  });

  it('never lets a policy see that the clock was left out', () => {
    // Strict validation refuses a policy that tests for a missing clock (it could never hold), so
    // this permit holds only while the clock is there.
    const e = engineFrom(
      '@id("clock") permit (principal, action == Action::"web__fetch", resource) when { context.time has now };',
    );
    assert.equal(at(e, '2026-11-25T09:00:00Z'), 'allow');
  });

  it('decides a set that never reads the clock exactly as before', () => {
    const e = engineFrom(
      '@id("hours") permit (principal, action == Action::"web__fetch", resource) when { context.time.hour_utc < 12 };',
    );
    assert.equal(at(e, '2026-11-25T09:00:00Z'), 'allow');
    assert.equal(at(e, '2026-11-25T13:00:00Z'), 'deny');
  });
});

describe('which policies are scope-only', () => {
  const scopeOnly = [
    'permit (principal, action, resource);',
    'forbid (principal in Agent::"o", action in [Action::"a", Action::"b"], resource in Label::"x");',
    '@approval forbid (principal is Agent, action == Action::"a", resource is Tool in Server::"s");',
  ];
  for (const text of scopeOnly)
    it(`counts ${text} as scope-only`, () => assert.equal(isScopeOnly(text), true));

  const reading = [
    when('principal.name == "x"'),
    'permit (principal, action, resource) unless { context.args.amount > 5 };',
    'permit (principal, action, resource) when { true };',
  ];
  for (const text of reading)
    it(`counts ${text} as reading more than its scope`, () =>
      assert.equal(isScopeOnly(text), false));

  it('counts a text Cedar cannot read as reading more than its scope', () => {
    assert.equal(isScopeOnly('permit (principal, action, resource'), false);
    assert.equal(isScopeOnly(''), false);
    assert.equal(
      isScopeOnly('permit (principal, action, resource); permit (principal, action, resource);'),
      false,
    );
  });
});
