import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstText, quickstartNoWait, startGatehouse, tempDir } from './helpers/gatehouse.js';

const INJECTED = 'https://forum.example.net/thread/4242';

/** A restart must not make a tainted run look clean: its taint is rebuilt from the audit log. */
describe('run provenance across a restart', () => {
  it('restores tainted runs from the log and fails closed on the values it lost', async () => {
    const dir = tempDir();
    const config = () => quickstartNoWait(dir);
    const first = await startGatehouse(config());
    const tainted = await first.client(await first.mint({ run: 'run-before' }));
    await tainted.callTool({ name: 'web__fetch', arguments: { url: INJECTED } });
    const clean = await first.client(await first.mint({ run: 'run-clean' }));
    await clean.callTool({
      name: 'web__fetch',
      arguments: { url: 'https://docs.example.com/refunds' },
    });
    await first.close();

    const second = await startGatehouse(config());
    try {
      assert.deepEqual(second.rt.runs.get('run-before'), {
        lowestTrust: 'untrusted',
        sources: ['web__fetch forum.example.net'],
      });
      assert.equal(second.rt.runs.get('run-clean').lowestTrust, 'internal');
      const again = await second.client(await second.mint({ run: 'run-before' }));
      const refund = await again.callTool({
        name: 'payments__refund',
        arguments: { customer: 'c-1', amount: 50 },
      });
      assert.match(firstText(refund), /untrusted content/, 'the refund still needs a human');
      // The page's values were not kept: any recipient nobody vouched for counts as untrusted.
      const paid = await again.callTool({
        name: 'payments__send_money',
        arguments: { to: 'GB33BUKB20201555555555', amount: 5 },
      });
      assert.equal(paid.isError, true);
      assert.match(firstText(paid), /the recipient came from untrusted content/);
      const fresh = await second.client(await second.mint({ run: 'run-clean' }));
      const ok = await fresh.callTool({
        name: 'payments__refund',
        arguments: { customer: 'c-1', amount: 50 },
      });
      assert.match(firstText(ok), /^Refunded 50 EUR/);
    } finally {
      await second.close();
    }
  });

  it('refuses to start when the log it restored runs from cannot be synced to disk', async () => {
    const dir = tempDir();
    const first = await startGatehouse(quickstartNoWait(dir));
    const tainted = await first.client(await first.mint({ run: 'run-before' }));
    await tainted.callTool({ name: 'web__fetch', arguments: { url: INJECTED } });
    await first.close();
    let syncs = 0;
    const eio = Object.assign(new Error('i/o error'), { code: 'EIO' });
    const started = await startGatehouse(quickstartNoWait(dir), {
      syncFile: (_fd, done) => {
        syncs += 1;
        done(eio);
      },
    }).then(
      (gh) => gh,
      (err: Error) => err,
    );
    if (!(started instanceof Error)) {
      await started.close();
      assert.fail('Gatehouse started on a log it could not sync');
    }
    assert.match(started.message, /EIO|i\/o error/);
    assert.equal(syncs, 1, 'the one sync after the restore, before serving');
  });
});
