import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPolicyDir } from '../src/policy/index.js';
import { policyDir, tempDir } from './helpers/gatehouse.js';

function errorsOf(files: Record<string, string>): readonly string[] {
  const r = loadPolicyDir(policyDir(files));
  assert.equal(r.ok, false, 'the set must be refused');
  return r.ok ? [] : r.errors;
}

/** Malformed policy folders: every problem is reported with file and line; nothing loads. */
describe('policy loader, malformed input', () => {
  it('reports a syntax error with its file and line', () => {
    const errs = errorsOf({
      'a.cedar': 'permit (principal, action, resource);\n\npermit (principal, action resource);\n',
    });
    assert.ok(
      errs.some((e) => /^a\.cedar:3: /.test(e)),
      errs.join('\n'),
    );
  });

  it('reports every broken file, not only the first', () => {
    const errs = errorsOf({ 'a.cedar': 'permit (', 'b.cedar': 'forbid principal;' });
    assert.ok(errs.some((e) => e.startsWith('a.cedar')));
    assert.ok(errs.some((e) => e.startsWith('b.cedar')));
  });

  it('refuses duplicate and malformed ids', () => {
    const dup = errorsOf({
      'a.cedar': '@id("x") permit (principal, action, resource);',
      'b.cedar': '\n@id("x") forbid (principal, action, resource);',
    });
    assert.ok(
      dup.some((e) => /b\.cedar:2: policy id "x" is already used at a\.cedar:1/.test(e)),
      dup.join('\n'),
    );
    const bad = errorsOf({ 'a.cedar': '@id("has space") permit (principal, action, resource);' });
    assert.match(bad[0] ?? '', /policy id "has space" must be/);
  });

  it('refuses templates, an empty folder and a missing folder', () => {
    assert.match(
      errorsOf({ 't.cedar': 'permit (principal == ?principal, action, resource);' })[0] ?? '',
      /templates/,
    );
    assert.match(errorsOf({ 'readme.txt': 'no policies here' })[0] ?? '', /has no \.cedar files/);
    const r = loadPolicyDir(join(tempDir(), 'missing'));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0] ?? '', /cannot read the policy folder/);
  });

  it('refuses annotations used against their meaning and ids Gatehouse reserves', () => {
    const onPermit = errorsOf({ 'a.cedar': '@approval permit (principal, action, resource);' });
    assert.match(onPermit[0] ?? '', /^a\.cedar:1: @approval marks a forbid that a human may lift/);
    const approversAlone = errorsOf({
      'a.cedar': '@approvers("finance") forbid (principal, action, resource);',
    });
    assert.match(approversAlone[0] ?? '', /@approvers only means something on an @approval policy/);
    const badGroups = errorsOf({
      'a.cedar': '@approval @approvers("Fin Ance!") forbid (principal, action, resource);',
    });
    assert.match(badGroups[0] ?? '', /comma-separated list of group names/);
    const reserved = errorsOf({
      'a.cedar': '@id("lockdown:x") forbid (principal, action, resource);',
    });
    assert.match(reserved[0] ?? '', /prefix Gatehouse reserves/);
  });

  it('refuses `action == Action::"call_tool"`, which would never match a call', () => {
    const errs = errorsOf({
      'a.cedar': '\n\npermit (principal, action == Action::"call_tool", resource);',
    });
    assert.match(errs[0] ?? '', /^a\.cedar:3: write `action in Action::"call_tool"`/);
  });

  it('validates against the schema (strict) and names file, line and policy', () => {
    const errs = errorsOf({
      'a.cedar':
        '@id("ok") permit (principal, action, resource);\n\n@id("typo")\npermit (principal, action, resource)\nwhen { principal.nmae == "x" };',
    });
    assert.match(errs[0] ?? '', /^a\.cedar:5 \(policy "typo"\): .*nmae/);
    const noArgs = errorsOf({
      'a.cedar':
        'permit (principal, action in Action::"call_tool", resource) when { context.args.x == 1 };',
    });
    assert.match(noArgs[0] ?? '', /attribute `args` in context for Action::"call_tool" not found/);
    const unknownTool = errorsOf({
      'a.cedar': 'permit (principal, action == Action::"nope__tool", resource);',
    });
    assert.match(unknownTool[0] ?? '', /nope__tool/);
  });

  it('reports a broken schema file with its own file and line', () => {
    const errs = errorsOf({
      'a.cedar': 'permit (principal, action, resource);',
      'tools.cedarschema':
        '\naction "x" in [Action::"call_tool"] appliesTo { principal: [Nobody] };',
    });
    assert.match(errs[0] ?? '', /^tools\.cedarschema:2: /);
  });

  it('refuses a shadow file that is not in the folder', () => {
    const r = loadPolicyDir(policyDir({ 'a.cedar': 'permit (principal, action, resource);' }), {
      shadowFiles: ['b.cedar'],
    });
    assert.equal(r.ok, false);
    if (!r.ok)
      assert.match(r.errors[0] ?? '', /shadow mode names b\.cedar, which is not a \.cedar file/);
  });

  it('gives stable ids from annotations or file positions, and a hash that tracks content', () => {
    const files = {
      'base.cedar':
        'permit (principal, action, resource);\n@id("named") forbid (principal, action, resource);',
    };
    const a = loadPolicyDir(policyDir(files));
    const b = loadPolicyDir(policyDir(files));
    const c = loadPolicyDir(policyDir({ 'base.cedar': 'permit (principal, action, resource);' }));
    assert.ok(a.ok && b.ok && c.ok);
    assert.deepEqual([...a.set.policies.keys()], ['base.0', 'named']);
    assert.equal(a.set.hash, b.set.hash);
    assert.notEqual(a.set.hash, c.set.hash);
  });
});
