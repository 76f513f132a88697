import assert from 'node:assert/strict';
import { fdatasync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { silentLogger } from '../src/log/index.js';
import { ContentGate, Decider, ResultRecorder, type Decided } from '../src/gateway/index.js';
import { Approvals } from '../src/approvals/index.js';
import { parseConfig } from '../src/config/index.js';
import { directClient } from './helpers/content.js';
import { PolicyService } from '../src/policy/index.js';
import { RunTracker } from '../src/provenance/index.js';
import { openSqliteStore, type Store, type SyncFile } from '../src/store/index.js';
import { agent, tool } from './helpers/agents.js';
import { firstText, policyDir, REPO_ROOT, startGatehouse, tempDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';
import { quickstartCopy } from './helpers/policy-setup.js';

const OPEN = '@id("open") permit (principal, action, resource);';
const FETCH = tool('web', 'fetch');

function policyService(store: Store): Promise<PolicyService> {
  return PolicyService.open({
    dir: policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, 'p.cedar': OPEN }),
    mode: 'enforce',
    shadowFiles: [],
    maxArgDepth: 8,
    maxArgBytes: 4096,
    store,
    log: silentLogger(),
    now: Date.now,
  });
}

/** Faults around the decision fail closed and are not forgotten on the next call. */
describe('gate faults', () => {
  it('retries reading lockdowns after a failed read instead of skipping them', async () => {
    const path = join(tempDir(), 'gh.db');
    const store = openSqliteStore(path);
    let failNext = false;
    // The real store, with one injected failure of the lockdown read.
    const flaky: Store = {
      ...store,
      listLockdowns: () => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('database is locked'));
        }
        return store.listLockdowns();
      },
    };
    const policy = await policyService(flaky);
    const cli = openSqliteStore(path); // another connection, as the CLI would be
    await cli.addLockdown({ pattern: 'web__*', reason: 'incident', by: 'local', time: 1 });
    failNext = true;
    await assert.rejects(policy.sync(), /database is locked/);
    await policy.sync();
    const d = policy.current().decide({ agent: agent(), tool: FETCH, args: { url: 'x' } });
    assert.equal(d.outcome, 'deny', 'the lockdown is applied on the next call');
    assert.deepEqual(d.policies, ['lockdown:web__*']);
    await cli.close();
    await store.close();
  });

  it('denies everything when a stored lockdown cannot be expressed safely', async () => {
    const path = join(tempDir(), 'gh.db');
    const store = openSqliteStore(path);
    const policy = await policyService(store);
    // Written past the validation every writer does, e.g. by hand in the database.
    const other = openSqliteStore(path);
    await other.addLockdown({ pattern: 'x" || true || "', reason: 'r', by: 'local', time: 1 });
    await other.close();
    await policy.sync();
    const d = policy.current().decide({ agent: agent(), tool: FETCH, args: { url: 'x' } });
    assert.equal(d.outcome, 'deny');
    assert.match(
      d.reason,
      /no valid policy set is loaded \(a stored lockdown pattern is malformed\)/,
    );
    await store.close();
  });

  it('refuses oversized arguments before policy and keeps only their digest', async () => {
    const store = openSqliteStore(join(tempDir(), 'gh.db'));
    const decider = new Decider({
      policy: await policyService(store),
      store,
      runs: new RunTracker({ retainMs: 60_000 }),
      log: silentLogger(),
      now: Date.now,
      retention: 'full',
    });
    const big = await decider.decide(agent(), FETCH, { url: 'x'.repeat(5000) });
    assert.ok(big.ok);
    assert.equal(big.decision.outcome, 'deny');
    assert.match(big.decision.reason, /\d+ bytes is more than the 4096-byte limit/);
    const [stored] = await store.listDecisions({ limit: 1 });
    assert.equal(stored?.args, undefined, 'a refusal for size does not fill the store');
    assert.equal(stored?.argsDigest, big.argsDigest);
    const small = await decider.decide(agent(), FETCH, { url: 'x' });
    assert.equal(small.ok && small.decision.outcome, 'allow');
    await store.close();
  });

  it('lets only an allowed decision forwarded once written skip its wait for the disk, and says when it is on disk', async () => {
    let release: (() => void) | undefined;
    // The real fdatasync, held until the test lets it go.
    const syncFile: SyncFile = (fd, done) => {
      release = () => {
        release = undefined;
        fdatasync(fd, done);
      };
    };
    const store = openSqliteStore(join(tempDir(), 'gh.db'), { backgroundSync: true, syncFile });
    const asked: (string | undefined)[] = [];
    // The real store, noting how far each decision append was asked to get.
    const noting: Store = {
      ...store,
      appendDecision: (record, opts) => {
        asked.push(`${record.outcome}:${opts?.until ?? 'durable'}`);
        return store.appendDecision(record, opts);
      },
    };
    const decider = new Decider({
      policy: await policyService(noting),
      store: noting,
      runs: new RunTracker({ retainMs: 60_000 }),
      log: silentLogger(),
      now: Date.now,
      retention: 'full',
    });
    const refusal = { policy: 'gatehouse:test', reason: 'refused' };
    const once = { forwardOnceWritten: true };
    const written = await decider.decide(agent(), FETCH, { url: 'x' }, undefined, once);
    assert.ok(written.ok);
    const syncing = () => release !== undefined;
    assert.equal(syncing(), false, 'no sync yet: the caller forwards the call first');
    await new Promise((r) => setImmediate(r));
    assert.equal(syncing(), true, 'the sync started on the next turn');
    let onDisk = false;
    void written.onDisk.then(() => (onDisk = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(onDisk, false, 'not on disk while its sync is held');
    release?.();
    await written.onDisk;
    assert.equal(onDisk, true);
    const pending: Promise<Decided>[] = [
      decider.decide(agent(), FETCH, { url: 'x' }, refusal, once),
      decider.decide(agent(), FETCH, { url: 'x' }),
    ];
    // Each waits for its own sync: let every sync through as it comes.
    const pump = setInterval(() => release?.(), 1);
    const [denied, plain] = await Promise.all(pending).finally(() => clearInterval(pump));
    assert.deepEqual(asked, ['allow:written', 'deny:durable', 'allow:durable']);
    for (const d of [denied, plain]) {
      assert.ok(d?.ok);
      let settled = false;
      void d.onDisk.then(() => (settled = true));
      await Promise.resolve();
      assert.equal(settled, true, 'a durable decision is on disk when decided');
    }
    assert.equal((await store.listDecisions({ limit: 10 })).length, 3, 'all three are in the log');
    await store.close();
  });

  it('refuses a call when lockdowns cannot be checked', async () => {
    const store = openSqliteStore(join(tempDir(), 'gh.db'));
    let broken = false;
    const flaky: Store = {
      ...store,
      changeMarker: () =>
        broken ? Promise.reject(new Error('disk I/O error')) : store.changeMarker(),
    };
    const policy = await policyService(flaky);
    const decider = new Decider({
      policy,
      store: flaky,
      runs: new RunTracker({ retainMs: 60_000 }),
      log: silentLogger(),
      now: Date.now,
      retention: 'full',
    });
    assert.equal((await decider.decide(agent(), FETCH, { url: 'x' })).ok, true);
    broken = true;
    const d = await decider.decide(agent(), FETCH, { url: 'x' });
    assert.equal(d.ok, false);
    assert.equal(d.ok ? '' : d.kind, 'unavailable');
    assert.match(d.ok ? '' : d.message, /could not check for lockdowns/);
    await store.close();
  });

  it('forwards no read whose decision cannot be recorded, and withholds one whose result cannot; refuses a server that asks back unrecorded', async () => {
    const store = openSqliteStore(join(tempDir(), 'gh.db'));
    const broken = { decisions: false, results: false };
    const flaky: Store = {
      ...store,
      appendDecision: (d) =>
        broken.decisions ? Promise.reject(new Error('disk full')) : store.appendDecision(d),
      appendResult: (r) =>
        broken.results ? Promise.reject(new Error('disk full')) : store.appendResult(r),
    };
    const config = parseConfig(
      'upstreams:\n  notes: { command: node, trust: untrusted }\n  helper: { command: node, trust: trusted }\n',
      '/x/gatehouse.yaml',
    );
    const runs = new RunTracker({ retainMs: 60_000 });
    const log = silentLogger();
    const policy = await policyService(flaky);
    const decider = new Decider({
      policy,
      store: flaky,
      runs,
      log,
      now: Date.now,
      retention: 'full',
    });
    const gate = new ContentGate({
      config,
      policy,
      decider,
      runs,
      results: new ResultRecorder({
        config,
        store: flaky,
        runs,
        now: Date.now,
        log: silentLogger(),
      }),
      approvals: new Approvals({
        store: flaky,
        log,
        now: Date.now,
        ttlMs: 60_000,
        waitMs: 0,
        pollMs: 10,
      }),
    });
    const notes = await directClient('node', [
      join(REPO_ROOT, 'dist/test/fixtures/notes-server.js'),
    ]);
    const uri = 'notes://inbox/1';
    const target = { kind: 'resource' as const, server: 'notes', id: uri, name: uri };
    let forwarded = 0;
    const read = () => {
      forwarded++;
      return notes.readResource({ uri });
    };
    try {
      broken.decisions = true;
      await assert.rejects(
        gate.readResource(agent(), target, read),
        /could not record the decision/,
      );
      assert.equal(forwarded, 0, 'nothing reached the upstream');
      broken.decisions = false;
      broken.results = true;
      await assert.rejects(
        gate.readResource(agent(), target, read),
        /could not record what notes returned, so it was withheld/,
      );
      assert.equal(forwarded, 1);
      assert.equal(
        runs.get(agent().run).lowestTrust,
        'trusted',
        'the content never reached the run',
      );
      // An upstream error is passed on only once it is recorded.
      const failing = () => {
        forwarded++;
        return notes.readResource({ uri: 'notes://outbox/1' }); // no such resource: the server's error
      };
      await assert.rejects(
        gate.readResource(agent(), target, failing),
        /could not record the upstream's error for this request/,
      );
      broken.results = false;
      await assert.rejects(gate.readResource(agent(), target, failing), (err: Error) => {
        assert.doesNotMatch(err.message, /could not record/);
        return true;
      });
      const ok = await gate.readResource(agent(), target, read);
      assert.equal((ok._meta?.['gatehouse/provenance'] as { trust: string }).trust, 'untrusted');
      assert.equal(runs.get(agent().run).lowestTrust, 'untrusted');

      // A server asking back is refused when its request cannot be recorded.
      const sampling = {
        messages: [{ role: 'user' as const, content: { type: 'text' as const, text: 'hi' } }],
        maxTokens: 10,
      };
      const elicitation = {
        mode: 'form' as const,
        message: 'name?',
        requestedSchema: {
          type: 'object' as const,
          properties: { name: { type: 'string' as const } },
        },
      };
      // A trusted server may sample and any may elicit (built-in rules): only the record stops them.
      assert.deepEqual(await gate.decideSampling(agent(), 'helper', sampling), { ok: true });
      broken.results = true;
      const unrecorded = await gate.decideSampling(agent(), 'helper', sampling);
      assert.equal(unrecorded.ok, false);
      assert.match(
        unrecorded.ok ? '' : unrecorded.message,
        /could not record the sampling request/,
      );
      broken.results = false;
      broken.decisions = true;
      for (const asked of [
        await gate.decideSampling(agent(), 'helper', sampling),
        await gate.decideElicitation(agent(), 'notes', elicitation),
      ]) {
        assert.equal(asked.ok, false);
        assert.match(asked.ok ? '' : asked.message, /could not record the decision/);
      }
      broken.decisions = false;
      assert.deepEqual(await gate.decideElicitation(agent(), 'notes', elicitation), { ok: true });
    } finally {
      await notes.close();
      await store.close();
    }
  });

  it('refuses a call that needs approval when approvals cannot be recorded', async () => {
    const setup = quickstartCopy([], ['approvals: { wait: 300ms }']);
    const gh = await startGatehouse(setup.config());
    try {
      const client = await gh.client(await gh.mint());
      const raw = new Database(join(setup.dir, 'gatehouse.db'));
      raw.exec('DROP TABLE approvals');
      raw.close();
      const held = await client.callTool({
        name: 'payments__refund',
        arguments: { customer: 'c', amount: 900 },
      });
      assert.equal(held.isError, true);
      assert.match(firstText(held), /could not reach its approval records/);
      const balance = await client.callTool({ name: 'payments__get_balance', arguments: {} });
      assert.notEqual(balance.isError, true, 'calls that need no approval still pass');
    } finally {
      await gh.close();
    }
  });

  it('withholds an answer whose result cannot be recorded, and refuses a call it cannot record', async () => {
    const setup = quickstartCopy();
    const gh = await startGatehouse(setup.config());
    try {
      const client = await gh.client(await gh.mint());
      const raw = new Database(join(setup.dir, 'gatehouse.db'));
      raw.exec(`CREATE TRIGGER no_results BEFORE INSERT ON audit_entries WHEN NEW.type = 'result'
        BEGIN SELECT RAISE(ABORT, 'disk full'); END;`);
      const withheld = await client.callTool({
        name: 'payments__get_balance',
        arguments: { customer: 'c-1' },
      });
      assert.equal(withheld.isError, true);
      assert.match(
        firstText(withheld),
        /could not record the result of this call, so it was withheld/,
      );
      assert.doesNotMatch(JSON.stringify(withheld.content), /balance/i);

      raw.exec(`CREATE TRIGGER no_decisions BEFORE INSERT ON audit_entries WHEN NEW.type = 'decision'
        BEGIN SELECT RAISE(ABORT, 'disk full'); END;`);
      raw.close();
      const refused = await client.callTool({ name: 'payments__get_balance', arguments: {} });
      assert.equal(refused.isError, true);
      assert.match(
        firstText(refused),
        /could not record the decision for this call, so it was not forwarded/,
      );
    } finally {
      await gh.close();
    }
  });
});
