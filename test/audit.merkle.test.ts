/**
 * Merkle tree primitives: known answers, the transparency-dev/merkle golden proofs, and tampering.
 *
 * Vectors: RFC 6962 test vectors from github.com/transparency-dev/merkle (commit 417fb0c3, Apache
 * License 2.0), read from `<repo>/../shared/vectors/merkle/`: leaves, subtree hashes and roots from
 * VECTORS.md (testonly/constants.go, rfc6962/rfc6962_test.go), proofs from testdata/ (see LICENSE
 * there). They are not copied into this repository; a missing folder or file fails these tests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  type SubtreeHash,
} from '../src/audit/index.js';
import { sharedDir } from './helpers/paths.js';

const VECTOR_DIR = join(sharedDir(), 'vectors', 'merkle');
const TESTDATA = join(VECTOR_DIR, 'testdata');
// Our verifier rejects every hash that is not 32 bytes; this probe uses 12-byte "roots" and equal
// sizes, which transparency-dev/merkle compares without a length check. Stricter is the safe side.
const STRICTER = new Set(['consistency/additional/sizes-are-equal-one-and-proof-is-empty.json']);

const enc = new TextEncoder();
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function unhex(text: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) throw new TypeError(`not hex: ${text}`);
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Strict base64 (Buffer.from silently drops bad characters); Go's []byte JSON is standard base64. */
function unbase64(text: unknown, where: string): Uint8Array {
  const ok =
    typeof text === 'string' && /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2,3}=*)?$/.test(text);
  if (!ok) throw new TypeError(`${where}: not base64: ${String(text)}`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function readVectorsMd(): string {
  assert.ok(existsSync(VECTOR_DIR), `Merkle vector folder is missing: ${VECTOR_DIR}`);
  return readFileSync(join(VECTOR_DIR, 'VECTORS.md'), 'utf8');
}

/** The first `count` 64-hex values after a line matching `from` in VECTORS.md, in one code block. */
function block(md: string, from: RegExp, count: number): string[] {
  const start = md.search(from);
  assert.ok(start >= 0, `VECTORS.md: no block ${String(from)}`);
  const text = md.slice(start, md.indexOf('```', start));
  const found = [...text.matchAll(/\b[0-9a-f]{64}\b/g)].map((m) => m[0]).slice(0, count);
  assert.equal(found.length, count, `VECTORS.md: ${count} hashes after ${String(from)}`);
  return found;
}

/** One testdata JSON file, with typed readers that throw on any deviation from the Go schema. */
class Probe {
  constructor(
    readonly file: string,
    private readonly doc: Record<string, unknown>,
  ) {}
  get wantErr(): boolean {
    if (typeof this.doc.wantErr !== 'boolean') throw new TypeError(`${this.file}: bad wantErr`);
    return this.doc.wantErr;
  }
  // Integers only; 2^64-1 arrives imprecise, which is fine: it must be refused either way.
  int(key: string): number {
    const v = this.doc[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${this.file}: ${key}`);
    return v;
  }
  hash(key: string): Uint8Array {
    return unbase64(this.doc[key], `${this.file} ${key}`);
  }
  proof(): Uint8Array[] {
    const proof = this.doc.proof ?? [];
    if (!Array.isArray(proof)) throw new TypeError(`${this.file}: proof is not an array`);
    return proof.map((p, i) => unbase64(p, `${this.file} proof[${i}]`));
  }
}

function loadProbes(kind: 'inclusion' | 'consistency'): Probe[] {
  const dir = join(TESTDATA, kind);
  assert.ok(existsSync(dir), `Merkle testdata folder is missing: ${dir}`);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const doc: unknown = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      const file = relative(TESTDATA, join(dir, f)).split('\\').join('/');
      if (typeof doc !== 'object' || doc === null) throw new TypeError(`${file}: not an object`);
      return new Probe(file, doc as Record<string, unknown>);
    });
}

const inclusion = (p: Probe) => ({
  index: p.int('leafIdx'),
  size: p.int('treeSize'),
  leaf: p.hash('leafHash'),
  root: p.hash('root'),
  proof: p.proof(),
});

const consistency = (p: Probe) => ({
  size1: p.int('size1'),
  size2: p.int('size2'),
  root1: p.hash('root1'),
  root2: p.hash('root2'),
  proof: p.proof(),
});

const md = readVectorsMd();
const leafInputs = [...md.slice(md.indexOf('LeafInputs():')).matchAll(/hd\("([0-9a-f]*)"\)/g)]
  .slice(0, 8)
  .map((m) => unhex(m[1] ?? ''));
const leaves = block(md, /^level 0 /m, 8).map(unhex);
const roots = block(md, /^n=0 /m, 9).map(unhex);

/** A store-style accessor that records any range outside the contract documented on SubtreeHash. */
function storeSource(hashes: readonly Uint8Array[], treeSize: number, bad: string[]): SubtreeHash {
  return (start, end) => {
    let width = 1;
    while (width < end - start) width *= 2;
    const ok = start % width === 0 && (end - start === width || end === treeSize);
    if (!ok) bad.push(`${start}-${end} of ${treeSize}`);
    return rootOf(hashes.slice(start, end));
  };
}

void describe('Merkle known answers (VECTORS.md)', () => {
  void it('primitive hashes match rfc6962_test.go', () => {
    const want = new Map(
      [...md.matchAll(/desc: "([^"]+)",\s+want: "([0-9a-f]{64})"/g)].map((m) => [m[1], m[2]]),
    );
    assert.equal(want.size, 4, 'VECTORS.md: expected 4 primitive vectors');
    assert.equal(hexOf(rootOf([])), want.get('RFC6962 Empty'));
    assert.equal(hexOf(leafHash(new Uint8Array())), want.get('RFC6962 Empty Leaf'));
    assert.equal(hexOf(leafHash(enc.encode('L123456'))), want.get('RFC6962 Leaf'));
    assert.equal(hexOf(nodeHash(enc.encode('N123'), enc.encode('N456'))), want.get('RFC6962 Node'));
  });

  void it('leaf hashes, complete subtrees and roots of 0–8 leaves match constants.go', () => {
    assert.equal(leafInputs.length, 8);
    assert.deepEqual(leafInputs.map(leafHash), leaves);
    for (const level of [1, 2, 3]) {
      const want = block(md, new RegExp(`^level ${level} `, 'm'), 8 / 2 ** level);
      const width = 2 ** level;
      const got = want.map((_, i) => hexOf(rootOf(leaves.slice(i * width, (i + 1) * width))));
      assert.deepEqual(got, want, `level ${level}`);
    }
    roots.forEach((root, n) => assert.deepEqual(rootOf(leaves.slice(0, n)), root, `n=${n}`));
  });
});

void describe('Merkle proofs (transparency-dev/merkle testdata)', () => {
  const inclusionProbes = loadProbes('inclusion');
  const consistencyProbes = loadProbes('consistency');

  void it('every probe gets the expected verdict', () => {
    // VECTORS.md: 196 files in all; a partial copy must not pass quietly.
    assert.equal(inclusionProbes.length + consistencyProbes.length, 196);
    const failures: string[] = [];
    const check = (p: Probe, got: boolean): void => {
      const want = STRICTER.has(p.file) ? false : !p.wantErr;
      if (got !== want) failures.push(`${p.file}: want ${want}, got ${got}`);
    };
    for (const p of inclusionProbes) {
      const v = inclusion(p);
      check(p, verifyInclusion(v.leaf, v.index, v.size, v.proof, v.root));
    }
    for (const p of consistencyProbes) {
      const v = consistency(p);
      check(p, verifyConsistency(v.size1, v.size2, v.proof, v.root1, v.root2));
    }
    assert.deepEqual(failures, []);
    for (const file of STRICTER) {
      const p = consistencyProbes.find((c) => c.file === file) ?? assert.fail(`${file}: missing`);
      assert.ok(!p.wantErr && consistency(p).root1.length !== 32, `${file}: not the known case`);
    }
  });

  void it('generators reproduce every accepted proof byte for byte', () => {
    let reproduced = 0;
    for (const p of inclusionProbes.filter((q) => !q.wantErr)) {
      const v = inclusion(p);
      const std = roots[v.size];
      const tree = std !== undefined && hexOf(std) === hexOf(v.root) ? leaves : [v.leaf];
      assert.deepEqual(rootOf(tree.slice(0, v.size)), v.root, p.file);
      assert.deepEqual(inclusionProof(tree, v.index, v.size), v.proof, p.file);
      reproduced += 1;
    }
    for (const p of consistencyProbes.filter((q) => !q.wantErr && !STRICTER.has(q.file))) {
      const v = consistency(p);
      assert.deepEqual(rootOf(leaves.slice(0, v.size1)), v.root1, p.file);
      assert.deepEqual(rootOf(leaves.slice(0, v.size2)), v.root2, p.file);
      assert.deepEqual(consistencyProof(leaves, v.size1, v.size2), v.proof, p.file);
      reproduced += 1;
    }
    assert.equal(reproduced, 11);
  });
});

/** Every way to spoil a valid proof: drop or add a hash, or flip one bit in each element. */
function tamperings(proof: readonly Uint8Array[], extra: Uint8Array): Uint8Array[][] {
  const flips = proof.map((_, at) =>
    proof.map((h, i) => (i === at ? h.map((b, j) => (j === at % 32 ? b ^ 0x80 : b)) : h)),
  );
  return [...flips, [...proof, extra], ...(proof.length > 0 ? [proof.slice(1)] : [])];
}

void describe('Merkle round trips and tampering (trees of 1–33 leaves)', () => {
  const hashes = Array.from({ length: 33 }, (_, i) => leafHash(enc.encode(`entry ${i}`)));
  const rootAt = Array.from({ length: 34 }, (_, n) => rootOf(hashes.slice(0, n)));
  const root = (n: number): Uint8Array => rootAt[n] ?? assert.fail(`no root ${n}`);
  const bad: string[] = [];

  void it('inclusion proofs verify, and fail for any other index, size, leaf, root or bit', () => {
    for (let n = 1; n <= 33; n++) {
      for (let i = 0; i < n; i++) {
        const leaf = hashes[i] ?? assert.fail();
        const proof = inclusionProof(hashes, i, n);
        assert.deepEqual(inclusionProof(storeSource(hashes, n, bad), i, n), proof);
        assert.ok(verifyInclusion(leaf, i, n, proof, root(n)), `leaf ${i} of ${n}`);
        for (let j = 0; j < n; j++) {
          if (j !== i) assert.equal(verifyInclusion(leaf, j, n, proof, root(n)), false);
        }
        for (let m = i + 1; m <= 33; m++) {
          if (m !== n) assert.equal(verifyInclusion(leaf, i, m, proof, root(m)), false);
        }
        assert.equal(verifyInclusion(hashes[(i + 1) % 33] ?? leaf, i, n, proof, root(n)), false);
        assert.equal(verifyInclusion(leaf, i, n, proof, root(n - 1)), false);
        for (const t of tamperings(proof, leaf)) {
          assert.equal(verifyInclusion(leaf, i, n, t, root(n)), false, `leaf ${i} of ${n}`);
        }
      }
    }
    assert.deepEqual(bad, [], 'ranges outside the SubtreeHash contract');
  });

  void it('binds the size only through the root, as RFC 9162 does: take both from one checkpoint', () => {
    // Leaf 0 of 5 and of 6 take the same turns, so only the root tells the sizes apart.
    const [proof, leaf] = [inclusionProof(hashes, 0, 5), hashes[0] ?? assert.fail()];
    assert.ok(verifyInclusion(leaf, 0, 6, proof, root(5)));
    assert.equal(verifyInclusion(leaf, 0, 6, proof, root(6)), false);
  });

  void it('consistency proofs verify, and fail for other sizes, roots, lengths or bits', () => {
    for (let n = 1; n <= 33; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(hashes, m, n);
        assert.deepEqual(consistencyProof(storeSource(hashes, n, bad), m, n), proof);
        assert.ok(verifyConsistency(m, n, proof, root(m), root(n)), `${m} -> ${n}`);
        if (m === n) {
          assert.deepEqual(proof, []);
          continue;
        }
        assert.equal(verifyConsistency(m, n, proof, root(n), root(m)), false, 'swapped roots');
        assert.equal(verifyConsistency(m, n, proof, root(m === 1 ? 2 : m - 1), root(n)), false);
        assert.equal(verifyConsistency(m, n, proof, root(m), root(n - 1)), false);
        for (const t of tamperings(proof, root(m))) {
          assert.equal(verifyConsistency(m, n, t, root(m), root(n)), false, `${m} -> ${n}`);
        }
        for (let m2 = 1; m2 < n; m2++) {
          if (m2 !== m) assert.equal(verifyConsistency(m2, n, proof, root(m2), root(n)), false);
        }
      }
    }
    assert.deepEqual(bad, [], 'ranges outside the SubtreeHash contract');
  });
});
