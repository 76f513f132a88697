import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCliAsync } from './helpers/cli.js';
import { QUICKSTART_CONFIG, REPO_ROOT, tempDir } from './helpers/gatehouse.js';
import { quickstartCopy } from './helpers/policy-setup.js';

/** `gatehouse policy schema` against the quickstart's real upstreams. */
describe('gatehouse policy schema', () => {
  it('finds the shipped quickstart schema up to date with the upstreams (--check)', async () => {
    const r = await runCliAsync(['policy', 'schema', '--check', '--config', QUICKSTART_CONFIG]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /tools\.cedarschema is up to date \(35 tools\)/);
  });

  it('writes the tool actions, validates the policies against them, and --check catches drift', async () => {
    const setup = quickstartCopy();
    const out = join(setup.policies, 'tools.cedarschema');
    writeFileSync(out, '// stale\n');
    const stale = await runCliAsync(['policy', 'schema', '--check', '--config', setup.configPath]);
    assert.equal(stale.code, 1);
    assert.match(
      stale.err,
      /is out of date with the upstreams' tools; run: gatehouse policy schema/,
    );
    const wrote = await runCliAsync(['policy', 'schema', '--config', setup.configPath]);
    assert.equal(wrote.code, 0, wrote.err);
    assert.match(
      wrote.out,
      /Wrote .*tools\.cedarschema: 21 tool actions\.\nThe \d+ policies validate against it\./,
    );
    const text = readFileSync(out, 'utf8');
    assert.match(text, /action "payments__refund" in \[Action::"call_tool"\]/);
    assert.match(text, /"amount": Long/);
    const shipped = readFileSync(
      join(REPO_ROOT, 'examples/quickstart/policies/tools.cedarschema'),
      'utf8',
    );
    assert.ok(
      shipped.includes(text.split('\n\n')[1] ?? 'missing'),
      'same rendering as the shipped file',
    );
  });

  it('refuses to write a schema while an upstream cannot be listed', async () => {
    const dir = tempDir();
    const config = join(dir, 'gatehouse.yaml');
    writeFileSync(
      config,
      [
        `store: { sqlite: ${join(dir, 'gh.db')} }`,
        `keys: { dir: ${join(dir, 'keys')} }`,
        `policies: { dir: ${dir} }`,
        'upstreams:',
        '  broken:',
        '    command: /nonexistent/server',
        '',
      ].join('\n'),
    );
    const r = await runCliAsync(['policy', 'schema', '--config', config]);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot list the tools of broken/);
  });
});
