/**
 * When the gate's audit entries reach the disk, seen by a real MCP client through the gateway: an
 * allowed call goes upstream once its decision is in the log and is answered only once its
 * decision is on disk, and its result too when the result changes what a restart would restore of
 * the run; a refusal is answered only once it is on disk; a failed disk sync refuses every later
 * call. The disk sync is injected (it wraps the real fdatasync) so that it can be held or failed.
 */
import assert from 'node:assert/strict';
import { fdatasync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { SyncFile } from '../src/store/index.js';
import { ALLOW_ALL } from './helpers/content.js';
import {
  configWithPolicies,
  eventually,
  firstText,
  FLAKY_UPSTREAM,
  settlesWithin,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';
import { startHttpUpstream, type HttpUpstream } from './helpers/http-upstream.js';

/** A disk whose syncs pass, wait for release(), or fail with EIO. */
function testDisk() {
  let mode: 'pass' | 'hold' | 'fail' = 'pass';
  const held: (() => void)[] = [];
  const sync: SyncFile = (fd, done) => {
    if (mode === 'fail') return done(Object.assign(new Error('i/o error'), { code: 'EIO' }));
    if (mode === 'hold') return void held.push(() => sync(fd, done));
    fdatasync(fd, done);
  };
  return {
    sync,
    hold: () => void (mode = 'hold'),
    /** How many syncs are waiting for release(). */
    holding: () => held.length,
    fail: () => void (mode = 'fail'),
    release: () => {
      mode = 'pass';
      for (const go of held.splice(0)) go();
    },
    /** Fails every held sync, and every later one. */
    failHeld: () => {
      mode = 'fail';
      for (const go of held.splice(0)) go();
    },
  };
}

describe('the audit log on disk, seen through the gateway', () => {
  const disk = testDisk();
  let up: HttpUpstream;
  let gh: Running;

  before(async () => {
    up = await startHttpUpstream('json');
    gh = await startGatehouse(
      configWithPolicies(ALLOW_ALL, 'upstreams:', '  up:', `    url: ${up.url}`),
      { syncFile: disk.sync },
    );
  });
  after(async () => {
    disk.release();
    await gh.close();
    await up.close();
  });

  it('forwards an allowed call before its decision is synced, and answers once it is on disk', async () => {
    const client = await gh.client(await gh.mint());
    disk.hold();
    const call = client.callTool({ name: 'up__echo', arguments: { text: 'hi' } });
    await eventually(() => up.echoRuns() === 1, 5000);
    assert.equal(await settlesWithin(call, 100), false, 'no answer while the disk has not synced');
    disk.release();
    const res = await call;
    assert.equal(firstText(res), 'hi');
    assert.ok(res._meta?.['gatehouse/receipt'], 'the answer carries its receipts');
  });

  const echo = (client: Client, text: string) =>
    client.callTool({ name: 'up__echo', arguments: { text } });
  /** Runs `test` with every sync held from when the upstream runs and the decision is on disk. */
  const resultSyncHeld = async (test: () => Promise<void>) => {
    up.whenEcho(async () => {
      await gh.rt.store.synced();
      disk.hold();
    });
    try {
      await test();
    } finally {
      up.whenEcho(undefined);
      disk.release();
    }
  };

  it('answers once the result is on disk when it is the first content of its kind the run reads', async () => {
    const client = await gh.client(await gh.mint());
    await resultSyncHeld(async () => {
      const call = echo(client, 'first');
      await eventually(() => disk.holding() > 0, 5000);
      assert.equal(await settlesWithin(call, 150), false, 'untrusted content new to the run waits');
      disk.release();
      assert.equal(firstText(await call), 'first');
    });
  });

  it('answers at once a result that changes nothing a restart would restore, while its sync is held', async () => {
    const client = await gh.client(await gh.mint());
    // The run's first result (untrusted, from up__echo) is on disk before the agent reads it.
    assert.equal(firstText(await echo(client, 'a')), 'a');
    await resultSyncHeld(async () => {
      const call = echo(client, 'b');
      const quick = await settlesWithin(call, 5000);
      assert.equal(quick, true, 'the same kind of content again does not wait');
      assert.equal(firstText(await call), 'b');
      // Its own sync comes after the answer (soon, as nobody waits for it), and is held.
      await eventually(() => disk.holding() > 0, 5000);
    });
  });

  it('answers no result before its decision is on disk, even one that need not wait for itself', async () => {
    const client = await gh.client(await gh.mint());
    assert.equal(firstText(await echo(client, 'a')), 'a');
    disk.hold();
    const ran = up.echoRuns();
    const call = echo(client, 'b');
    await eventually(() => up.echoRuns() === ran + 1, 5000);
    assert.equal(
      await settlesWithin(call, 150),
      false,
      'no answer while the decision is not on disk',
    );
    disk.release();
    assert.equal(firstText(await call), 'b');
  });

  it('answers a refusal only once it is on disk', async () => {
    const client = await gh.client(await gh.mint());
    disk.hold();
    // Arguments that fail the input schema: refused and recorded, never forwarded.
    const call = client.callTool({ name: 'up__echo', arguments: { text: 7 } });
    assert.equal(await settlesWithin(call, 100), false, 'no answer while the disk has not synced');
    disk.release();
    const res = await call;
    assert.equal(res.isError, true);
    assert.match(firstText(res), /Invalid arguments for up__echo/);
  });

  it('refuses every call once a sync failed, forwards none of them, and reports it on /healthz', async () => {
    const client = await gh.client(await gh.mint());
    const health = () => fetch(new URL('/healthz', gh.url));
    assert.equal((await health()).status, 200);
    const ran = up.echoRuns();
    disk.fail();
    const first = await client.callTool({ name: 'up__echo', arguments: { text: 'a' } });
    assert.equal(first.isError, true);
    // Its decision never reached the disk either: the agent is told the call may have acted.
    assert.match(
      firstText(first),
      /could not record this call, which may have reached upstream server "up"/,
    );
    assert.equal(up.echoRuns(), ran + 1, 'that call had gone upstream before the sync failed');
    disk.release();
    const second = await client.callTool({ name: 'up__echo', arguments: { text: 'b' } });
    assert.equal(second.isError, true);
    assert.match(firstText(second), /could not record the decision for this call/);
    assert.equal(up.echoRuns(), ran + 1, 'nothing more reached the upstream, disk or no disk');
    const failing = await health();
    assert.equal(failing.status, 503, 'a supervisor can see it and restart Gatehouse');
    assert.deepEqual(await failing.json(), { status: 'failing', failing: ['audit log'] });
  });
});

describe('a failed call whose decision never reached the disk', () => {
  for (const [tool, what] of [
    ['up__hang', 'an upstream that does not answer within its timeout'],
    ['flaky__refuse', "an upstream's JSON-RPC error"],
  ] as const)
    it(`is answered only once the decision is on disk, and says it may have acted unrecorded: ${what}`, async () => {
      const disk = testDisk();
      const up = await startHttpUpstream('json');
      const gh = await startGatehouse(
        configWithPolicies(
          ALLOW_ALL,
          ...FLAKY_UPSTREAM,
          '  up:',
          `    url: ${up.url}`,
          '    timeout: 300ms',
        ),
        { syncFile: disk.sync },
      );
      try {
        const client = await gh.client(await gh.mint());
        disk.hold();
        const call = client.callTool({ name: tool, arguments: {} });
        assert.equal(await settlesWithin(call, 800), false, 'no answer while nothing is synced');
        disk.failHeld();
        const res = await call;
        assert.equal(res.isError, true);
        const server = tool.split('__')[0] as string;
        assert.match(
          firstText(res),
          new RegExp(
            `could not record this call, which may have reached upstream server "${server}"`,
          ),
          'not the upstream failure alone: the call may have acted and is not on disk',
        );
      } finally {
        disk.release();
        await gh.close();
        await up.close();
      }
    });
});
