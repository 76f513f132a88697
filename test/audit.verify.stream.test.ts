/**
 * The streaming machinery of the verifier: the frontier tree against the reference Merkle code, the
 * same findings from the main thread and from worker threads whatever the chunk size, an oversized
 * line, and the fast canonical-JSON scanner never accepting what the reference check refuses.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { consistencyProof, leafHash, rootOf, verifyConsistency } from '../src/audit/merkle.js';
import { verifyBundle } from '../src/audit/verify.js';
import { checkEntries, MAX_ENTRY_BYTES, type SignedSize } from '../src/audit/verify-entries.js';
import { CanonicalScanner, isCanonicalText } from '../src/audit/verify-json.js';
import { CompactRange, consistent, hashString } from '../src/audit/verify-tree.js';
import { canonicalJson } from '../src/crypto/index.js';
import {
  ZERO_PREV,
  buildBundle,
  chain,
  eventFields,
  makeEntries,
  readLines,
  writeLines,
  type TestBundle,
} from './helpers/audit-bundle.js';

const bundles: TestBundle[] = [];
after(async () => {
  for (const b of bundles) await b.cleanup();
});

describe('verify: compact ranges', () => {
  const hashes = makeEntries(70).map((e) => leafHash(e));
  const leaves = hashes.map(hashString);

  it('give the RFC 6962 root at every size, leaf by leaf or joined from pieces', () => {
    const tree = new CompactRange(0);
    assert.deepEqual(tree.root(), rootOf([]));
    for (const [i, leaf] of leaves.entries()) {
      tree.appendLeaf(leaf);
      assert.deepEqual(tree.root(), rootOf(hashes.slice(0, i + 1)), `root at ${i + 1}`);
    }
    for (const cuts of [[3, 17, 18, 40], [1, 2, 64], [33], [5, 10, 15, 20, 25, 60, 69]]) {
      const joined = new CompactRange(0);
      [0, ...cuts].forEach((from, k) => {
        const piece = new CompactRange(from);
        for (const leaf of leaves.slice(from, cuts[k] ?? leaves.length)) piece.appendLeaf(leaf);
        joined.appendRange(piece.data());
      });
      assert.deepEqual(joined.root(), rootOf(hashes), `cut at ${cuts.join(',')}`);
    }
  });

  it('hold the hashes of the consistency proofs between any two sizes', () => {
    for (let size1 = 1; size1 < 40; size1++) {
      for (const size2 of [size1 + 1, size1 + 7, 64, 70].filter((s) => s > size1)) {
        const before = new CompactRange(0);
        leaves.slice(0, size1).forEach((l) => before.appendLeaf(l));
        const since = new CompactRange(size1);
        leaves.slice(size1, size2).forEach((l) => since.appendLeaf(l));
        const root1 = rootOf(hashes.slice(0, size1));
        const root2 = rootOf(hashes.slice(0, size2));
        assert.ok(consistent(before, since, root1, root2), `${size1} to ${size2}`);
        assert.ok(!consistent(before, since, root2, root1), `not ${size1} to ${size2} swapped`);
      }
    }
    const proof = consistencyProof(hashes, 13, 21);
    const [r13, r21] = [rootOf(hashes.slice(0, 13)), rootOf(hashes.slice(0, 21))];
    assert.ok(verifyConsistency(13, 21, proof, r13, r21));
  });
});

describe('verify: chunks and worker threads', () => {
  const sizes = [3, 8, 9, 16, 25];
  const signedOf = (entries: readonly Uint8Array[]): SignedSize[] =>
    sizes.map((size) => ({
      size,
      file: `checkpoints/${size}`,
      rootHash: rootOf(entries.slice(0, size).map((e) => leafHash(e))),
    }));

  it('reports the same in this thread and on workers, across chunk boundaries', async () => {
    const b = await buildBundle({ n: 25, sizes });
    bundles.push(b);
    const lines = await readLines(b.dir);
    const signed = signedOf(b.entries);
    const rewritten = chain(
      Array.from({ length: 25 }, (_, i) => ({ ...eventFields(i), k: i > 11 })),
    );
    const variants: [string, readonly Uint8Array[], { cut?: number }][] = [
      ['intact', lines, {}],
      ['edited', lines.map((l, i) => (i === 10 ? Buffer.from(l).fill(0x41, 30, 31) : l)), {}],
      ['dropped', lines.filter((_, i) => i !== 17), {}],
      ['cut', lines, { cut: 7 }],
      ['rewritten', rewritten, {}],
    ];
    for (const [name, variant, options] of variants) {
      await writeLines(b.dir, variant, options);
      const path = b.path('entries.jsonl');
      const here = await checkEntries(path, signed, { threads: 0 });
      for (const chunkBytes of [16, 700]) {
        for (const threads of [0, 2]) {
          const other = await checkEntries(path, signed, { threads, chunkBytes });
          assert.deepEqual(other, here, `${name}: ${threads} threads, ${chunkBytes}-byte chunks`);
        }
      }
      assert.equal(
        here.anomalies.length > 0 || here.firstMismatch !== undefined,
        name !== 'intact',
      );
    }
  });

  it('stops at a line over the size limit', async () => {
    const b = await buildBundle({ n: 4 });
    bundles.push(b);
    const lines = await readLines(b.dir);
    await writeLines(b.dir, [...lines.slice(0, 2), Buffer.alloc(MAX_ENTRY_BYTES + 1, 0x20)]);
    for (const threads of [0, 1]) {
      const report = await verifyBundle(b.dir, { threads });
      assert.ok(!report.ok);
      assert.deepEqual(
        report.problems.map((p) => [p.code, p.index]),
        [['entry_too_large', 2]],
      );
    }
  });
});

describe('fast canonical scanner', () => {
  // A small deterministic generator (mulberry32), so failures reproduce.
  let seed = 0x6a7e;
  const rand = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const strings = [
    '',
    'a',
    'index',
    'v',
    'prev',
    'é',
    'Z',
    '10',
    '9',
    '"',
    '\\',
    '/',
    '\n',
    '\u0001',
    '\u001f',
    '\u007f',
    '\u2028',
    '😀',
    'a b',
  ];
  const numbers = [
    0,
    -0,
    1,
    -1,
    7,
    1.5,
    -2.25,
    1e21,
    1e-7,
    2 ** 53,
    123456789012345,
    1234567890123456,
  ];
  function value(depth: number): unknown {
    const r = rand();
    if (depth > 3 || r < 0.3) return pick<unknown>([...strings, ...numbers, true, false, null]);
    if (r < 0.5) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rand() * 5); i > 0; i--) o[pick(strings)] = value(depth + 1);
    return o;
  }
  const scanner = new CanonicalScanner();

  it('never accepts a text the reference refuses, and accepts plain canonical entries', () => {
    let accepted = 0;
    for (let n = 0; n < 4000; n++) {
      const v = { v: 1, index: n, body: value(0) };
      const canonical = canonicalJson(v);
      const variants = [canonical, JSON.stringify(v), JSON.stringify(v, null, 1)];
      const bytes = Buffer.from(canonical, 'utf8');
      for (let k = 0; k < 4; k++) {
        const edited = Buffer.from(bytes);
        edited[Math.floor(rand() * edited.length)] = pick([
          0x20, 0x22, 0x2c, 0x30, 0x31, 0x5c, 0x61, 0x7b, 0x7d, 0x5d, 0x2e, 0x65, 0x2d,
        ]);
        variants.push(edited.toString('utf8'));
      }
      for (const text of variants) {
        if (!scanner.scan(Buffer.from(text, 'utf8'), 0)) continue;
        accepted += 1;
        let parsed: unknown;
        assert.doesNotThrow(() => (parsed = JSON.parse(text)), text);
        assert.ok(isCanonicalText(text, parsed), `accepted non-canonical ${text}`);
      }
    }
    assert.ok(accepted > 4000, `the fast path accepted only ${accepted}`);
    const plain = Buffer.from(
      canonicalJson({ v: 1, index: 3, prev: ZERO_PREV, x: [1, 'a\tb', null] }),
    );
    assert.ok(scanner.scan(plain, 0));
    assert.deepEqual(
      [scanner.vStart, scanner.indexStart, scanner.prevStart].map((p) => plain[p]),
      [0x31, 0x33, 0x22],
    );
  });
});
