/**
 * Offline verification of export bundles: a valid bundle passes, and every kind of tampering with
 * the entries (edit, drop, swap, insert, truncate, forged append, consistent rewrite) or with the
 * signed files (checkpoint signatures, keys, origins) fails, naming the right entry and problem.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { leafHash, rootOf } from '../src/audit/merkle.js';
import { verifyBundle, type VerifyReport } from '../src/audit/verify.js';
import {
  OTHER_SEED,
  buildBundle,
  chain,
  checkpointNote,
  editLines,
  eventFields,
  prevOf,
  readLines,
  replaceText,
  testKey,
  writeLines,
  type TestBundle,
} from './helpers/audit-bundle.js';

// 20 entries; a checkpoint at 19 and 20 lets a change to the last entry be told from the others.
const N = 20;
const SIZES = [1, 4, 7, 8, 13, 16, 19, 20];
const bundles: TestBundle[] = [];
after(async () => {
  for (const b of bundles) await b.cleanup();
});

async function fresh(options: Parameters<typeof buildBundle>[0] = {}): Promise<TestBundle> {
  const b = await buildBundle({ n: N, sizes: SIZES, ...options });
  bundles.push(b);
  return b;
}

type Failed = Extract<VerifyReport, { ok: false }>;

function failed(report: VerifyReport): Failed {
  assert.equal(report.ok, false, 'the bundle must not verify');
  return report;
}

/** The report fails with a problem of `code` (at `index`, when given) and names `firstBad`. */
function assertBad(
  report: VerifyReport,
  code: string,
  firstBad: number | undefined,
  index?: number,
) {
  const r = failed(report);
  const summary = JSON.stringify(r.problems, null, 1);
  assert.ok(
    r.problems.some((p) => p.code === code && (index === undefined || p.index === index)),
    `expected ${code}${index === undefined ? '' : ` at ${index}`} in ${summary}`,
  );
  assert.equal(r.firstBadIndex, firstBad, summary);
  for (const p of r.problems) assert.match(p.message, /^[A-Za-z].*\.$/, 'one sentence');
}

describe('verify: valid bundles', () => {
  it('verifies a valid bundle, with the key from the bundle or a trusted one', async () => {
    const b = await fresh();
    const report = await verifyBundle(b.dir);
    assert.ok(report.ok, JSON.stringify(report));
    const root = Buffer.from(rootOf(b.entries.map((e) => leafHash(e)))).toString('base64');
    assert.deepEqual(report, {
      ok: true,
      entries: N,
      checkpoints: SIZES.length,
      size: N,
      rootHash: root,
      keyName: b.key.signer.name,
      keyId: b.key.vkey.split('+')[1],
      keyFromBundle: true,
    });
    const trusted = await verifyBundle(b.dir, { key: b.key.vkey });
    assert.ok(trusted.ok && !trusted.keyFromBundle);
  });

  it('verifies checkpoints at every size from 0 to 40 (roots and consistency proofs)', async () => {
    const sizes = Array.from({ length: 41 }, (_, i) => i);
    const b = await fresh({ n: 40, sizes });
    const report = await verifyBundle(b.dir);
    assert.ok(report.ok && report.checkpoints === 41, JSON.stringify(report));
  });
});

describe('verify: tampered entries', () => {
  it('an edit inside entry i (first, middle) breaks the chain at i + 1 and names i', async () => {
    for (const i of [0, 1, 10, 17]) {
      const b = await fresh();
      await editLines(b.dir, (ls) =>
        ls.map((l, j) => (j === i ? replaceText(l, `entry ${i}"`, `entrz ${i}"`) : l)),
      );
      assertBad(await verifyBundle(b.dir), 'chain_broken', i, i);
    }
  });

  it('an edit inside the last entry is caught by the root of the last checkpoint', async () => {
    const b = await fresh();
    await editLines(b.dir, (ls) =>
      ls.map((l, j) => (j === N - 1 ? replaceText(l, 'entry', 'entrz') : l)),
    );
    assertBad(await verifyBundle(b.dir), 'root_mismatch', N - 1, N - 1);
  });

  it('a one-byte edit at any position of an entry names that entry', async () => {
    const b = await fresh();
    const original = await readLines(b.dir);
    for (const i of [0, 9, N - 1]) {
      const line = original[i] ?? assert.fail();
      // Every byte of a middle entry; a sample of the first and the last.
      const all = Array.from({ length: line.length }, (_, k) => k);
      for (const at of i === 9 ? all : [0, 5, 12, 40, 95, line.length - 1]) {
        const lines = original.map((l, j) => (j === i ? Buffer.from(l) : l));
        const edited = lines[i] ?? assert.fail();
        edited[at] = edited[at] === 0x31 ? 0x32 : 0x31;
        await writeLines(b.dir, lines);
        const r = failed(await verifyBundle(b.dir));
        assert.equal(r.firstBadIndex, i, `byte ${at} of entry ${i}: ${JSON.stringify(r.problems)}`);
      }
    }
  });

  it('an edited prev names its own entry, also in the last entry', async () => {
    for (const i of [5, N - 1]) {
      const b = await fresh();
      const lines = await readLines(b.dir);
      const line = lines[i] ?? assert.fail();
      const prev = prevOf(lines[i - 1] ?? assert.fail());
      const flipped = `${prev.slice(0, 10)}${prev[10] === 'a' ? 'b' : 'a'}${prev.slice(11)}`;
      lines[i] = replaceText(line, prev, flipped);
      await writeLines(b.dir, lines);
      assertBad(await verifyBundle(b.dir), 'chain_broken', i, i);
    }
  });

  it('an edited index names that entry', async () => {
    const b = await fresh();
    await editLines(b.dir, (ls) =>
      ls.map((l, j) => (j === 12 ? replaceText(l, '"index":12', '"index":11') : l)),
    );
    assertBad(await verifyBundle(b.dir), 'bad_index', 12, 12);
  });

  it('a dropped entry is named by its position', async () => {
    for (const i of [0, 6, N - 2]) {
      const b = await fresh();
      await editLines(b.dir, (ls) => ls.filter((_, j) => j !== i));
      assertBad(await verifyBundle(b.dir), 'bad_index', i, i);
    }
  });

  it('two swapped entries are named by the first', async () => {
    const b = await fresh();
    await editLines(b.dir, (ls) => [...ls.slice(0, 5), ls[6], ls[5], ...ls.slice(7)] as Buffer[]);
    assertBad(await verifyBundle(b.dir), 'bad_index', 5, 5);
  });

  it('an inserted entry is named, chained correctly or copied', async () => {
    const b = await fresh();
    const lines = await readLines(b.dir);
    const forged = chain(
      [{ ...eventFields(7), event: 'forged' }],
      7,
      prevOf(lines[6] ?? assert.fail()),
    );
    await writeLines(b.dir, [...lines.slice(0, 7), ...forged, ...lines.slice(7)]);
    assertBad(await verifyBundle(b.dir), 'bad_index', 7, 8);
    await writeLines(b.dir, [...lines.slice(0, 8), ...lines.slice(7)]);
    assertBad(await verifyBundle(b.dir), 'bad_index', 7, 8);
  });

  it('truncation names the first missing entry (whole lines, or a cut-off line)', async () => {
    const b = await fresh();
    const lines = await readLines(b.dir);
    await writeLines(b.dir, lines.slice(0, 15));
    assertBad(await verifyBundle(b.dir), 'truncated', 15, 15);
    await writeLines(b.dir, lines.slice(0, 16), { cut: 30 });
    assertBad(await verifyBundle(b.dir), 'unterminated', 15, 15);
    await writeLines(b.dir, lines, { cut: 1 });
    assertBad(await verifyBundle(b.dir), 'unterminated', N - 1, N - 1);
  });

  it('a forged entry appended with a correct chain is not covered', async () => {
    const b = await fresh();
    const lines = await readLines(b.dir);
    const forged = chain([eventFields(N)], N, prevOf(lines[N - 1] ?? assert.fail()));
    await writeLines(b.dir, [...lines, ...forged]);
    assertBad(await verifyBundle(b.dir), 'not_covered', N, N);
  });

  it('a consistent rewrite from entry k names the first entry past the last matching checkpoint', async () => {
    for (const [k, expected] of [
      [9, 8],
      [8, 8],
      [0, 0],
      [19, 19],
    ] as const) {
      const b = await fresh();
      const fields = Array.from({ length: N }, (_, i) =>
        i === k ? { ...eventFields(i), event: 'rewritten' } : eventFields(i),
      );
      await writeLines(b.dir, chain(fields));
      assertBad(await verifyBundle(b.dir), 'root_mismatch', expected, expected);
    }
  });
});

/** Rewrites a checkpoint file (and `checkpoint` when it is the latest). */
async function replaceCheckpoint(b: TestBundle, size: number, note: string): Promise<void> {
  await writeFile(b.path(`checkpoints/${size}`), note);
  if (size === N) await writeFile(b.path('checkpoint'), note);
}

describe('verify: tampered signed files', () => {
  it('an altered checkpoint signature byte is a bad signature', async () => {
    const b = await fresh();
    const note = await readFile(b.path('checkpoints/8'), 'utf8');
    const sig = note.lastIndexOf(' ') + 20;
    const altered = `${note.slice(0, sig)}${note[sig] === 'A' ? 'B' : 'A'}${note.slice(sig + 1)}`;
    await replaceCheckpoint(b, 8, altered);
    const r = failed(await verifyBundle(b.dir));
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.checkpoint]),
      [['bad_signature', 'checkpoints/8']],
    );
    assert.equal(r.firstBadIndex, undefined);
  });

  it('an altered checkpoint body (root or size) no longer verifies', async () => {
    const b = await fresh();
    const note = await readFile(b.path('checkpoints/13'), 'utf8');
    await replaceCheckpoint(b, 13, note.replace('\n13\n', '\n14\n'));
    assertBad(await verifyBundle(b.dir), 'bad_signature', undefined);
  });

  it('a checkpoint signed by another key is refused; the last one leaves entries uncovered', async () => {
    const b = await fresh();
    const other = testKey(OTHER_SEED);
    await replaceCheckpoint(b, 16, checkpointNote(b.entries, 16, other));
    assertBad(await verifyBundle(b.dir), 'unknown_signer', undefined);
    await replaceCheckpoint(b, N, checkpointNote(b.entries, N, other));
    const r = failed(await verifyBundle(b.dir));
    assert.deepEqual(
      r.problems.map((p) => p.code),
      ['unknown_signer', 'unknown_signer', 'not_covered'],
    );
  });

  it('a checkpoint for another origin is refused, signed by this key or another', async () => {
    const b = await fresh();
    await replaceCheckpoint(b, 7, checkpointNote(b.entries, 7, b.key, 'other.example/log'));
    assertBad(await verifyBundle(b.dir), 'wrong_origin', undefined);
    const b2 = await fresh();
    await replaceCheckpoint(
      b2,
      7,
      checkpointNote(b2.entries, 7, testKey(OTHER_SEED, 'other.example/log')),
    );
    assertBad(await verifyBundle(b2.dir), 'wrong_origin', undefined);
  });

  it('checkpoint must be the largest of checkpoints/, and names must match sizes', async () => {
    const b = await fresh();
    await writeFile(b.path('checkpoint'), await readFile(b.path('checkpoints/19')));
    assertBad(await verifyBundle(b.dir), 'latest_mismatch', undefined);
    const b2 = await fresh();
    await writeFile(b2.path('checkpoints/9'), await readFile(b2.path('checkpoints/8')));
    await rm(b2.path('checkpoints/8'));
    assertBad(await verifyBundle(b2.dir), 'size_mismatch', undefined);
  });

  it('a missing log.vkey is named', async () => {
    const b = await fresh();
    await rm(b.path('log.vkey'));
    const r = failed(await verifyBundle(b.dir, { key: b.key.vkey }));
    assert.deepEqual(
      r.problems.map((p) => p.code),
      ['missing_file'],
    );
    assert.match(r.problems[0]?.message ?? '', /log\.vkey/);
  });

  it('a swapped log.vkey fails the signatures, and differs from a trusted key', async () => {
    const b = await fresh();
    const other = testKey(OTHER_SEED);
    await writeFile(b.path('log.vkey'), `${other.vkey}\n`);
    const r = failed(await verifyBundle(b.dir));
    assert.ok(r.problems.length > 0 && r.problems.some((p) => p.code === 'unknown_signer'));
    assertBad(await verifyBundle(b.dir, { key: b.key.vkey }), 'key_mismatch', undefined);
    const b2 = await fresh();
    assertBad(await verifyBundle(b2.dir, { key: other.vkey }), 'key_mismatch', undefined);
    assertBad(await verifyBundle(b2.dir, { key: 'not a key' }), 'bad_trusted_key', undefined);
  });

  it('a whole log re-signed by another key passes alone but fails against the trusted key', async () => {
    const other = testKey(OTHER_SEED);
    const b = await fresh({ key: other });
    assert.ok((await verifyBundle(b.dir)).ok);
    assertBad(await verifyBundle(b.dir, { key: testKey().vkey }), 'key_mismatch', undefined);
  });
});
