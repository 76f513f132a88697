import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import canonicalizeCjs from 'canonicalize';
import { canonicalJson } from '../src/crypto/index.js';

const canonicalize = canonicalizeCjs as unknown as (value: unknown) => string | undefined;

/** Deterministic pseudo-random JSON values with keys and strings chosen to stress ordering. */
function generate(seed: number, depth: number): unknown {
  const r = (Math.imul(seed, 2654435761) >>> 0) % 1_000_003;
  const keys = [
    'b',
    'a',
    'aa',
    'B',
    '_',
    'é',
    'ö',
    '\u20ac',
    '\ufb33',
    '\ud83d\ude00',
    '\r',
    'id',
    'z',
  ];
  const odd = ['1', '10', '9', '0', '01', '4294967295', '__proto__', 'constructor', 'toString'];
  switch (depth > 3 ? r % 5 : r % 8) {
    case 0:
      return r % 2 === 0 ? r : -r / 7;
    case 1:
      return `s${String.fromCharCode(r % 0x3000)}\u2028"\\\n${r}`;
    case 2:
      return r % 3 === 0;
    case 3:
      return null;
    case 4:
      return [1e21, 1e-7, 0.1 + 0.2, -0, 5e-324, 2 ** 53][r % 6];
    case 5:
      return Array.from({ length: r % 4 }, (_, i) => generate(r + i + 1, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const pool = r % 3 === 0 ? [...keys, ...odd] : keys;
      for (let i = 0; i < r % 6; i++) {
        Object.defineProperty(o, pool[(r + i * 5) % pool.length] as string, {
          value: generate(r + i * 11, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return o;
    }
  }
}

describe('canonical JSON (RFC 8785)', () => {
  it('gives the RFC 8785 §3.2.3 sample its canonical form', () => {
    // Source: RFC 8785, section 3.2.3 (Sample Canonicalization), input and expected output.
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown;
    assert.equal(
      canonicalJson(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units, numeric-looking keys included', () => {
    // Source: RFC 8785, section 3.2.3 (sorting example).
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",' +
        '"1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    ) as Record<string, unknown>;
    const expected = [
      ['\r', 'Carriage Return'],
      ['1', 'One'],
      ['\u0080', 'Control'],
      ['\u00f6', 'Latin Small Letter O With Diaeresis'],
      ['\u20ac', 'Euro Sign'],
      ['\ud83d\ude00', 'Emoji: Grinning Face'],
      ['\ufb33', 'Hebrew Letter Dalet With Dagesh'],
    ].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    assert.equal(canonicalJson(input), `{${expected.join(',')}}`);
  });

  it('agrees with the canonicalize package on thousands of tricky values', () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const value = generate(seed, 0);
      assert.equal(canonicalJson(value), canonicalize(value), `seed ${seed}`);
    }
  });

  it('keeps a __proto__ key from JSON as a plain key', () => {
    const value = JSON.parse('{"b":1,"__proto__":{"x":1},"a":[{"__proto__":2}]}') as unknown;
    assert.equal(canonicalJson(value), '{"__proto__":{"x":1},"a":[{"__proto__":2}],"b":1}');
  });

  it('serialises toJSON values, drops undefined members and refuses what has no JSON form', () => {
    assert.equal(
      canonicalJson({ d: new Date(0), u: undefined }),
      '{"d":"1970-01-01T00:00:00.000Z"}',
    );
    assert.equal(canonicalJson([undefined, 1]), '[null,1]');
    assert.throws(() => canonicalJson(undefined), TypeError);
    assert.throws(() => canonicalJson({ n: 10n }), TypeError);
  });
});
