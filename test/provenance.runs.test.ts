import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunTracker } from '../src/provenance/index.js';

/** Run provenance in the gateway process, with an injected clock. */
describe('run tracker', () => {
  it('keeps the lowest trust and the sources that brought it', () => {
    const runs = new RunTracker({ retainMs: 60_000, now: () => 0 });
    runs.observe('r1', 'trusted', 'files__read_text_file');
    assert.deepEqual(runs.get('r1'), { lowestTrust: 'trusted', sources: [] });
    runs.observe('r1', 'internal', 'payments__get_balance');
    runs.observe('r1', 'untrusted', 'web__fetch');
    runs.observe('r1', 'internal', 'payments__get_balance');
    assert.deepEqual(runs.get('r1'), { lowestTrust: 'untrusted', sources: ['web__fetch'] });
    assert.equal(runs.get('r2').lowestTrust, 'trusted', 'runs are separate');
  });

  it('never forgets a tainted run because many others arrive', () => {
    const runs = new RunTracker({ retainMs: 60_000, now: () => 0 });
    runs.observe('tainted', 'untrusted', 'web__fetch');
    for (let i = 0; i < 150_000; i++) runs.observe(`r${i}`, 'internal', 'files__read_text_file');
    assert.equal(runs.get('tainted').lowestTrust, 'untrusted');
    assert.equal(runs.size, 150_001);
  });

  it('forgets a run only once it has been quiet longer than any of its credentials can live', () => {
    const clock = { t: 0 };
    const runs = new RunTracker({ retainMs: 60_000, now: () => clock.t });
    runs.observe('old', 'untrusted', 'web__fetch');
    runs.observe('busy', 'untrusted', 'web__fetch');
    clock.t = 50_000;
    runs.observe('busy', 'trusted', 'files__read_text_file'); // a read keeps the run fresh
    clock.t = 60_000;
    runs.observe('other', 'internal', 'x__y');
    assert.equal(runs.get('old').lowestTrust, 'untrusted', 'exactly at the limit it is kept');
    clock.t = 60_001;
    runs.observe('other', 'internal', 'x__y');
    assert.equal(runs.get('old').lowestTrust, 'trusted', 'quiet past every credential: forgotten');
    assert.equal(runs.get('busy').lowestTrust, 'untrusted');
    assert.deepEqual(runs.get('busy').sources, ['web__fetch']);
  });

  it('asks for the disk only for content that changes what a restart would restore, whatever else the run saw', () => {
    const clock = { t: 0 };
    const runs = new RunTracker({ retainMs: 60_000, now: () => clock.t });
    // A completion's suggestions taint the run but leave no entry: a restart would not know them.
    runs.observe('r', 'untrusted', 'notes (completion)');
    assert.equal(runs.get('r').lowestTrust, 'untrusted');
    assert.equal(runs.isNews('r', 'internal', 'files__read'), true);
    runs.logged('r', 'internal', 'files__read');
    assert.equal(runs.isNews('r', 'internal', 'files__read'), false);
    assert.equal(runs.isNews('r', 'untrusted', 'notes (completion)'), true, 'seen, never logged');
    assert.equal(runs.get('r').lowestTrust, 'untrusted', 'logging changes nothing policy sees');
    clock.t = 60_001;
    assert.equal(runs.isNews('r', 'internal', 'files__read'), true, 'a run about to be forgotten');
  });
});
