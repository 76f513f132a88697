/**
 * The verifier on malformed bundles: bad lines (not JSON, not canonical, missing fields, BOM, CRLF,
 * huge numbers), bad checkpoint files, missing files and folders. Each must give a clear problem
 * naming the entry or file, never an exception. Also: writeBundle refuses bad input.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readBundle, writeBundle } from '../src/audit/bundle.js';
import { verifyBundle, type VerifyReport } from '../src/audit/verify.js';
import { isGatehouseError } from '../src/errors/index.js';
import { canonicalJson } from '../src/crypto/index.js';
import {
  ZERO_PREV,
  buildBundle,
  chain,
  checkpointNote,
  eventFields,
  makeEntries,
  prevOf,
  readLines,
  tempDir,
  testKey,
  writeLines,
  type TestBundle,
} from './helpers/audit-bundle.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function fresh(n = 8, sizes = [4, 8]): Promise<TestBundle> {
  const b = await buildBundle({ n, sizes });
  cleanups.push(b.cleanup);
  return b;
}

function problem(report: VerifyReport, code: string, index?: number): string {
  assert.equal(report.ok, false);
  const problems = report.ok ? [] : report.problems;
  const found = problems.find((p) => p.code === code && (index === undefined || p.index === index));
  assert.ok(found, `expected ${code} at ${index} in ${JSON.stringify(problems)}`);
  return found.message;
}

/** Entry 3 of a fresh bundle replaced by `line`; the report must name it with `code`. */
async function badLine(line: string | Buffer, code: string, pattern?: RegExp): Promise<void> {
  const b = await fresh();
  const lines = await readLines(b.dir);
  lines[3] = Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8');
  await writeLines(b.dir, lines);
  const report = await verifyBundle(b.dir);
  const message = problem(report, code, 3);
  if (pattern) assert.match(message, pattern);
  assert.equal(report.ok ? -1 : report.firstBadIndex, 3, JSON.stringify(report));
}

/** Entry 3 as canonical JSON of `fields` (index and prev right unless overridden). */
function entry3(fields: Record<string, unknown>): string {
  const lines = makeEntries(3);
  return canonicalJson({ v: 1, index: 3, prev: prevOf(lines[2] ?? assert.fail()), ...fields });
}

describe('verify: malformed entries', () => {
  it('an empty entries file is truncated at entry 0', async () => {
    const b = await fresh();
    await writeFile(b.path('entries.jsonl'), '');
    assert.match(problem(await verifyBundle(b.dir), 'truncated', 0), /holds 0 complete entries/);
  });

  it('names lines that are not JSON objects', async () => {
    await badLine('{"v":1,"index":3', 'not_json', /not valid JSON/);
    await badLine('[1,2,3]', 'not_object', /array/);
    await badLine('"just a string"', 'not_object', /string/);
    await badLine('null', 'not_object', /null/);
    await badLine('', 'not_json', /blank line/);
    await badLine(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not_utf8', /UTF-8/);
  });

  it('names non-canonical JSON: spaces, key order, escapes, numbers', async () => {
    const good = entry3({});
    await badLine(good.replace('"v":1', '"v": 1'), 'not_canonical', /canonical/);
    await badLine(`{"v":1,${good.slice(1).replace(',"v":1', '')}`, 'not_canonical');
    await badLine(good.replace('"v":1', '"v":1.0'), 'not_canonical');
    await badLine(good.replace('"v":1', '"v":1e0'), 'not_canonical');
    await badLine(good.replace('"v":1', '"v":1,"v":1'), 'not_canonical');
    await badLine(entry3({ x: 'a/b' }).replace('a/b', 'a\\/b'), 'not_canonical');
    await badLine(entry3({ x: 'A' }).replace('"A"', '"\\u0041"'), 'not_canonical');
  });

  it('names missing or wrong fields', async () => {
    const good = entry3({});
    await badLine(good.replace(',"v":1', ''), 'bad_version', /"v": 1/);
    await badLine(good.replace('"v":1', '"v":2'), 'bad_version');
    await badLine(good.replace(/"index":3,/, ''), 'bad_index', /index/);
    await badLine(good.replace(/"index":3/, '"index":"3"'), 'bad_index');
    await badLine(good.replace(/"index":3/, '"index":-3'), 'bad_index');
    await badLine(good.replace(/"prev":"[0-9a-f]{64}",/, ''), 'bad_prev', /prev/);
    await badLine(good.replace(/"prev":"([0-9a-f]{64})"/, '"prev":"$1aa"'), 'bad_prev');
    await badLine(entry3({ prev: ZERO_PREV.toUpperCase().replace(/0/g, 'A') }), 'bad_prev');
  });

  it('names huge numbers', async () => {
    const good = entry3({});
    await badLine(good.replace(/"index":3/, '"index":1e400'), 'not_canonical');
    await badLine(good.replace(/"index":3/, '"index":99999999999999999999'), 'not_canonical');
    await badLine(good.replace(/"index":3/, '"index":100000000000000000000'), 'bad_index');
    await badLine(entry3({ detail: { n: 1e300 } }), 'chain_broken');
  });

  it('names a byte order mark and CRLF line endings', async () => {
    const b = await fresh();
    const lines = await readLines(b.dir);
    await writeLines(b.dir, [
      Buffer.concat([Buffer.from('\uFEFF'), lines[0] ?? assert.fail()]),
      ...lines.slice(1),
    ]);
    assert.match(problem(await verifyBundle(b.dir), 'not_json', 0), /byte order mark/);
    await writeLines(b.dir, lines, { ending: '\r\n' });
    const report = await verifyBundle(b.dir);
    assert.match(problem(report, 'not_canonical', 0), /CRLF/);
    assert.equal(report.ok ? -1 : report.firstBadIndex, 0);
  });

  it('accepts canonical entries the fast path defers (floats, escapes, non-ASCII keys)', async () => {
    const details = [
      { n: 1.5, big: 1e21, small: -2.5e-7, long: 123456789012345680000 },
      { s: 'tab\there "quoted" back\\slash \u0001 \u001f \u2028 é 😀', e: '', z: [[], {}, [null]] },
      { é: 1, z: 2, '10': 3, '9': 4, 'a\nb': 5, '\u0000': 6 },
      { deep: JSON.parse('['.repeat(70) + ']'.repeat(70)) as unknown },
    ];
    const entries = makeEntries(6, (i) => ({ ...eventFields(i), detail: details[i % 4] }));
    const b = await buildBundle({ entries, sizes: [2, 6] });
    cleanups.push(b.cleanup);
    const report = await verifyBundle(b.dir);
    assert.ok(report.ok, JSON.stringify(report));
  });
});

describe('verify: malformed bundle files', () => {
  it('names a checkpoint file that is not named by a size, and a garbage checkpoint', async () => {
    const b = await fresh();
    await writeFile(b.path('checkpoints/latest'), await readFile(b.path('checkpoint')));
    assert.match(problem(await verifyBundle(b.dir), 'bad_checkpoint_name'), /checkpoints\/latest/);
    await rm(b.path('checkpoints/latest'));
    await writeFile(b.path('checkpoints/4'), 'garbage\u0000\n');
    assert.match(problem(await verifyBundle(b.dir), 'bad_checkpoint'), /checkpoints\/4/);
    await writeFile(b.path('checkpoints/4'), Buffer.from([0xff, 0x00, 0x80]));
    problem(await verifyBundle(b.dir), 'bad_checkpoint');
    await writeFile(b.path('checkpoints/4'), 'a\n4\nnot base64\n\n— x AAAA\n');
    problem(await verifyBundle(b.dir), 'bad_checkpoint');
  });

  it('names an oversized checkpoint and a bad log.vkey', async () => {
    const b = await fresh();
    await writeFile(b.path('log.vkey'), 'not a key\n');
    assert.match(problem(await verifyBundle(b.dir), 'bad_key'), /log\.vkey/);
    await writeFile(b.path('checkpoints/4'), Buffer.alloc(2 << 20, 0x41));
    problem(await verifyBundle(b.dir), 'too_large');
  });

  it('names every missing file of an empty folder, and a missing folder', async () => {
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const report = await verifyBundle(dir);
    assert.ok(!report.ok);
    assert.deepEqual(
      report.problems.map((p) => p.code),
      ['missing_file', 'missing_file', 'missing_file', 'missing_file'],
    );
    assert.match(problem(await verifyBundle(join(dir, 'nope')), 'missing_dir'), /no folder/);
    await writeFile(join(dir, 'file'), 'x');
    assert.match(problem(await verifyBundle(join(dir, 'file')), 'missing_dir'), /not a folder/);
    await mkdir(join(dir, 'checkpoints'));
    await writeFile(join(dir, 'checkpoint'), '');
    await writeFile(join(dir, 'log.vkey'), `${testKey().vkey}\n`);
    await writeFile(join(dir, 'entries.jsonl'), '');
    problem(await verifyBundle(dir), 'no_checkpoints');
    const read = await readBundle(join(dir, 'nope'));
    assert.equal(read.ok, false);
  });

  it('names an entries.jsonl that is a folder', async () => {
    const b = await fresh();
    await rm(b.path('entries.jsonl'));
    await mkdir(b.path('entries.jsonl'));
    problem(await verifyBundle(b.dir), 'unreadable');
  });
});

describe('writeBundle refuses bad input', () => {
  const key = testKey();
  const entries = makeEntries(4);
  const checkpoints = [checkpointNote(entries, 4, key)];

  it('refuses a non-empty folder unless told to overwrite, then replaces checkpoints/', async () => {
    const b = await fresh();
    const input = { entries, checkpoints, vkey: key.vkey };
    await assert.rejects(writeBundle(b.dir, input), (e) =>
      isGatehouseError(e, 'AUDIT_BUNDLE_EXISTS'),
    );
    await writeBundle(b.dir, input, { overwrite: true });
    const report = await verifyBundle(b.dir);
    assert.ok(
      report.ok && report.entries === 4 && report.checkpoints === 1,
      JSON.stringify(report),
    );
  });

  it('refuses entries with newlines, too few entries, bad keys and bad checkpoints', async () => {
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const invalid = (e: unknown) => isGatehouseError(e, 'AUDIT_BUNDLE_INVALID');
    const bad = [Buffer.from('{"a":\n1}'), ...entries.slice(1)];
    await assert.rejects(
      writeBundle(join(dir, 'a'), { entries: bad, checkpoints, vkey: key.vkey }),
      invalid,
    );
    const few = entries.slice(0, 3);
    await assert.rejects(
      writeBundle(join(dir, 'b'), { entries: few, checkpoints, vkey: key.vkey }),
      invalid,
    );
    await assert.rejects(writeBundle(join(dir, 'c'), { entries, checkpoints, vkey: 'x' }), invalid);
    await assert.rejects(
      writeBundle(join(dir, 'd'), { entries, checkpoints: [], vkey: key.vkey }),
      invalid,
    );
    const forked = [...checkpoints, checkpointNote(chain([{ x: 1 }, {}, {}, {}]), 4, key)];
    await assert.rejects(
      writeBundle(join(dir, 'e'), { entries, checkpoints: forked, vkey: key.vkey }),
      invalid,
    );
  });

  it('writes only the entries the latest checkpoint covers, from an async source', async () => {
    const dir = join(await tempDir(), 'bundle');
    cleanups.push(() => rm(join(dir, '..'), { recursive: true, force: true }));
    async function* source() {
      for (const entry of makeEntries(10)) yield await Promise.resolve(entry);
    }
    const result = await writeBundle(dir, { entries: source(), checkpoints, vkey: key.vkey });
    assert.deepEqual(result, { entries: 4, checkpoints: 1, size: 4 });
    assert.ok((await verifyBundle(dir)).ok);
  });
});
