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
