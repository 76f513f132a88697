import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parsePolicyTestFile } from '../src/policy/testing-format.js';
import { policyDir, REPO_ROOT, tempDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';

/** The problems with a test file, which must be invalid. */
function problems(text: string, file = 'bad.yaml'): readonly string[] {
  const r = parsePolicyTestFile(text, file);
  assert.equal(r.ok, false, 'the file should be refused');
  return r.ok ? [] : r.errors;
}

const AGENT = 'defaults: { agent: { name: support-bot, version: 1.4.0, principal: user:alice } }';

/** One case with `fields` (YAML lines, indented by the caller's 4 spaces) under the default agent. */
function oneCase(...fields: string[]): string {
  return `${AGENT}\ncases:\n  - name: the case\n${fields.map((f) => `    ${f}`).join('\n')}\n`;
}

describe('policy tests: malformed files are errors, each naming file, case and field', () => {
  it('refuses YAML that does not parse, with the line', () => {
    const bad = problems('cases:\n  - name: a\n    tool: [oops\n');
    assert.equal(bad.length, 1);
    assert.match(bad[0] ?? '', /^bad\.yaml: not valid YAML: .* at line \d+, column \d+$/);
    assert.match(
      problems('a: 1\na: 2\n')[0] ?? '',
      /^bad\.yaml: not valid YAML: .*unique.* line 2/i,
    );
  });

  it('refuses unknown fields, at the top, in defaults and in a case', () => {
    assert.deepEqual(
      problems(
        `${AGENT}\nextra: 1\ncases:\n  - name: c\n    tool: web__fetch\n    expect: allow\n    expected: deny\n`,
      ),
      ['bad.yaml: case 1 "c": expected: unknown field', 'bad.yaml: extra: unknown field'],
    );
    assert.deepEqual(
      problems(
        'defaults: { agent: { name: a, version: "1", principal: user:a, role: admin } }\ncases: [{ name: c, tool: web__fetch, expect: allow }]\n',
      ),
      ['bad.yaml: defaults.agent.role: unknown field'],
    );
  });

  it('refuses an outcome that does not exist', () => {
    assert.deepEqual(problems(oneCase('tool: web__fetch', 'expect: permit')), [
      'bad.yaml: case 1 "the case": expect: must be one of allow, deny, approval_required',
    ]);
  });

  it('refuses a case without a tool, an expectation or a name', () => {
    assert.deepEqual(problems(`${AGENT}\ncases:\n  - args: {}\n`), [
      'bad.yaml: case 1: name: is required',
      'bad.yaml: case 1: expect: is required',
      'bad.yaml: case 1: tool: is required (or one of resource, prompt, sampling, elicitation)',
    ]);
  });

  it('refuses a case about two things at once, and bad resources and servers asking back', () => {
    assert.deepEqual(
      problems(oneCase('tool: web__fetch', 'resource: { server: docs, uri: a }', 'expect: allow')),
      [
        'bad.yaml: case 1 "the case": resource: a case is about one thing: it names tool and resource',
      ],
    );
    assert.deepEqual(
      problems(oneCase('resource: { server: docs, uri: "", mode: x }', 'expect: allow')),
      [
        'bad.yaml: case 1 "the case": resource.uri: must not be empty',
        'bad.yaml: case 1 "the case": resource.mode: unknown field',
      ],
    );
    assert.deepEqual(
      problems(oneCase('sampling: { server: helper, trust: high }', 'expect: deny')),
      ['bad.yaml: case 1 "the case": sampling.trust: must be one of trusted, internal, untrusted'],
    );
    assert.deepEqual(problems(oneCase('elicitation: { trust: trusted }', 'expect: deny')), [
      'bad.yaml: case 1 "the case": elicitation.server: is required',
    ]);
  });

  it('refuses arguments that are not a mapping', () => {
    for (const args of ['[1, 2]', '"amount=5"', '7', 'null']) {
      assert.deepEqual(problems(oneCase('tool: web__fetch', `args: ${args}`, 'expect: allow')), [
        'bad.yaml: case 1 "the case": args: must be a mapping',
      ]);
    }
  });

  it('refuses bad tools: not an exposed name, a bad server, bad labels', () => {
    assert.deepEqual(problems(oneCase('tool: refund', 'expect: allow')), [
      'bad.yaml: case 1 "the case": tool: must be the exposed name <server>__<tool>, e.g. payments__refund',
    ]);
    assert.deepEqual(problems(oneCase('tool: 42', 'expect: allow')), [
      'bad.yaml: case 1 "the case": tool: must be an exposed tool name such as payments__refund, or { server, name, labels }',
    ]);
    assert.deepEqual(
      problems(
        oneCase(
          'tool: { server: pay_ments, name: refund, labels: { Blast: high, access: "" } }',
          'expect: allow',
        ),
      ),
      [
        'bad.yaml: case 1 "the case": tool.server: must be 1-32 letters, digits or "-", starting with a letter or digit',
        'bad.yaml: case 1 "the case": tool.labels.Blast: label names are lowercase snake_case',
        'bad.yaml: case 1 "the case": tool.labels.access: must be 1-64 characters of [A-Za-z0-9_.:-]',
      ],
    );
    assert.deepEqual(problems(oneCase('tool: { server: payments }', 'expect: allow')), [
      'bad.yaml: case 1 "the case": tool.name: is required',
    ]);
  });

  it('accepts a tool the config does not know, with no labels', () => {
    const r = parsePolicyTestFile(oneCase('tool: nowhere__anything', 'expect: deny'), 'ok.yaml');
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    assert.deepEqual(r.file.cases[0]?.tool, { server: 'nowhere', name: 'anything' });
  });

  it('refuses a bad agent, run, time, policies list and reason', () => {
    assert.deepEqual(
      problems(
        [
          'cases:',
          '  - name: c',
          '    agent: { name: "bad name", version: 2.0, principal: alice, depth: -1 }',
          '    tool: web__fetch',
          '    run: { lowest_trust: sketchy, sources: web }',
          '    time: yesterday',
          '    expect: allow',
          '    policies: web-fetch',
          '    reason: ""',
        ].join('\n'),
      ),
      [
        'bad.yaml: case 1 "c": agent.name: must be 1-64 letters, digits, ".", "_" or "-"',
        'bad.yaml: case 1 "c": agent.version: must be text (put it in quotes)',
        'bad.yaml: case 1 "c": agent.principal: must look like user:<id>, e.g. user:alice',
        'bad.yaml: case 1 "c": agent.depth: must be at least 0',
        'bad.yaml: case 1 "c": run.lowest_trust: must be one of trusted, internal, untrusted',
        'bad.yaml: case 1 "c": run.sources: must be a list',
        'bad.yaml: case 1 "c": time: must be an ISO 8601 date-time such as 2026-01-05T09:30:00Z',
        'bad.yaml: case 1 "c": policies: must be a list',
        'bad.yaml: case 1 "c": reason: must not be empty',
      ],
    );
  });

  it('refuses a case whose agent is incomplete once defaults apply', () => {
    assert.deepEqual(
      problems(
        'defaults: { agent: { name: a } }\ncases: [{ name: c, tool: web__fetch, expect: allow }]\n',
      ),
      [
        'bad.yaml: case 1 "c": agent.version: is required (here or in defaults.agent)',
        'bad.yaml: case 1 "c": agent.principal: is required (here or in defaults.agent)',
      ],
    );
  });

  it('refuses a depth that disagrees with the ancestors, and duplicate case names', () => {
    assert.deepEqual(
      problems(
        [
          AGENT,
          'cases:',
          '  - name: c',
          '    agent: { depth: 2, ancestors: [spiffe://t.local/agent/o/i1] }',
          '    tool: web__fetch',
          '    expect: allow',
          '  - name: c',
          '    tool: web__fetch',
          '    expect: allow',
        ].join('\n'),
      ),
      [
        'bad.yaml: case 1 "c": agent.depth: is 2 but 1 ancestor(s) are listed; depth is the number of ancestors',
        'bad.yaml: case 2 "c": name: is already the name of case 1',
      ],
    );
  });

  it('refuses a file with no cases, or that is not a mapping', () => {
    assert.deepEqual(problems(''), ['bad.yaml: cases: is required']);
    assert.deepEqual(problems('cases: []'), [
      'bad.yaml: cases: a test file needs at least one case',
    ]);
    assert.deepEqual(problems('- name: a'), ['bad.yaml: (top level): must be a mapping']);
  });

  it('makes `gatehouse policy test` exit 1, naming file and field, and still runs the valid files', () => {
    const dir = tempDir('gatehouse-policy-test-');
    const policies = policyDir(
      {
        'tools.cedarschema': TEST_TOOL_SCHEMA,
        'p.cedar': '@id("fetch") permit (principal, action == Action::"web__fetch", resource);',
      },
      join(dir, 'policies'),
    );
    mkdirSync(join(policies, 'tests'));
    writeFileSync(
      join(policies, 'tests', 'good.yml'),
      oneCase('tool: web__fetch', 'args: { url: "https://example.com/" }', 'expect: allow'),
    );
    writeFileSync(
      join(policies, 'tests', 'typo.yaml'),
      oneCase('tool: web__fetch', 'expct: allow'),
    );
    const config = join(dir, 'gatehouse.yaml');
    writeFileSync(config, 'policies: { dir: policies }\n');
    const module = pathToFileURL(join(REPO_ROOT, 'dist/src/cli/policy-test.js')).href;
    const r = spawnSync(
      'node',
      [
        '--input-type=module',
        '-e',
        `const { policyTestCommand } = await import(${JSON.stringify(module)});
         process.exitCode = await policyTestCommand(undefined, { config: ${JSON.stringify(config)} });`,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 },
    );
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^PASS {2}good\.yml {2}the case$/m);
    assert.match(r.stderr, /^gatehouse: these policy tests are not valid/m);
    assert.match(r.stderr, /^ {2}typo\.yaml: case 1 "the case": expect: is required$/m);
    assert.match(r.stderr, /^ {2}typo\.yaml: case 1 "the case": expct: unknown field$/m);
    assert.match(r.stdout, /^1 passed, 0 failed, 1 invalid test file\(s\)$/m);
  });
});
