/**
 * Merkle verifiers on garbage: proofs and checkpoints arrive from outside (HTTP, files), so every
 * malformed input must give `false`, never an exception. Generators, which only the log calls,
 * refuse bad sizes with RangeError instead.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../src/audit/index.js';

const enc = new TextEncoder();
const hashes = Array.from({ length: 11 }, (_, i) => leafHash(enc.encode(`entry ${i}`)));
const root11 = rootOf(hashes);
const root6 = rootOf(hashes.slice(0, 6));
const leaf = hashes[5] ?? assert.fail();
const goodInclusion = inclusionProof(hashes, 5, 11);
const goodConsistency = consistencyProof(hashes, 6, 11);

// The verifiers' declared types say nothing about what a JSON body or a JS caller really passes.
const anything = <T>(value: unknown): T => value as T;

const badNumbers: unknown[] = [
  -1,
  -0.5,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  Number.MAX_VALUE,
  2 ** 64 - 1,
  '5',
  5n,
  null,
  undefined,
  {},
  [5],
  true,
];

const badHashes: unknown[] = [
  new Uint8Array(0),
  new Uint8Array(31),
  new Uint8Array(33),
  new Uint8Array(64),
  new Uint16Array(32),
  Array.from({ length: 32 }, () => 0),
  'a'.repeat(64),
  Buffer.from(leaf).toString('base64'),
  null,
  undefined,
  42,
  {},
  { length: 32 },
  new DataView(new ArrayBuffer(32)),
  new ArrayBuffer(32),
];

const hostile = new Proxy([leaf], {
  get() {
    throw new Error('hostile proof');
  },
});

const badProofs: unknown[] = [
  null,
  undefined,
  'proof',
  42,
  {},
  { length: 3, 0: leaf },
  new Uint8Array(96),
  [null],
  [leaf, 'x'],
  [leaf, new Uint8Array(31)],
  new Array<Uint8Array>(3),
  Array.from({ length: 65 }, () => leaf),
  Array.from({ length: 100_000 }, () => leaf),
  hostile,
];

/** Runs a verifier, turning an exception into a failure message rather than a crash. */
function verdict(run: () => boolean): boolean | string {
  try {
    return run();
  } catch (error) {
    return `threw ${String(error)}`;
  }
}

void describe('verifyInclusion on malformed input', () => {
  void it('accepts the untouched proof, also as Buffers (a sanity baseline)', () => {
    assert.ok(verifyInclusion(leaf, 5, 11, goodInclusion, root11));
    const asBuffers = goodInclusion.map((h) => Buffer.from(h));
    assert.ok(verifyInclusion(Buffer.from(leaf), 5, 11, asBuffers, Buffer.from(root11)));
    // Elements are read by index, so an iterator that lies about them changes nothing.
    const lying = Object.assign([...goodInclusion], {
      *[Symbol.iterator]() {
        yield new Uint8Array(64);
      },
    });
    assert.ok(verifyInclusion(leaf, 5, 11, lying, root11));
  });

  void it('bad indices and sizes give false', () => {
    for (const bad of badNumbers) {
      const asIndex = verdict(() =>
        verifyInclusion(leaf, anything(bad), 11, goodInclusion, root11),
      );
      const asSize = verdict(() => verifyInclusion(leaf, 5, anything(bad), goodInclusion, root11));
      assert.equal(asIndex, false, `index ${String(bad)}`);
      assert.equal(asSize, false, `size ${String(bad)}`);
    }
    for (const [index, size] of [
      [11, 11],
      [12, 11],
      [0, 0],
      [5, 0],
      [5, 6],
      [5, 64],
      [5, 2 ** 52],
      [2 ** 53 - 2, 2 ** 53 - 1],
    ] as const) {
      const got = verdict(() => verifyInclusion(leaf, index, size, goodInclusion, root11));
      assert.equal(got, false, `index ${index} size ${size}`);
    }
  });

  void it('bad leaf hashes, roots and proofs give false', () => {
    for (const bad of badHashes) {
      assert.equal(
        verdict(() => verifyInclusion(anything(bad), 5, 11, goodInclusion, root11)),
        false,
      );
      assert.equal(
        verdict(() => verifyInclusion(leaf, 5, 11, goodInclusion, anything(bad))),
        false,
      );
      const inProof = [bad, ...goodInclusion.slice(1)];
      assert.equal(
        verdict(() => verifyInclusion(leaf, 5, 11, anything(inProof), root11)),
        false,
      );
    }
    for (const bad of badProofs) {
      assert.equal(
        verdict(() => verifyInclusion(leaf, 5, 11, anything(bad), root11)),
        false,
      );
    }
    assert.equal(verifyInclusion(leaf, 5, 11, goodInclusion.slice(0, -1), root11), false);
    assert.equal(verifyInclusion(leaf, 5, 11, [...goodInclusion, root11], root11), false);
    assert.equal(verifyInclusion(leaf, 5, 11, [], root11), false);
  });
});

void describe('verifyConsistency on malformed input', () => {
  void it('accepts the untouched proof (a sanity baseline)', () => {
    assert.ok(verifyConsistency(6, 11, goodConsistency, root6, root11));
  });

  void it('bad sizes give false, including size1 = 0 and size1 > size2', () => {
    for (const bad of badNumbers) {
      const a = verdict(() => verifyConsistency(anything(bad), 11, goodConsistency, root6, root11));
      const b = verdict(() => verifyConsistency(6, anything(bad), goodConsistency, root6, root11));
      assert.equal(a, false, `size1 ${String(bad)}`);
      assert.equal(b, false, `size2 ${String(bad)}`);
    }
    for (const [size1, size2, proof, r1, r2] of [
      [0, 11, goodConsistency, root6, root11],
      [0, 0, [], rootOf([]), rootOf([])],
      [11, 6, goodConsistency, root11, root6],
      [6, 6, goodConsistency, root6, root6],
      [6, 6, [], root6, root11],
      [6, 11, [], root6, root11],
      [6, 2 ** 53, goodConsistency, root6, root11],
      [2 ** 53 - 2, 2 ** 53 - 1, goodConsistency, root6, root11],
    ] as const) {
      const got = verdict(() => verifyConsistency(size1, size2, proof, r1, r2));
      assert.equal(got, false, `${size1} -> ${size2}`);
    }
  });

  void it('bad roots and proofs give false', () => {
    for (const bad of badHashes) {
      const r1 = verdict(() => verifyConsistency(6, 11, goodConsistency, anything(bad), root11));
      const r2 = verdict(() => verifyConsistency(6, 11, goodConsistency, root6, anything(bad)));
      const same = verdict(() => verifyConsistency(6, 6, [], anything(bad), anything(bad)));
      const inProof = anything<Uint8Array[]>([...goodConsistency.slice(0, -1), bad]);
      const p = verdict(() => verifyConsistency(6, 11, inProof, root6, root11));
      assert.deepEqual([r1, r2, same, p], [false, false, false, false], String(bad));
    }
    for (const bad of badProofs) {
      assert.equal(
        verdict(() => verifyConsistency(6, 11, anything(bad), root6, root11)),
        false,
      );
    }
  });
});

void describe('Merkle verifiers on random garbage', () => {
  void it('never throw and never accept (seeded, reproducible)', () => {
    // xorshift32: deterministic, so a failure names a reproducible case.
    let state = 0x9e3779b9;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const bytes = (): Uint8Array => {
      const lengths = [32, 32, 32, 0, 31, 33];
      const out = new Uint8Array(lengths[next() % lengths.length] ?? 32);
      for (let i = 0; i < out.length; i++) out[i] = next() & 0xff;
      return out;
    };
    for (let round = 0; round < 2000; round++) {
      const proof = Array.from({ length: next() % 8 }, bytes);
      const a = next() % 40;
      const b = next() % 40;
      const inclusion = verdict(() => verifyInclusion(bytes(), a, b, proof, bytes()));
      const consistency = verdict(() => verifyConsistency(a, b, proof, bytes(), bytes()));
      assert.deepEqual([inclusion, consistency], [false, false], `round ${round}`);
    }
  });
});

void describe('Merkle proof generators refuse bad sizes', () => {
  void it('throw RangeError for out-of-range indices and sizes', () => {
    const cases: (() => unknown)[] = [
      () => inclusionProof(hashes, 11, 11),
      () => inclusionProof(hashes, -1, 11),
      () => inclusionProof(hashes, 0, 0),
      () => inclusionProof(hashes, 0, 12),
      () => inclusionProof(hashes, 1.5, 11),
      () => inclusionProof(hashes, anything(NaN), 11),
      () => consistencyProof(hashes, 0, 11),
      () => consistencyProof(hashes, 7, 6),
      () => consistencyProof(hashes, 6, 12),
      () => consistencyProof(hashes, 6, 2 ** 53),
    ];
    for (const run of cases) assert.throws(run, RangeError, String(run));
    assert.deepEqual(consistencyProof(hashes, 6, 6), []);
    assert.deepEqual(inclusionProof(hashes, 0, 1), []);
  });
});
