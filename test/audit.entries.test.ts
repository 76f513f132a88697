import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leafHash } from '../src/audit/index.js';
import { canonicalJson } from '../src/crypto/index.js';
import { GENESIS_PREV, placeEntry, prepareEntry, type EntryBody } from '../src/store/index.js';

/** A pseudo-random JSON value (deterministic), with keys that sort around `index` and `prev`. */
function value(seed: number, depth: number): unknown {
  const r = (seed * 2654435761) % 4294967296;
  const keys = ['a', 'id', 'in', 'indexx', 'j', 'pre', 'prevv', 'q', 'é', '€', 'A', '_', '10', '9'];
  switch (depth > 2 ? r % 4 : r % 6) {
    case 0:
      return r % 1000;
    case 1:
      return `s${r}\u2028"\\${String.fromCharCode(r % 128)}`;
    case 2:
      return r % 2 === 0;
    case 3:
      return null;
    case 4:
      return Array.from({ length: r % 4 }, (_, i) => value(r + i + 1, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < r % 5; i++)
        o[keys[(r + i) % keys.length] as string] = value(r + i * 7, depth + 1);
      return o;
    }
  }
}

describe('audit entries', () => {
  it('place an entry as exactly the RFC 8785 form of the whole object', () => {
    const keys = ['a', 'id', 'in', 'indexx', 'j', 'pre', 'prevv', 'q', 'zz', 'é', 'A', '_', '10'];
    for (let seed = 1; seed < 400; seed++) {
      const fields: Record<string, unknown> = {};
      for (let i = 0; i < seed % 7; i++)
        fields[keys[(seed + i) % keys.length] as string] = value(seed + i, 0);
      const body: EntryBody = { type: 'event', time: 1_700_000_000_000 + seed, fields };
      const index = seed * 13;
      const prev = seed % 2 ? GENESIS_PREV : 'ab'.repeat(32);
      const placed = placeEntry(prepareEntry(body), index, prev);
      const expected = canonicalJson({
        ...fields,
        v: 1,
        index,
        prev,
        time: new Date(body.time).toISOString(),
        type: 'event',
      });
      assert.equal(Buffer.from(placed.leaf).toString('utf8'), expected, `seed ${seed}`);
      assert.deepEqual(placed.hash, leafHash(new TextEncoder().encode(expected)));
    }
  });

  it('refuses a field that would collide with the place or the envelope', () => {
    for (const name of ['index', 'prev', 'v', 'time', 'type']) {
      assert.throws(
        () => prepareEntry({ type: 'event', time: 0, fields: { [name]: 1 } }),
        new RegExp(`may not be named ${name}`),
      );
    }
  });

  it('drops undefined fields, as JSON does', () => {
    const placed = placeEntry(
      prepareEntry({ type: 'result', time: 0, fields: { a: undefined, b: 1 } }),
      0,
      GENESIS_PREV,
    );
    assert.doesNotMatch(Buffer.from(placed.leaf).toString('utf8'), /"a"/);
  });
});
