import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as cedar from '../src/policy/cedar.js';
import { createEngine, FRESH_RUN, loadPolicyDir, type RunContext } from '../src/policy/index.js';
import { commonContext, entitiesFor } from '../src/policy/request.js';
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

/**
 * The engine gives Cedar only the policies whose action scope can match a call. Whatever the
 * tool, agent and arguments, that must decide exactly as the whole set does.
 */
describe('policy subsets per tool', () => {
  it('decides every call exactly as Cedar does with the whole set', () => {
    const loaded = loadPolicyDir(
      policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, 'p.cedar': POLICIES }),
    );
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'));
    const scope = (id: string) => loaded.set.policies.get(id)?.scope?.actions;
    assert.equal(scope('all-actions'), 'all');
    assert.equal(scope('group'), 'all');
    assert.deepEqual(scope('one'), ['payments__refund']);
    assert.deepEqual(scope('list'), ['payments__refund', 'web__fetch']);
    assert.deepEqual(loaded.set.policies.get('group')?.scope?.resource, {
      kind: 'in',
      uid: { type: 'Label', id: 'access:read' },
    });
    const engine = createEngine(loaded.set, { maxArgDepth: 8, maxArgBytes: 4096 });
    const staticPolicies = Object.fromEntries(
      [...loaded.set.policies.values()].map((p) => [p.id, p.text]),
    );
    const tools = [
      tool('payments', 'refund', { blast_radius: 'high' }),
      tool('payments', 'send_money', { blast_radius: 'high' }),
      tool('web', 'fetch', { access: 'read' }),
      tool('files', 'read_file', { access: 'read' }),
      tool('unknown', 'anything'),
    ];
    const agents = [
      agent(),
      agent({ name: 'root-bot' }),
      agent({ name: 'tool-bot' }),
      agent({ version: '0.3.0' }),
      agent({ depth: 1, ancestors: ['spiffe://test.local/agent/o/1'] }),
    ];
    const runs: RunContext[] = [FRESH_RUN, { lowestTrust: 'untrusted', sources: ['web__fetch'] }];
    let compared = 0;
    for (const t of tools)
      for (const a of agents)
        for (const run of runs)
          for (const amount of [5, 50, 500]) {
            const time = Date.UTC(2026, 10, 25, 12);
            const d = engine.decide({
              agent: a,
              tool: t,
              args: { amount, to: 'x', url: 'u' },
              run,
              time,
            });
            const direct = cedar.isAuthorized({
              principal: { type: 'Agent', id: a.id },
              action: { type: 'Action', id: t.id },
              resource: { type: 'Tool', id: t.id },
              context: { args: { amount, to: 'x', url: 'u' }, ...commonContext(a, run, time) },
              policies: { staticPolicies },
              entities: entitiesFor(a, t),
            });
            assert.equal(direct.type, 'success');
            if (direct.type !== 'success') continue;
            const { decision, diagnostics } = direct.response;
            const where = `${t.id} ${a.name}@${a.version} depth ${a.depth} ${run.lowestTrust} ${amount}`;
            if (diagnostics.errors.length > 0) assert.equal(d.outcome, 'deny', where);
            else if (decision === 'allow') assert.equal(d.outcome, 'allow', where);
            else assert.notEqual(d.outcome, 'allow', where);
            if (d.outcome === 'deny' && decision === 'deny') {
              // The engine names the forbids no human may lift (here: all but "lift").
              const hard = diagnostics.reason.filter((id) => id !== 'lift');
              assert.deepEqual([...d.policies].sort(), hard.sort(), where);
            }
            compared++;
          }
    assert.equal(compared, tools.length * agents.length * runs.length * 3);
  });
});
