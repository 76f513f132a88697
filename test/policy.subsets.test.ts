import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as cedar from '../src/policy/cedar.js';
import type { AgentIdentity } from '../src/identity/index.js';
import { lockdownPolicy, type Lockdown } from '../src/policy/lockdown.js';
import {
  createEngine,
  FRESH_RUN,
  loadPolicyDir,
  type PolicySet,
  type RunContext,
} from '../src/policy/index.js';
import { commonContext, entitiesFor } from '../src/policy/request.js';
import { MAX_ANSWERS_CACHED, PolicyVariant } from '../src/policy/variant.js';
import { agent, tool } from './helpers/agents.js';
import { policyDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';

/** Policies with every kind of action scope the engine partitions on. */
const POLICIES = `
@id("all-actions") permit (principal, action, resource) when { principal.name == "root-bot" };
@id("group") permit (principal, action in Action::"call_tool", resource in Label::"access:read");
@id("one") permit (principal, action == Action::"payments__refund", resource) when { context.args.amount < 100 };
@id("list") forbid (principal, action in [Action::"payments__refund", Action::"web__fetch"], resource)
  when { principal.version like "0.*" };
@id("lift") @approval forbid (principal, action == Action::"payments__send_money", resource)
  when { context.args.amount > 10 };
@id("send") permit (principal, action == Action::"payments__send_money", resource);
@id("server") permit (principal, action, resource in Server::"files") when { principal.version == "1.4.0" };
@id("exact") forbid (principal, action, resource == Tool::"web__fetch") when { principal.depth > 0 };
@id("is-tool") permit (principal, action, resource is Tool) when { principal.name == "tool-bot" };
@id("is-in") forbid (principal, action, resource is Tool in Label::"access:read") when { principal.name == "tool-bot" };
@id("taint") forbid (principal, action in Action::"call_tool", resource in Label::"blast_radius:high")
  when { context.run.lowest_trust == "untrusted" && principal.depth > 0 };
`;

const TOOLS = [
  tool('payments', 'refund', { blast_radius: 'high' }),
  tool('payments', 'send_money', { blast_radius: 'high' }),
  tool('web', 'fetch', { access: 'read' }),
  tool('files', 'read_file', { access: 'read' }),
  tool('unknown', 'anything'),
];
const ORCHESTRATOR = 'spiffe://test.local/agent/o/1';
const AGENTS = [
  agent(),
  agent({ name: 'root-bot' }),
  agent({ name: 'tool-bot' }),
  agent({ version: '0.3.0' }),
  agent({ depth: 1, ancestors: [ORCHESTRATOR] }),
];
const RUNS: RunContext[] = [FRESH_RUN, { lowestTrust: 'untrusted', sources: ['web__fetch'] }];

function load(text: string): PolicySet {
  const loaded = loadPolicyDir(
    policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, 'p.cedar': text }),
  );
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'));
  return loaded.set;
}

/**
 * Decides every combination of TOOLS, AGENTS, RUNS and three amounts with the engine and with
 * Cedar itself, given the whole set and the whole request; asserts they agree and returns how many
 * calls were compared. `lifted` names the @approval forbids (the engine may ask for a human there).
 */
function compareWithCedar(
  set: PolicySet,
  lifted: readonly string[] = [],
  lockdowns: readonly Lockdown[] = [],
): number {
  const engine = createEngine(set, { maxArgDepth: 8, maxArgBytes: 4096, lockdowns });
  const all = [...set.policies.values(), ...lockdowns.map(lockdownPolicy)];
  const staticPolicies = Object.fromEntries(all.map((p) => [p.id, p.text]));
  let compared = 0;
  for (const t of TOOLS)
    for (const a of AGENTS)
      for (const run of RUNS)
        for (const amount of [5, 50, 500]) {
          const time = Date.UTC(2026, 10, 25, 12);
          const args = { amount, to: 'x', url: 'u' };
          const d = engine.decide({ agent: a, tool: t, args, run, time });
          const direct = cedar.isAuthorized({
            principal: { type: 'Agent', id: a.id },
            action: { type: 'Action', id: t.id },
            resource: { type: 'Tool', id: t.id },
            context: { args, ...commonContext(a, run, time) },
            policies: { staticPolicies },
            entities: entitiesFor(a, t),
          });
          assert.equal(direct.type, 'success');
          if (direct.type !== 'success') continue;
          const { decision, diagnostics } = direct.response;
          const where = `${t.id} ${a.name}@${a.version} depth ${a.depth} ${run.lowestTrust} ${amount}`;
          if (diagnostics.errors.length > 0) assert.equal(d.outcome, 'deny', where);
          else if (decision === 'allow') {
            assert.equal(d.outcome, 'allow', where);
            assert.deepEqual([...d.policies].sort(), [...diagnostics.reason].sort(), where);
          } else assert.notEqual(d.outcome, 'allow', where);
          if (d.outcome === 'deny' && decision === 'deny') {
            // The engine names the forbids no human may lift.
            const hard = diagnostics.reason.filter((id) => !lifted.includes(id));
            assert.deepEqual([...d.policies].sort(), hard.sort(), where);
          }
          compared++;
        }
  return compared;
}

const ALL_CALLS = TOOLS.length * AGENTS.length * RUNS.length * 3;

/** Policies without conditions, over every scope form: Cedar gets UIDs and ancestors only. */
const SCOPE_ONLY = `
@id("read-group") permit (principal, action in Action::"call_tool", resource in Label::"access:read");
@id("one-tool") permit (principal, action == Action::"payments__refund", resource);
@id("server") permit (principal, action, resource in Server::"files");
@id("orchestrated") permit (principal in Agent::"${ORCHESTRATOR}", action, resource is Tool);
@id("no-high") forbid (principal in Agent::"${ORCHESTRATOR}", action, resource in Label::"blast_radius:high");
@id("exact") forbid (principal, action, resource == Tool::"files__read_file");
@id("is-in") permit (principal is Agent, action in [Action::"web__fetch", Action::"payments__send_money"], resource is Tool in Server::"web");
@id("send") permit (principal, action == Action::"payments__send_money", resource);
@id("lift-send") @approval forbid (principal, action == Action::"payments__send_money", resource);
`;

/**
 * The engine gives Cedar only the policies whose action scope can match a call. Whatever the
 * tool, agent and arguments, that must decide exactly as the whole set does.
 */
describe('policy subsets per tool', () => {
  it('decides every call exactly as Cedar does with the whole set', () => {
    const set = load(POLICIES);
    const scope = (id: string) => set.policies.get(id)?.scope?.actions;
    assert.equal(scope('all-actions'), 'all');
    assert.equal(scope('group'), 'all');
    assert.deepEqual(scope('one'), ['payments__refund']);
    assert.deepEqual(scope('list'), ['payments__refund', 'web__fetch']);
    assert.deepEqual(set.policies.get('group')?.scope?.resource, {
      kind: 'in',
      uid: { type: 'Label', id: 'access:read' },
    });
    assert.equal(compareWithCedar(set, ['lift']), ALL_CALLS);
  });

  it('decides scope-only subsets from UIDs and ancestors exactly as Cedar does with everything', () => {
    const set = load(SCOPE_ONLY);
    assert.ok([...set.policies.values()].every((p) => p.scopeOnly === true));
    assert.equal(compareWithCedar(set, ['lift-send']), ALL_CALLS);
    const engine = createEngine(set, { maxArgDepth: 8, maxArgBytes: 4096 });
    const send = engine.decide({ agent: agent(), tool: TOOLS[1]!, args: { amount: 5, to: 'x' } });
    assert.equal(send.outcome, 'approval_required');
  });

  it('decides scope-only subsets under a lockdown as Cedar does (a lockdown reads the name)', () => {
    const lockdown: Lockdown = { pattern: 'web__*', reason: 'incident', by: 'local', time: 0 };
    assert.equal(lockdownPolicy(lockdown).scopeOnly, false);
    assert.equal(compareWithCedar(load(SCOPE_ONLY), ['lift-send'], [lockdown]), ALL_CALLS);
  });

  it('counts neither `when` nor `unless` as scope-only', () => {
    const set = load(
      `${SCOPE_ONLY}\n@id("unless-root") forbid (principal, action, resource in Server::"web") unless { principal.name == "root-bot" };`,
    );
    assert.equal(set.policies.get('unless-root')?.scopeOnly, false);
    assert.equal(compareWithCedar(set, ['lift-send']), ALL_CALLS);
  });

  it('hands a subset with any condition the attributes and context', () => {
    // One conditioned policy among scope-only ones: the tools it can match are decided on the
    // whole request, the others on the slim one; both as Cedar decides them.
    const set = load(
      `${SCOPE_ONLY}\n@id("bot-refunds") forbid (principal, action == Action::"payments__refund", resource)
        when { principal.name != "support-bot" || context.args.amount >= 100 || context.run.lowest_trust == "untrusted" };`,
    );
    assert.equal(set.policies.get('bot-refunds')?.scopeOnly, false);
    assert.equal(compareWithCedar(set, ['lift-send']), ALL_CALLS);
    const engine = createEngine(set, { maxArgDepth: 8, maxArgBytes: 4096 });
    const refund = TOOLS[0]!;
    const decide = (a: AgentIdentity, amount: number) =>
      engine.decide({ agent: a, tool: refund, args: { amount }, run: FRESH_RUN }).outcome;
    // Allowed only where the forbid's condition reads false: it had the agent and the arguments.
    assert.equal(decide(agent(), 5), 'allow');
    assert.equal(decide(agent(), 500), 'deny');
    assert.equal(decide(agent({ name: 'tool-bot' }), 5), 'deny');
  });
});

describe("Cedar's remembered answers", () => {
  it('keeps at most MAX_ANSWERS_CACHED per variant, and asks again for one it dropped', () => {
    // The decision API takes any tool name: one slim request per name must not grow memory at will.
    const set = load('@id("web") permit (principal, action, resource in Server::"web");');
    const variant = new PolicyVariant(set.policies);
    const a = agent();
    const time = Date.UTC(2026, 10, 25, 12);
    const outcome = (server: string, name: string) => {
      const t = tool(server, name);
      return variant.verdict(
        t,
        {
          principal: { type: 'Agent', id: a.id },
          action: { type: 'Action', id: t.id },
          resource: { type: 'Tool', id: t.id },
          context: { args: {}, ...commonContext(a, FRESH_RUN, time) },
          entities: entitiesFor(a, t),
        },
        () => 'no policy permits it',
      ).outcome;
    };
    for (let i = 0; i < MAX_ANSWERS_CACHED + 50; i++)
      assert.equal(outcome('web', `t${i}`), 'allow');
    assert.equal(variant.rememberedAnswers, MAX_ANSWERS_CACHED);
    assert.equal(outcome('web', 't0'), 'allow', 'the oldest was dropped, and is asked again');
    assert.equal(outcome('files', 't0'), 'deny');
    assert.equal(variant.rememberedAnswers, MAX_ANSWERS_CACHED);
  });
});
