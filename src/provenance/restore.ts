import type { TrustLevel } from '../policy/index.js';
import type { Store } from '../store/index.js';
import type { RunTracker } from './runs.js';

const PAGE = 1000;
/** Entries may be a little out of time order (clock steps, concurrent writers): read this far past. */
const CLOCK_SLACK_MS = 60_000;

/** The fields of a result entry that provenance needs (written by this code). */
interface ResultFields {
  readonly type?: string;
  readonly time?: string;
  readonly agent?: { readonly run?: string };
  readonly trust?: TrustLevel;
  readonly source?: string;
  readonly tool?: { readonly name?: string };
}

/**
 * Rebuilds, after a restart, what each run had read: every result entry recorded since `sinceMs`
 * that brought content below `trusted`. The values in that content were never stored, so a
 * restored tainted run treats every value nobody vouched for as untrusted (RunTracker.restore):
 * a restart must not make an injected value look clean. Returns how many runs were restored.
 * @example await restoreRuns(store, runs, Date.now() - config.identity.max_ttl)
 */
export async function restoreRuns(
  store: Store,
  runs: RunTracker,
  sinceMs: number,
): Promise<number> {
  // Sources by the index of their oldest entry at the run's lowest level: the tracker keeps the
  // first ones a run met, so a restart must hand them over in that order.
  const found = new Map<string, { trust: TrustLevel; sources: Map<string, number> }>();
  let end = await store.auditSize();
  let older = false;
  while (end > 0 && !older) {
    const from = Math.max(0, end - PAGE);
    const page = await store.auditEntries(from, end - from);
    for (let i = page.length - 1; i >= 0; i--) {
      const entry = page[i] as { index: number; leaf: Uint8Array };
      const text = Buffer.from(entry.leaf).toString('utf8');
      // Cheap filter before parsing: only results below trusted matter.
      if (!text.includes('"type":"result"') || text.includes('"trust":"trusted"')) {
        if (entryTime(text) < sinceMs - CLOCK_SLACK_MS) older = true;
        continue;
      }
      const e = JSON.parse(text) as ResultFields;
      const time = Date.parse(e.time ?? '');
      if (time < sinceMs - CLOCK_SLACK_MS) older = true;
      if (time < sinceMs || !e.agent?.run || !e.trust) continue;
      const run = found.get(e.agent.run) ?? { trust: e.trust, sources: new Map<string, number>() };
      // Only the sources of the lowest trust are kept, as RunTracker does.
      if (e.trust === 'untrusted' && run.trust !== 'untrusted') {
        run.trust = 'untrusted';
        run.sources.clear();
      }
      if (e.trust === run.trust)
        run.sources.set(e.source ?? e.tool?.name ?? 'unknown source', entry.index);
      found.set(e.agent.run, run);
    }
    end = from;
  }
  for (const [run, r] of found) {
    const oldestFirst = [...r.sources].sort((a, b) => a[1] - b[1]).map(([source]) => source);
    runs.restore(run, r.trust, oldestFirst);
  }
  return found.size;
}

/** The `time` member of a canonical entry, without parsing the rest. */
function entryTime(text: string): number {
  const at = text.indexOf('"time":"');
  return at < 0 ? Number.NaN : Date.parse(text.slice(at + 8, text.indexOf('"', at + 8)));
}
