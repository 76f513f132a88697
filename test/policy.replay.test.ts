import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { policyReplayCommand } from '../src/cli/policy-replay.js';
import { jsonDigest } from '../src/crypto/index.js';
import {
  createEngine,
  CREDENTIAL_SCOPE,
  loadPolicyDir,
  type DecisionRequest,
  type PolicyEngine,
} from '../src/policy/index.js';
import { replay } from '../src/policy/replay.js';
import { openSqliteStore, type DecisionRecord } from '../src/store/index.js';
import { agent, tool } from './helpers/agents.js';
import { policyDir, tempDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';

/** Policy A: refunds up to 500 are allowed. */
const POLICY_A = `
@id("refund-small")
permit (principal, action == Action::"payments__refund", resource)
when { context.args.amount <= 500 };

@id("refund-large")
forbid (principal, action == Action::"payments__refund", resource)
when { context.args.amount > 500 };

@id("fetch-web")
permit (principal, action == Action::"web__fetch", resource);
`;

/** Policy B: refunds up to 100 only; the large-refund forbid is renamed. */
const POLICY_B = `
@id("refund-small")
permit (principal, action == Action::"payments__refund", resource)
when { context.args.amount <= 100 };

@id("refund-over-100")
forbid (principal, action == Action::"payments__refund", resource)
when { context.args.amount > 100 };

@id("fetch-web")
permit (principal, action == Action::"web__fetch", resource);
`;

function folder(text: string): string {
  return policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, 'p.cedar': text });
}

function engineOf(text: string): PolicyEngine {
  const r = loadPolicyDir(folder(text));
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return createEngine(r.set, { maxArgDepth: 8, maxArgBytes: 4096 });
}

const REFUND = tool('payments', 'refund', { blast_radius: 'high' });
const FETCH = tool('web', 'fetch');
const HOUR = 3_600_000;

/** What the gate records for `req` decided by `engine` (the decider's record, minus nothing). */
function recordOf(
  engine: PolicyEngine,
  id: string,
  req: DecisionRequest & { time: number },
  keepArgs = true,
): DecisionRecord {
  const d = engine.decide(req);
  const a = agent();
  return {
    id,
    time: req.time,
    agent: {
      id: a.id,
      name: a.name,
      version: a.version,
      principal: a.principal,
      run: a.run,
      credential: a.credential,
      depth: a.depth,
      ancestors: a.ancestors,
    },
    action: 'call_tool',
    tool: req.tool.id,
    server: req.tool.server,
    labels: req.tool.labels,
    argsDigest: jsonDigest(req.args),
    ...(keepArgs ? { args: req.args } : {}),
    run: req.run ?? { lowestTrust: 'trusted', sources: [] },
    outcome: d.outcome,
    policies: d.policies,
    reason: d.reason,
    policySetHash: d.policySetHash,
  };
}

/** Calls decided under policy A: one changes under B, one changes deciding policy only. */
function history(now: number): DecisionRecord[] {
  const a = engineOf(POLICY_A);
  const call = (args: unknown, t = REFUND) => ({ agent: agent(), tool: t, args });
  return [
    recordOf(a, 'dec_small', { ...call({ amount: 50 }), time: now - 60_000 }),
    recordOf(a, 'dec_medium', { ...call({ amount: 300 }), time: now - 50_000 }),
    recordOf(a, 'dec_large', { ...call({ amount: 900 }), time: now - 40_000 }),
    recordOf(a, 'dec_unkept', { ...call({ amount: 300 }), time: now - 30_000 }, false),
    recordOf(a, 'dec_fetch', { ...call({ url: 'https://x.test' }, FETCH), time: now - 20_000 }),
    recordOf(a, 'dec_old', { ...call({ amount: 400 }), time: now - 2 * HOUR }),
  ];
}

describe('policy replay', () => {
  it('lists exactly the calls whose outcome would change, and skips what it cannot replay', () => {
    const now = Date.now();
    const records = history(now);
    const scoped: DecisionRecord = {
      ...recordOf(engineOf(POLICY_A), 'dec_scope', {
        agent: agent(),
        tool: REFUND,
        args: { amount: 1 },
        time: now,
      }),
      outcome: 'deny',
      policies: [CREDENTIAL_SCOPE],
      reason: 'payments__refund is outside the scope of this credential',
    };
    const report = replay(engineOf(POLICY_B), [...records, scoped]);
    assert.deepEqual(
      report.changed.map((c) => [c.record.id, c.record.outcome, c.now.outcome]),
      [
        ['dec_medium', 'allow', 'deny'],
        ['dec_old', 'allow', 'deny'],
      ],
    );
    assert.deepEqual(report.changed[0]?.now.policies, ['refund-over-100']);
    assert.deepEqual(
      report.policiesChanged.map((c) => [c.record.id, c.record.policies, c.now.policies]),
      [['dec_large', ['refund-large'], ['refund-over-100']]],
    );
    assert.deepEqual(
      report.skipped.map((s) => [s.record.id, s.why]),
      [
        ['dec_unkept', 'args_not_kept'],
        ['dec_scope', 'credential_scope'],
      ],
    );
    assert.equal(report.replayed, 5);
  });

  it('replays each call with its recorded agent, labels, run provenance and time', () => {
    const engine = engineOf(`
      @id("open") permit (principal, action, resource);
      @id("untrusted-high") forbid (principal, action, resource in Label::"blast_radius:high")
        when { context.run.lowest_trust == "untrusted" };
      @id("nights") forbid (principal, action, resource) when { context.time.hour_utc < 6 };
      @id("old-bots") forbid (principal, action, resource) when { principal.version like "0.*" };`);
    const noon = Date.parse('2030-01-01T12:00:00Z');
    const base = recordOf(engine, 'dec_base', {
      agent: agent(),
      tool: REFUND,
      args: { amount: 1 },
      time: noon,
    });
    assert.equal(base.outcome, 'allow');
    const variants: DecisionRecord[] = [
      base,
      { ...base, id: 'dec_untrusted', run: { lowestTrust: 'untrusted', sources: ['web__fetch'] } },
      { ...base, id: 'dec_night', time: Date.parse('2030-01-01T03:00:00Z') },
      { ...base, id: 'dec_old_bot', agent: { ...base.agent, version: '0.9.0' } },
      { ...base, id: 'dec_unlabelled', run: { lowestTrust: 'untrusted', sources: [] }, labels: {} },
    ];
    const report = replay(engine, variants);
    assert.deepEqual(
      report.changed.map((c) => [c.record.id, c.now.policies]),
      [
        ['dec_untrusted', ['untrusted-high']],
        ['dec_night', ['nights']],
        ['dec_old_bot', ['old-bots']],
      ],
    );
  });

  it('replays each call with the recorded provenance of its arguments', () => {
    const engine = engineOf(`
      @id("open") permit (principal, action, resource);
      @id("tainted-customer") forbid (principal, action == Action::"payments__refund", resource)
        when { context.args_provenance.customer == "untrusted" };`);
    const tainted = {
      customer: { level: 'untrusted', source: 'web__fetch forum.example.net' },
      amount: { level: 'unknown' },
    } as const;
    const noon = Date.parse('2030-01-01T12:00:00Z');
    const run = { lowestTrust: 'untrusted', sources: ['web__fetch forum.example.net'] } as const;
    const call = { agent: agent(), tool: REFUND, args: { customer: 'c-9', amount: 1 }, time: noon };
    const denied = recordOf(engine, 'dec_tainted', { ...call, run, argsProvenance: tainted });
    assert.equal(denied.outcome, 'deny');
    const recorded = { ...denied, run: { ...run, args: tainted } };
    // Unchanged policy, unchanged outcome: the replay sees the same argument provenance.
    assert.deepEqual(replay(engine, [recorded]).changed, []);
    // Without the forbid, exactly this call would change.
    const open = engineOf('@id("open") permit (principal, action, resource);');
    assert.deepEqual(
      replay(open, [recorded]).changed.map((c) => [c.record.id, c.now.outcome]),
      [['dec_tainted', 'allow']],
    );
  });
});

/** A config on disk whose store holds the history decided under A and whose folder holds `policies`. */
async function replayConfig(policies: string, records: DecisionRecord[]) {
  const dir = tempDir();
  const db = join(dir, 'gatehouse.db');
  const store = openSqliteStore(db);
  for (const r of records) await store.appendDecision(r);
  await store.close();
  const config = join(dir, 'gatehouse.yaml');
  writeFileSync(
    config,
    [
      `policies: { dir: ${JSON.stringify(folder(policies))} }`,
      `store: { sqlite: ${JSON.stringify(db)} }`,
      `keys: { dir: ${JSON.stringify(join(dir, 'keys'))} }`,
    ].join('\n'),
  );
  return { config, db };
}

async function run(o: Parameters<typeof policyReplayCommand>[0]): Promise<[number, string]> {
  let out = '';
  const code = await policyReplayCommand(o, {
    write: (t) => {
      out += t;
    },
  });
  return [code, out];
}

describe('gatehouse policy replay', () => {
  it('re-decides the recorded calls with the policy set on disk and lists the changes', async () => {
    const { config } = await replayConfig(POLICY_B, history(Date.now()));
    const [code, out] = await run({ config, since: '1h' });
    assert.equal(code, 0, 'a report, not a failure, even when calls would change');
    const lines = out.split('\n');
    const header = lines.findIndex((l) => l.startsWith('TIME '));
    assert.match(lines[header] ?? '', /^TIME +AGENT +TOOL +WAS +WOULD BE +POLICIES NOW +DECISION$/);
    const changedRows = lines.slice(header + 2, lines.indexOf('', header));
    assert.equal(changedRows.length, 1, out);
    assert.match(
      changedRows[0] ?? '',
      /support-bot@1\.4\.0 +payments__refund +ALLOW +DENY +refund-over-100 +dec_medium$/,
    );
    assert.match(out, /Same outcome, decided by other policies:\n.*\n.*\n.*dec_large/);
    assert.doesNotMatch(out, /dec_small|dec_fetch|dec_unkept|dec_old/);
    assert.match(
      out,
      /\n4 calls replayed, 1 would change, 1 could not be replayed \(arguments not kept\)\n$/,
    );
  });

  it('respects --since and --limit, and prints JSON for machines', async () => {
    const { config } = await replayConfig(POLICY_B, history(Date.now()));
    const [, text] = await run({ config, since: '3h', json: true });
    const body = JSON.parse(text) as {
      replayed: number;
      changed: { decision_id: string; was: { outcome: string }; would_be: { outcome: string } }[];
      policies_changed: { decision_id: string }[];
      skipped: { decision_id: string; time: string; why: string }[];
      limit_reached: boolean;
    };
    assert.deepEqual(
      body.changed.map((c) => [c.decision_id, c.was.outcome, c.would_be.outcome]).sort(),
      [
        ['dec_medium', 'allow', 'deny'],
        ['dec_old', 'allow', 'deny'],
      ],
    );
    assert.deepEqual(
      body.policies_changed.map((c) => c.decision_id),
      ['dec_large'],
    );
    assert.deepEqual(body.skipped, [
      {
        decision_id: 'dec_unkept',
        time: body.skipped[0]?.time,
        tool: 'payments__refund',
        why: 'args_not_kept',
      },
    ]);
    assert.equal(body.replayed, 5);
    assert.equal(body.limit_reached, false);

    const [, short] = await run({ config, since: '45s' });
    assert.match(
      short,
      /\n2 calls replayed, 0 would change, 1 could not be replayed \(arguments not kept\)\n$/,
    );
    assert.match(short, /dec_large/);

    const [, limited] = await run({ config, since: '1h', limit: '2' });
    assert.match(limited, /Only the newest 2 calls were replayed/);
    assert.match(limited, /\n1 call replayed, 0 would change, 1 could not be replayed/);
  });

  it('replays with the lockdowns in force', async () => {
    const { config, db } = await replayConfig(POLICY_A, history(Date.now()));
    const store = openSqliteStore(db);
    await store.addLockdown({ pattern: 'web__*', reason: 'incident', by: 'local', time: 1 });
    await store.close();
    const [, out] = await run({ config, since: '1h' });
    assert.match(out, /web__fetch +ALLOW +DENY +lockdown:web__\* +dec_fetch/);
    assert.match(out, /\n4 calls replayed, 1 would change, 1 could not be replayed/);
  });

  it('refuses a bad --since or --limit and a policy folder that does not load', async () => {
    const { config } = await replayConfig(POLICY_B, []);
    await assert.rejects(
      run({ config, since: 'yesterday' }),
      /--since "yesterday" is not a duration/,
    );
    await assert.rejects(
      run({ config, since: 'soon', limit: '0' }),
      /--since "soon" is not a duration.*; --limit must be a whole number/,
    );
    const { config: broken } = await replayConfig('permit (principal, action, resource', []);
    await assert.rejects(run({ config: broken, since: '1h' }), /do not load:\np\.cedar:1/);
    const [code, empty] = await run({ config, since: '1h' });
    assert.equal(code, 0);
    assert.match(
      empty,
      /\n0 calls replayed, 0 would change, 0 could not be replayed \(arguments not kept\)\n$/,
    );
  });
});
