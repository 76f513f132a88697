import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createEngine, loadPolicyDir, type PolicyEngine } from '../src/policy/index.js';
import { parsePolicyTestFile, type PolicyTestFile } from '../src/policy/testing-format.js';
import { runPolicyTests, type PolicyTestResult } from '../src/policy/testing.js';
import { policyDir, QUICKSTART_CONFIG, REPO_ROOT, tempDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';

const POLICIES = `
@id("refunds")
permit (principal, action == Action::"payments__refund", resource)
when { principal.name == "support-bot" };

@id("big-refunds")
@approval
@reason("big refunds need a human")
forbid (principal, action == Action::"payments__refund", resource)
when { context.args.amount > 500 };

@id("night-freeze")
@reason("no refunds at night")
forbid (principal, action == Action::"payments__refund", resource)
when { context.time.hour_utc < 6 };

@id("no-high-blast-for-subagents")
forbid (principal, action in Action::"call_tool", resource in Label::"blast_radius:high")
when { principal.depth > 0 };

@id("fetch")
permit (principal, action == Action::"web__fetch", resource);
`;

const CONFIG = `
policies: { dir: policies }
upstreams:
  payments:
    command: node
    tools:
      refund: { labels: { blast_radius: high } }
`;

/** A folder with gatehouse.yaml, policies/ and policies/tests/ holding `tests`. */
function project(
  tests: Record<string, string>,
  opts: { policies?: Record<string, string>; config?: string } = {},
): { dir: string; config: string; policies: string } {
  const dir = tempDir('gatehouse-policy-test-');
  const policies = policyDir(
    opts.policies ?? { 'tools.cedarschema': TEST_TOOL_SCHEMA, 'p.cedar': POLICIES },
    join(dir, 'policies'),
  );
  mkdirSync(join(policies, 'tests'));
  for (const [name, text] of Object.entries(tests))
    writeFileSync(join(policies, 'tests', name), text);
  const config = join(dir, 'gatehouse.yaml');
  writeFileSync(config, opts.config ?? CONFIG);
  return { dir, config, policies };
}

const MODULE = pathToFileURL(join(REPO_ROOT, 'dist/src/cli/policy-test.js')).href;

/**
 * Runs `gatehouse policy test [DIR] --config FILE [--json]` in a child process, through
 * policyTestCommand as the CLI does (thrown errors become one `gatehouse:` line and exit 1).
 */
function policyTest(
  dir: string | undefined,
  config: string,
  json = false,
): { code: number | null; out: string; err: string } {
  const script = `
    const { policyTestCommand } = await import(process.env.MODULE);
    const a = JSON.parse(process.env.ARGS);
    try {
      process.exitCode = await policyTestCommand(a.dir ?? undefined, { config: a.config, json: a.json });
    } catch (err) {
      process.stderr.write('gatehouse: ' + err.message + '\\n');
      process.exitCode = 1;
    }`;
  const r = spawnSync('node', ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      MODULE,
      ARGS: JSON.stringify({ dir: dir ?? null, config, json }),
    },
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function engine(): PolicyEngine {
  const r = loadPolicyDir(
    policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, 'p.cedar': POLICIES }),
  );
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return createEngine(r.set, { maxArgDepth: 8, maxArgBytes: 4096 });
}

function parsed(text: string, file = 't.yaml'): PolicyTestFile {
  const r = parsePolicyTestFile(text, file);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return r.file;
}

const HIGH_BLAST = (server: string, name: string) =>
  server === 'payments' && name === 'refund' ? { blast_radius: 'high' } : undefined;

function run(text: string, e = engine()): PolicyTestResult[] {
  return runPolicyTests(e, [parsed(text)], HIGH_BLAST);
}

const HEAD = `
defaults:
  agent: { name: support-bot, version: 1.4.0, principal: user:alice }
  time: 2026-01-05T12:00:00Z
cases:
`;

describe('policy tests: the runner', () => {
  it('checks the outcome, the deciding policies and the reason', () => {
    const results = run(`${HEAD}
  - name: small refund
    tool: payments__refund
    args: { amount: 100 }
    expect: allow
    policies: [refunds]
    reason: permitted by
  - name: big refund
    tool: payments__refund
    args: { amount: 900 }
    expect: approval_required
    policies: [big-refunds]
    reason: need a human
  - name: someone else
    agent: { name: other-bot }
    tool: payments__refund
    args: { amount: 1 }
    expect: deny
    policies: []
`);
    assert.deepEqual(
      results.map((r) => [r.file, r.index, r.name, r.ok, r.got.outcome]),
      [
        ['t.yaml', 0, 'small refund', true, 'allow'],
        ['t.yaml', 1, 'big refund', true, 'approval_required'],
        ['t.yaml', 2, 'someone else', true, 'deny'],
      ],
    );
    assert.deepEqual(results[1]?.got.policies, ['big-refunds']);
    assert.match(results[2]?.got.reason ?? '', /no policy permits agent "other-bot"/);
  });

  it('decides cases about resources, prompts and servers asking back under their own actions', () => {
    const content = loadPolicyDir(
      policyDir({
        'tools.cedarschema': TEST_TOOL_SCHEMA,
        'c.cedar': `
@id("public-docs")
permit (principal, action == Action::"read_resource", resource in Server::"docs")
when { resource.uri like "file:///public/*" };
@id("docs-prompts")
permit (principal, action == Action::"get_prompt", resource in Server::"docs");
@id("no-password-questions")
forbid (principal, action == Action::"elicit", resource)
when { context.elicitation.fields.contains("password") };
`,
      }),
    );
    assert.ok(content.ok, content.ok ? '' : content.errors.join('\n'));
    const results = run(
      `${HEAD}
  - name: a public doc
    resource: { server: docs, uri: "file:///public/a.md" }
    expect: allow
    policies: [public-docs]
  - name: a private doc
    resource: { server: docs, uri: "file:///private/a.md" }
    expect: deny
  - name: a docs prompt
    prompt: docs__summarise
    expect: allow
  - name: sampling by a trusted server
    sampling: { server: helper, trust: trusted }
    args: { messages: [], maxTokens: 10 }
    expect: allow
    policies: [gatehouse.sampling-trusted-servers]
  - name: sampling by an untrusted server
    sampling: { server: web, trust: untrusted }
    args: { messages: [], maxTokens: 10 }
    expect: deny
    reason: to ask the model
  - name: a password question
    elicitation: { server: helper, trust: trusted }
    args: { message: pw?, requestedSchema: { type: object, properties: { password: { type: string } } } }
    expect: deny
    policies: [no-password-questions]
`,
      createEngine(content.set, { maxArgDepth: 8, maxArgBytes: 4096 }),
    );
    assert.deepEqual(
      results.filter((r) => !r.ok).map((r) => [r.name, r.problems]),
      [],
    );
    assert.equal(results.length, 6);
  });

  it('reports a wrong outcome, wrong policies and a missing reason as failures', () => {
    const [outcome, policies, reason] = run(`${HEAD}
  - name: wrong outcome
    tool: payments__refund
    args: { amount: 100 }
    expect: deny
  - name: wrong policies
    tool: payments__refund
    args: { amount: 900 }
    expect: approval_required
    policies: [refunds, big-refund]
  - name: wrong reason
    tool: payments__refund
    args: { amount: 900 }
    expect: approval_required
    reason: a robot
`);
    assert.equal(outcome?.ok, false);
    assert.deepEqual(outcome?.problems, ['expected deny, got allow']);
    assert.deepEqual(outcome?.expected, { outcome: 'deny' });
    assert.equal(policies?.ok, false);
    assert.deepEqual(policies?.problems, [
      'expected deciding policies [refunds, big-refund], got [big-refunds] (no policy has the id big-refund)',
    ]);
    assert.equal(reason?.ok, false);
    assert.deepEqual(reason?.problems, ['expected the reason to contain "a robot"']);
  });

  it('lets a forbid override a permit, and a hard forbid override an approval', () => {
    const [night, nightBig] = run(`
defaults:
  agent: { name: support-bot, version: 1.4.0, principal: user:alice }
  time: 2026-01-05T03:00:00+00:00
cases:
  - name: a permitted refund at night
    tool: payments__refund
    args: { amount: 100 }
    expect: deny
    policies: [night-freeze]
    reason: no refunds at night
  - name: a big refund at night is denied, not sent for approval
    tool: payments__refund
    args: { amount: 900 }
    expect: deny
    policies: [night-freeze]
`);
    assert.equal(night?.ok, true, night?.problems.join('; '));
    assert.equal(nightBig?.ok, true, nightBig?.problems.join('; '));
  });

  it('takes labels from the resolver, or from the case when it gives them', () => {
    const [fromConfig, explicit, unknown] = run(`${HEAD}
  - name: a subagent may not call a high blast radius tool
    agent: { name: support-bot, ancestors: [spiffe://t.local/agent/orchestrator/o1] }
    tool: payments__refund
    args: { amount: 1 }
    expect: deny
    policies: [no-high-blast-for-subagents]
  - name: unless the case relabels it
    agent: { name: support-bot, depth: 1 }
    tool: { server: payments, name: refund, labels: { blast_radius: low } }
    args: { amount: 1 }
    expect: allow
  - name: a tool nobody configured has no labels
    agent: { depth: 2 }
    tool: web__fetch
    args: { url: https://example.com/ }
    expect: allow
`);
    assert.equal(fromConfig?.ok, true, fromConfig?.problems.join('; '));
    assert.equal(explicit?.ok, true, explicit?.problems.join('; '));
    assert.equal(unknown?.ok, true, unknown?.problems.join('; '));
  });

  it('applies defaults: agent field by field, run and time as a whole', () => {
    const f = parsed(`
defaults:
  agent: { name: support-bot, version: 1.4.0, principal: user:alice, run: r-1 }
  run: { lowest_trust: untrusted, sources: [web__fetch] }
cases:
  - name: one
    agent: { version: 2.0.0, depth: 1 }
    tool: payments__refund
    expect: allow
  - name: two
    run: { lowest_trust: internal }
    time: 2026-01-05T10:00:00+02:00
    tool: payments__refund
    args: { amount: 1 }
    expect: allow
`);
    const [one, two] = f.cases;
    assert.equal(one?.agent.name, 'support-bot');
    assert.equal(one?.agent.version, '2.0.0');
    assert.equal(one?.agent.run, 'r-1');
    assert.equal(one?.agent.depth, 1);
    assert.equal(one?.agent.ancestors.length, 1);
    assert.match(one?.agent.id ?? '', /^spiffe:\/\/gatehouse\.local\/agent\/support-bot\//);
    assert.deepEqual(one?.args, {});
    assert.deepEqual(one?.run, { lowestTrust: 'untrusted', sources: ['web__fetch'] });
    assert.equal(one?.time, undefined);
    assert.deepEqual(two?.run, { lowestTrust: 'internal', sources: [] });
    assert.equal(two?.time, Date.parse('2026-01-05T08:00:00Z'));
  });

  it('checks what policy says in shadow mode, not what is enforced', () => {
    const r = loadPolicyDir(
      policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, 'p.cedar': POLICIES }),
    );
    assert.ok(r.ok);
    const shadow = createEngine(r.set, { maxArgDepth: 8, maxArgBytes: 4096, mode: 'shadow' });
    const [result] = run(
      `${HEAD}
  - name: someone else is still denied by policy
    agent: { name: other-bot }
    tool: payments__refund
    args: { amount: 1 }
    expect: deny
`,
      shadow,
    );
    assert.equal(result?.ok, true, result?.problems.join('; '));
  });
});

describe('gatehouse policy test', () => {
  it('passes the quickstart policy tests', () => {
    const r = policyTest(undefined, QUICKSTART_CONFIG);
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(r.err, '');
    for (const file of ['files.yaml', 'payments.yaml', 'provenance.yaml', 'web.yaml'])
      assert.match(r.out, new RegExp(`^PASS  ${file.replace('.', '\\.')} +\\S`, 'm'));
    assert.doesNotMatch(r.out, /^FAIL/m);
    assert.match(r.out, /^\d+ passed, 0 failed$/m);
  });

  it('fails on a wrong expectation and names the case, what was expected and what came', () => {
    const p = project({
      'refunds.yaml': `${HEAD}
  - name: small refund
    tool: payments__refund
    args: { amount: 100 }
    expect: allow
  - name: big refund wrongly expected to pass
    tool: payments__refund
    args: { amount: 900 }
    expect: allow
`,
    });
    const r = policyTest(undefined, p.config);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /^PASS {2}refunds\.yaml {2}small refund$/m);
    assert.match(r.out, /^FAIL {2}refunds\.yaml {2}big refund wrongly expected to pass$/m);
    assert.match(r.out, /^ +expected +allow$/m);
    assert.match(r.out, /^ +got +approval_required; policies: big-refunds$/m);
    assert.match(r.out, /^ +reason +big refunds need a human$/m);
    assert.match(r.out, /^1 passed, 1 failed$/m);
  });

  it('fails when the deciding policies differ, even with the right outcome', () => {
    const p = project({
      'refunds.yaml': `${HEAD}
  - name: big refund
    tool: payments__refund
    args: { amount: 900 }
    expect: approval_required
    policies: [refunds]
`,
    });
    const r = policyTest(p.policies, p.config);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /^FAIL {2}refunds\.yaml {2}big refund$/m);
    assert.match(r.out, /expected +approval_required; policies: refunds$/m);
    assert.match(r.out, /got +approval_required; policies: big-refunds$/m);
    assert.match(r.out, /^0 passed, 1 failed$/m);
  });

  it('prints machine-readable results with --json', () => {
    const p = project({
      'refunds.yaml': `${HEAD}
  - name: small refund
    tool: payments__refund
    args: { amount: 100 }
    expect: deny
`,
    });
    const r = policyTest(undefined, p.config, true);
    assert.equal(r.code, 1, r.err);
    const body = JSON.parse(r.out) as {
      ok: boolean;
      passed: number;
      failed: number;
      mode: string;
      results: PolicyTestResult[];
    };
    assert.equal(body.ok, false);
    assert.equal(body.passed, 0);
    assert.equal(body.failed, 1);
    assert.equal(body.mode, 'enforce');
    assert.deepEqual(body.results[0]?.got, {
      outcome: 'allow',
      policies: ['refunds'],
      reason: 'permitted by "refunds"',
    });
    assert.deepEqual(body.results[0]?.expected, { outcome: 'deny' });
  });

  it('reports a policy folder that does not load, and exits 1', () => {
    const p = project(
      {
        'a.yaml': `${HEAD}
  - name: x
    tool: web__fetch
    expect: allow
`,
      },
      { policies: { 'p.cedar': 'permit (principal, action, resource) when { nonsense };' } },
    );
    const r = policyTest(undefined, p.config);
    assert.equal(r.code, 1);
    assert.match(r.err, /^gatehouse: the policies in .* do not load:$/m);
    assert.match(r.err, /^ {2}p\.cedar:1: /m);
  });

  it('says so when there are no tests', () => {
    const p = project({});
    writeFileSync(join(p.policies, 'tests', 'README.md'), 'not a test');
    const r = policyTest(undefined, p.config);
    assert.equal(r.code, 1);
    assert.match(r.err, /^gatehouse: no policy tests: .*tests has no \.yaml or \.yml files$/m);
  });
});
