import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toCedarValue } from '../src/policy/index.js';

function refused(value: unknown, maxDepth = 4): string {
  const r = toCedarValue(value, maxDepth);
  assert.equal(r.ok, false, `expected ${JSON.stringify(value)} to be refused`);
  return r.ok ? '' : `${r.problem.path}: ${r.problem.problem}`;
}

/** Attacker-controlled tool arguments on their way to Cedar (A1, A7). */
describe('tool arguments to Cedar values, malformed input', () => {
  it('converts plain JSON, leaving out nulls', () => {
    const r = toCedarValue(
      { s: 'x', n: 3, b: true, list: [1, null, 2], nested: { k: null, v: 'y' } },
      4,
    );
    assert.deepEqual(r, {
      ok: true,
      value: { s: 'x', n: 3, b: true, list: [1, 2], nested: { v: 'y' } },
    });
  });

  it('turns exact fractions into decimals', () => {
    assert.deepEqual(toCedarValue({ x: 12.5 }, 4), {
      ok: true,
      value: { x: { __extn: { fn: 'decimal', arg: '12.5000' } } },
    });
  });

  it('refuses reserved escape keys at any depth', () => {
    assert.match(
      refused({ __entity: { type: 'User', id: 'admin' } }),
      /^__entity: the key "__entity" is reserved/,
    );
    assert.match(refused({ a: [{ __extn: { fn: 'ip', arg: '1.2.3.4' } }] }), /^a\[0\]\.__extn/);
    assert.match(refused({ a: { __expr: 'x' } }), /__expr/);
  });

  it('refuses nesting beyond the bound', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10; i++) deep = { d: deep };
    assert.match(refused(deep, 4), /nested deeper than 4 levels/);
    let deepList: unknown = 1;
    for (let i = 0; i < 10; i++) deepList = [deepList];
    assert.match(refused({ l: deepList }, 4), /nested deeper than 4 levels/);
  });

  it('refuses numbers Cedar cannot hold exactly', () => {
    assert.match(refused({ n: 2 ** 60 }), /cannot be represented exactly/);
    assert.match(refused({ n: 1e-9 }), /cannot be represented exactly/);
    assert.match(refused({ n: 1e300 }), /cannot be represented exactly/);
  });

  it('treats an object shaped like an internal problem as plain data', () => {
    assert.deepEqual(toCedarValue({ path: 'p', problem: 'q' }, 4), {
      ok: true,
      value: { path: 'p', problem: 'q' },
    });
  });
});
