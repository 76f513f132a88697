import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { policyExplainCommand } from '../src/cli/policy-explain.js';
import { createEngine, loadPolicyDir, type PolicyEngine } from '../src/policy/index.js';
import { explain, type Explanation } from '../src/policy/explain.js';
import type { Lockdown } from '../src/policy/index.js';
import { agent, tool } from './helpers/agents.js';
import { policyDir, tempDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';

function engineFrom(
  files: Record<string, string>,
  opts: { shadowFiles?: string[]; lockdowns?: Lockdown[] } = {},
): PolicyEngine {
  const dir = policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, ...files });
  const r = loadPolicyDir(dir, { shadowFiles: opts.shadowFiles ?? [] });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return createEngine(r.set, {
    maxArgDepth: 8,
    maxArgBytes: 4096,
    lockdowns: opts.lockdowns ?? [],
  });
}

/** Policies whose lines are known: refund-large starts on line 7, and so on. */
const PAYMENTS = `
@id("refund-any")
permit (principal, action == Action::"payments__refund", resource)
when { principal.name == "support-bot" };

@id("refund-large")
@reason("refunds over 500 need a human")
forbid (principal, action == Action::"payments__refund", resource)
when { context.args.amount > 500 };

@id("fetch-web")
permit (principal, action == Action::"web__fetch", resource);

@id("refund-vip")
permit (principal, action == Action::"payments__refund", resource)
when { context.args has customer && context.args.customer == "vip" };

@id("other-bot-only")
permit (principal, action, resource)
when { principal.name == "other-bot" };
`;

const REFUND = tool('payments', 'refund', { blast_radius: 'high' });

function ids(list: Explanation['deciding']): string[] {
  return list.map((n) => n.id);
}

describe('policy explain', () => {
  it('names the deciding forbid with file:line and sorts every other policy', () => {
    const e = engineFrom({ 'payments.cedar': PAYMENTS });
    const x = explain(e, { agent: agent(), tool: REFUND, args: { amount: 900 } });
    assert.equal(x.decision.outcome, 'deny');
    assert.equal(x.evaluated, true);
    assert.deepEqual(ids(x.deciding), ['refund-large']);
    const forbid = x.deciding[0];
    assert.equal(forbid?.where, 'payments.cedar:6');
    assert.equal(forbid?.line, 6);
    assert.equal(forbid?.effect, 'forbid');
    assert.equal(forbid?.reason, 'refunds over 500 need a human');
    assert.deepEqual(ids(x.applied), ['refund-any']);
    assert.equal(x.applied[0]?.why, 'overridden by a forbid');
    assert.equal(x.applied[0]?.where, 'payments.cedar:2');
    assert.deepEqual(ids(x.notApplied), ['refund-vip', 'other-bot-only']);
    assert.equal(x.notApplied[0]?.why, 'condition false');
    // Gatehouse's built-in rules are listed too: they are in force, for other actions.
    assert.deepEqual(ids(x.outOfScope), [
      'fetch-web',
      'gatehouse.sampling-trusted-servers',
      'gatehouse.elicitation-any-server',
    ]);
    assert.deepEqual(x.outOfScope[0]?.unmatched, ['action']);
    assert.equal(x.outOfScope[0]?.why, 'out of scope (action)');
    assert.deepEqual(x.errored, []);
  });

  it('agrees with the engine and names every permit that allowed', () => {
    const e = engineFrom({ 'payments.cedar': PAYMENTS });
    const req = { agent: agent(), tool: REFUND, args: { amount: 10, customer: 'vip' } };
    const x = explain(e, req);
    assert.equal(x.decision.outcome, e.decide(req).outcome);
    assert.equal(x.decision.outcome, 'allow');
    assert.deepEqual(ids(x.deciding).sort(), ['refund-any', 'refund-vip']);
    assert.deepEqual(x.applied, []);
    assert.deepEqual(ids(x.notApplied), ['refund-large', 'other-bot-only']);
  });

  it('reports an erroring policy as errored and as the reason the call fails closed', () => {
    const e = engineFrom({
      'p.cedar': `
        @id("refund-any") permit (principal, action == Action::"payments__refund", resource);
        @id("rate-cap") forbid (principal, action == Action::"payments__refund", resource)
          when { context.args has rate && context.args.rate.greaterThan(decimal("0.5")) };`,
    });
    const x = explain(e, { agent: agent(), tool: REFUND, args: { amount: 1, rate: 'high' } });
    assert.equal(x.decision.outcome, 'deny');
    assert.deepEqual(ids(x.errored), ['rate-cap']);
    assert.match(x.errored[0]?.error ?? '', /decimal|type/);
    assert.equal(x.errored[0]?.where, 'p.cedar:3');
    assert.deepEqual(ids(x.deciding), ['rate-cap']);
    assert.match(x.deciding[0]?.why ?? '', /fail closed/);
    assert.deepEqual(ids(x.applied), ['refund-any']);
    assert.match(x.applied[0]?.why ?? '', /errored/);
  });

  it('explains approval, lockdowns and shadowed policies', () => {
    const files = {
      'p.cedar': `
        @id("refund-any") permit (principal, action == Action::"payments__refund", resource);
        @id("refund-approval") @approval @approvers("finance")
        forbid (principal, action == Action::"payments__refund", resource)
          when { context.args.amount > 100 };`,
      'trial.cedar': `
        @id("trial-cap") forbid (principal, action == Action::"payments__refund", resource)
          when { context.args.amount > 50 };`,
    };
    const e = engineFrom(files, { shadowFiles: ['trial.cedar'] });
    const x = explain(e, { agent: agent(), tool: REFUND, args: { amount: 200 } });
    assert.equal(x.decision.outcome, 'approval_required');
    assert.deepEqual(ids(x.deciding), ['refund-approval']);
    assert.equal(x.deciding[0]?.approval, true);
    assert.equal(x.deciding[0]?.why, 'needs approval by finance');
    const applied = new Map(x.applied.map((n) => [n.id, n]));
    assert.equal(applied.get('refund-any')?.why, 'permits once a human approves');
    assert.equal(applied.get('trial-cap')?.shadow, true);
    assert.match(applied.get('trial-cap')?.why ?? '', /shadowed/);
    assert.equal(x.decision.shadow?.outcome, 'deny');

    const locked = engineFrom(files, {
      shadowFiles: ['trial.cedar'],
      lockdowns: [{ pattern: 'payments__*', reason: 'incident', by: 'local', time: 1 }],
    });
    const y = explain(locked, { agent: agent(), tool: REFUND, args: { amount: 200 } });
    assert.equal(y.decision.outcome, 'deny');
    assert.deepEqual(ids(y.deciding), ['lockdown:payments__*']);
    assert.equal(y.deciding[0]?.where, '(lockdown)');
    assert.equal(
      new Map(y.applied.map((n) => [n.id, n.why])).get('refund-approval'),
      'needs approval, but a forbid no human may lift decided',
    );
  });

  it('evaluates nothing when the arguments are refused before policy', () => {
    const e = engineFrom({ 'payments.cedar': PAYMENTS });
    const x = explain(e, {
      agent: agent(),
      tool: REFUND,
      args: { amount: 1, pad: 'x'.repeat(5000) },
    });
    assert.equal(x.decision.outcome, 'deny');
    assert.equal(x.evaluated, false);
    assert.deepEqual(
      [x.deciding, x.applied, x.notApplied, x.outOfScope, x.errored],
      [[], [], [], [], []],
    );
  });
});

/** A config file on disk whose policy folder holds PAYMENTS and a label-based forbid. */
function explainConfig(): { config: string; db: string } {
  const dir = tempDir();
  const policies = policyDir({
    'tools.cedarschema': TEST_TOOL_SCHEMA,
    'payments.cedar': PAYMENTS,
    'labels.cedar': `
@id("high-blast-untrusted")
forbid (principal, action in Action::"call_tool", resource in Label::"blast_radius:high")
when { context.run.lowest_trust == "untrusted" };
`,
  });
  const db = join(dir, 'gatehouse.db');
  const config = join(dir, 'gatehouse.yaml');
  writeFileSync(
    config,
    [
      `policies: { dir: ${JSON.stringify(policies)} }`,
      `store: { sqlite: ${JSON.stringify(db)} }`,
      `keys: { dir: ${JSON.stringify(join(dir, 'keys'))} }`,
      'upstreams:',
      '  payments:',
      '    command: node',
      '    tools:',
      '      refund: { labels: { blast_radius: high } }',
    ].join('\n'),
  );
  return { config, db };
}

async function run(o: Parameters<typeof policyExplainCommand>[0], input?: string): Promise<string> {
  let out = '';
  await policyExplainCommand(o, {
    ...(input !== undefined ? { input } : {}),
    write: (t) => {
      out += t;
    },
  });
  return out;
}

describe('gatehouse policy explain', () => {
  it('explains a JSON request from stdin, for people', async () => {
    const { config, db } = explainConfig();
    const out = await run(
      { config },
      JSON.stringify({
        agent: { name: 'support-bot', version: '1.4.0', principal: 'user:alice' },
        tool: 'payments__refund',
        args: { amount: 900 },
        run: { lowest_trust: 'trusted', sources: [] },
      }),
    );
    assert.match(out, /^DENY {2}payments__refund\n/);
    assert.match(out, /reason {6}refunds over 500 need a human/);
    const [, decided = '', applied = '', considered = '', errored = ''] = out.split(
      /\n(?=Decided by\n|Also applied\n|Considered, did not apply\n|Errored\n)/,
    );
    assert.match(
      decided,
      /refund-large +forbid +payments\.cedar:6 +forbids; @reason: refunds over 500/,
    );
    assert.match(applied, /refund-any +permit +payments\.cedar:2 +overridden by a forbid/);
    assert.match(considered, /refund-vip +permit +payments\.cedar:\d+ +condition false/);
    assert.match(considered, /fetch-web +permit +payments\.cedar:\d+ +out of scope \(action\)/);
    assert.match(considered, /high-blast-untrusted +forbid +labels\.cedar:2 +condition false/);
    assert.match(errored, /Errored\n {2}\(none\)/);
    assert.equal(existsSync(db), false, 'explain creates and records nothing');
  });

  it('builds the request from flags, with the labels of the config', async () => {
    const { config } = explainConfig();
    const out = await run({
      config,
      tool: 'payments__refund',
      args: '{"amount": 10}',
      agent: 'support-bot',
      untrusted: true,
      json: true,
    });
    const body = JSON.parse(out) as Record<string, unknown>;
    assert.equal(body.outcome, 'deny');
    assert.deepEqual(body.policies, ['high-blast-untrusted']);
    assert.deepEqual(body.agent, {
      name: 'support-bot',
      version: '1.0.0',
      principal: 'user:anonymous',
    });
    const deciding = body.deciding as { id: string; file: string; line: number }[];
    assert.deepEqual(
      deciding.map((d) => [d.id, d.file, d.line]),
      [['high-blast-untrusted', 'labels.cedar', 2]],
    );
    assert.deepEqual(
      (body.applied as { id: string }[]).map((n) => n.id),
      ['refund-any'],
    );
    assert.ok(Array.isArray(body.not_applied) && Array.isArray(body.out_of_scope));
  });

  it('reports every bad field of a JSON request', async () => {
    const { config } = explainConfig();
    await assert.rejects(
      run(
        { config },
        JSON.stringify({
          agent: { name: '', version: '1' },
          tool: 'refund',
          args: [1],
          run: { lowest_trust: 'shady' },
          extra: true,
        }),
      ),
      (err: Error) => {
        for (const field of [
          'agent.name',
          'agent.principal',
          'tool',
          'args',
          'run.lowest_trust',
          'extra',
        ])
          assert.ok(err.message.includes(field), `${field} in: ${err.message}`);
        return true;
      },
    );
    await assert.rejects(run({ config }, '{not json'), /not JSON/);
    await assert.rejects(
      run({ config, tool: 'refund', args: '[]' }),
      /--tool must be an exposed tool name.*; --args must be a JSON object/,
    );
  });

  it('refuses a policy folder that does not load', async () => {
    const { config } = explainConfig();
    const broken = policyDir({ 'p.cedar': 'permit (principal, action, resource' });
    writeFileSync(
      config,
      `policies: { dir: ${JSON.stringify(broken)} }\nstore: { sqlite: ${JSON.stringify(join(tempDir(), 'x.db'))} }\n`,
    );
    await assert.rejects(run({ config, tool: 'payments__refund' }), /do not load:\np\.cedar:1/);
  });
});
