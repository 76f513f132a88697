import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyAttestation,
  verifyConsistency,
  verifyInclusion,
  type NoteVerifier,
} from '../src/audit/index.js';
import { canonicalJson } from '../src/crypto/index.js';
import { createAdminKey } from '../src/identity/index.js';
import { exportAudit, runCliAsync } from './helpers/cli.js';
import { BIN, eventually, startGatehouse, type Running } from './helpers/gatehouse.js';
import { quickstartCopy, type PolicySetup } from './helpers/policy-setup.js';
import { receiptOf } from './helpers/receipts.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

interface ProvenJson {
  index: number;
  leaf_hash: string;
  leaf: string;
  entry: Record<string, unknown>;
  tree_size: number;
  inclusion_proof: string[];
  checkpoint: string;
}

/** The audit log end to end: receipts, proofs over HTTP, export, offline verify, attest, tail. */
describe('audit log', () => {
  let setup: PolicySetup;
  let gh: Running;
  let client: Client;
  let admin: string;
  let token: string;
  let verifier: NoteVerifier;

  before(async () => {
    setup = quickstartCopy(
      [],
      ['audit: { origin: audit.example.test/log, checkpoint_interval: 1h }'],
    );
    gh = await startGatehouse(setup.config());
    token = await gh.mint();
    client = await gh.client(token);
    admin = (await createAdminKey(gh.rt.store, 'audra', 'admin', Date.now())).key;
    const vkey = await (await fetch(new URL('/v1/audit/log.vkey', gh.url))).text();
    const parsed = parseVerifierKey(vkey.trim());
    assert.ok(parsed.ok, 'the log serves its verifier key');
    verifier = parsed.key;
    assert.equal(verifier.name, 'audit.example.test/log');
  });
  after(async () => gh.close());

  async function get(path: string, key = admin): Promise<Response> {
    return fetch(new URL(path, gh.url), { headers: { authorization: `Bearer ${key}` } });
  }

  function rootOf(note: string, size: number): Uint8Array {
    const opened = openCheckpoint(note, [verifier], verifier.name);
    assert.ok(opened.ok, 'the checkpoint is signed by the log key');
    assert.equal(opened.checkpoint.size, size);
    return opened.checkpoint.rootHash;
  }

  async function proven(index: number, key = admin, treeSize?: number): Promise<ProvenJson> {
    const query = treeSize === undefined ? '' : `?tree_size=${treeSize}`;
    const res = await get(`/v1/audit/entries/${index}${query}`, key);
    assert.equal(res.status, 200);
    return (await res.json()) as ProvenJson;
  }

  it('gives every answer a receipt whose entry is provably in the signed log', async () => {
    const allowed = await client.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c-1001', amount: 20 },
    });
    assert.notEqual(allowed.isError, true);
    const r = receiptOf(allowed);
    assert.ok(r.result && r.result.index > r.decision.index);

    // A payment to the recipient an injected page names is refused outright.
    await client.callTool({
      name: 'web__fetch',
      arguments: { url: 'https://forum.example.net/thread/4242' },
    });
    const denied = await client.callTool({
      name: 'payments__send_money',
      arguments: { to: 'DE89370400440532013000', amount: 5 },
    });
    assert.equal(denied.isError, true);
    const d = receiptOf(denied);
    assert.equal(d.result, undefined, 'a refused call has a decision entry only');

    for (const part of [r.decision, r.result, d.decision]) {
      const p = await proven(part.index);
      assert.equal(p.leaf_hash, part.leaf_hash);
      const leaf = new TextEncoder().encode(p.leaf);
      assert.equal(hex(leafHash(leaf)), part.leaf_hash, 'the leaf hash is over the exact bytes');
      assert.equal(canonicalJson(p.entry), p.leaf, 'entries are RFC 8785 canonical JSON');
      const root = rootOf(p.checkpoint, p.tree_size);
      assert.ok(
        verifyInclusion(
          leafHash(leaf),
          part.index,
          p.tree_size,
          p.inclusion_proof.map(unhex),
          root,
        ),
      );
    }
    const invalid = await client.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c-1001', amount: 'all of it' },
    });
    assert.equal(invalid.isError, true);
    const refused = (await proven(receiptOf(invalid).decision.index)).entry;
    assert.equal(refused.outcome, 'deny', 'a refusal before policy is in the log too');
    assert.deepEqual(refused.policies, ['gatehouse.input-schema']);

    const decision = (await proven(r.decision.index)).entry;
    assert.equal(decision.type, 'decision');
    assert.equal(decision.outcome, 'allow');
    assert.deepEqual((decision.tool as { name: string }).name, 'payments__refund');
    assert.equal((decision.agent as { name: string }).name, 'support-bot');
    assert.deepEqual(decision.args, { customer: 'c-1001', amount: 20 });
    assert.match(String(decision.policy_set_hash), /^[0-9a-f]{64}$|^sha256:/);
    assert.deepEqual(decision.run, { lowest_trust: 'trusted', sources: [] });
    const result = (await proven(r.result.index)).entry;
    assert.equal(result.type, 'result');
    assert.equal(result.decision, decision.id);
    assert.match(String(result.result_digest), /^sha256:[0-9a-f]{64}$/);
    assert.equal(result.trust, 'internal');
  });

  it('lets an agent prove entries of its own run only', async () => {
    const res = await client.callTool({
      name: 'payments__get_balance',
      arguments: { customer: 'c-1001' },
    });
    const index = receiptOf(res).decision.index;
    const mine = await get(`/v1/audit/entries/${index}`, token);
    assert.equal(mine.status, 200, 'the agent reads its own entry');
    const otherRun = await get(`/v1/audit/entries/${index}`, await gh.mint());
    assert.equal(otherRun.status, 403, 'another run may not read this entry');
    const stranger = await get('/v1/audit/entries/0', 'not-a-token');
    assert.equal(stranger.status, 401);
    const missing = await get('/v1/audit/entries/99999999');
    assert.equal(missing.status, 404);
    const bad = await get('/v1/audit/entries/-1');
    assert.equal(bad.status, 400);
  });

  it('proves that a later checkpoint extends an earlier one', async () => {
    const first = await fetch(new URL('/v1/audit/checkpoint', gh.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    const note1 = await first.text();
    const size1 = Number(note1.split('\n')[1]);
    await client.callTool({ name: 'payments__get_balance', arguments: { customer: 'c-2' } });
    const second = await fetch(new URL('/v1/audit/checkpoint', gh.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    const note2 = await second.text();
    const size2 = Number(note2.split('\n')[1]);
    assert.ok(size2 > size1);
    const res = await get(`/v1/audit/consistency?from=${size1}&to=${size2}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { proof: string[] };
    assert.ok(
      verifyConsistency(
        size1,
        size2,
        body.proof.map(unhex),
        rootOf(note1, size1),
        rootOf(note2, size2),
      ),
    );
    const latest = await (await get('/v1/audit/checkpoint')).text();
    assert.equal(latest, note2);
    const old = await proven(0, admin, size1);
    assert.equal(old.checkpoint, note1, 'a proof against an earlier checkpoint when asked');
    const leaf = leafHash(new TextEncoder().encode(old.leaf));
    assert.ok(
      verifyInclusion(leaf, 0, size1, old.inclusion_proof.map(unhex), rootOf(note1, size1)),
    );
    const unissued = await get(`/v1/audit/entries/0?tree_size=${size1 + 1}`);
    assert.equal(unissued.status, 400);
    assert.equal((await get(`/v1/audit/consistency?from=${size2}&to=${size1}`)).status, 400);
  });

  it('records administrative changes as entries', async () => {
    await gh.rt.store.addLockdown({
      pattern: 'payments__send_money',
      reason: 'incident 42',
      by: 'audra',
      time: Date.now(),
    });
    await gh.rt.authority.rotateKey('audra');
    const reload = await fetch(new URL('/v1/policies/reload', gh.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(reload.status, 200);
    const size = await gh.rt.store.auditSize();
    const entries = await gh.rt.store.auditEntries(0, size);
    const kinds = entries
      .map((e) => JSON.parse(Buffer.from(e.leaf).toString('utf8')) as { kind?: string })
      .map((e) => e.kind)
      .filter(Boolean);
    for (const kind of ['admin_key.create', 'lockdown.add', 'key.rotate', 'policy.reload'])
      assert.ok(kinds.includes(kind), `${kind} is in the log`);
  });

  it('exports a bundle that verifies offline, and names the first tampered entry', async () => {
    const { out, result: exported } = await exportAudit(setup.configPath);
    assert.match(exported.out, /Exported \d+ entries/);
    const vkey = readFileSync(join(out, 'log.vkey'), 'utf8').trim();
    assert.equal(vkey.split('+')[0], verifier.name);

    const ok = await runCliAsync(['audit', 'verify', out, '--key', join(out, 'log.vkey')]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /^OK: \d+ entries/);

    const lines = readFileSync(join(out, 'entries.jsonl'), 'utf8').split('\n');
    const target = 3;
    lines[target] = (lines[target] ?? '').replace('"v":1', '"v":2');
    writeFileSync(join(out, 'entries.jsonl'), lines.join('\n'));
    const bad = await runCliAsync(['audit', 'verify', out, '--key', vkey]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, new RegExp(`First bad entry: ${target}\\.`));
  });

  it('attests one entry in a DSSE envelope that verifies with the log key', async () => {
    const res = await runCliAsync(['audit', 'attest', '2', '--config', setup.configPath]);
    assert.equal(res.code, 0, res.err);
    const envelope = JSON.parse(res.out) as unknown;
    const v = verifyAttestation(envelope, verifier);
    assert.ok(v.ok, v.ok ? '' : v.message);
    assert.equal(v.index, 2);
    const tampered = JSON.parse(res.out) as { payload: string };
    tampered.payload = Buffer.from('{}').toString('base64');
    assert.equal(verifyAttestation(tampered, verifier).ok, false);
    const none = await runCliAsync(['audit', 'attest', '999999', '--config', setup.configPath]);
    assert.equal(none.code, 1);
    assert.match(none.err, /no entry 999999/);
  });

  it('tails entries as JSON that stays verifiable', async () => {
    const res = await runCliAsync([
      'audit',
      'tail',
      '-n',
      '4',
      '--json',
      '--config',
      setup.configPath,
    ]);
    assert.equal(res.code, 0, res.err);
    const lines = res.out.trim().split('\n');
    assert.equal(lines.length, 4);
    for (const line of lines) {
      const j = JSON.parse(line) as { index: number; leaf_hash: string; entry: unknown };
      const leaf = new TextEncoder().encode(canonicalJson(j.entry));
      assert.equal(hex(leafHash(leaf)), j.leaf_hash);
    }
    const people = await runCliAsync(['audit', 'tail', '-n', '2', '--config', setup.configPath]);
    assert.equal(people.code, 0, people.err);
    assert.equal(people.out.trim().split('\n').length, 2);
  });

  it('follows the log from a remote Gatehouse as entries land', async () => {
    const child = spawn(
      'node',
      [BIN, 'audit', 'tail', '-f', '-n', '1', '--json', '--url', gh.url.origin],
      {
        env: { PATH: process.env.PATH ?? '', GATEHOUSE_ADMIN_KEY: admin },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      // The latest entry comes first: once it is printed, the tail is following.
      await eventually(() => out.includes('\n'), 10_000);
      const res = await client.callTool({
        name: 'payments__get_balance',
        arguments: { customer: 'c-9' },
      });
      const { decision } = receiptOf(res);
      await eventually(() => out.includes(`"index":${decision.index},`), 10_000);
      const line = out.split('\n').find((l) => l.includes(`"index":${decision.index},`)) ?? '';
      const j = JSON.parse(line) as { leaf_hash: string; entry: { type: string } };
      assert.equal(j.leaf_hash, decision.leaf_hash);
      assert.equal(j.entry.type, 'decision');
    } finally {
      child.kill();
    }
  });
});
