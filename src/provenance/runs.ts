import type { RunContext, TrustLevel } from '../policy/index.js';

const RANK: Record<TrustLevel, number> = { untrusted: 0, internal: 1, trusted: 2 };
const MAX_SOURCES = 32;

interface RunState {
  lowest: TrustLevel;
  sources: Set<string>;
}

/**
 * What each run has read through this process: the lowest trust of any content and the sources
 * that brought it. Every agent of a delegation tree shares its run id, so a subagent's reads
 * count for the whole tree. (In memory for now: a restart forgets; the provenance issue makes it durable.)
 */
export class RunTracker {
  private readonly runs = new Map<string, RunState>();

  constructor(private readonly maxRuns = 100_000) {}

  /** @example tracker.get(agent.run).lowestTrust // 'trusted' for a run that has read nothing */
  get(run: string): RunContext {
    const s = this.runs.get(run);
    if (!s) return { lowestTrust: 'trusted', sources: [] };
    return { lowestTrust: s.lowest, sources: [...s.sources] };
  }

  /** Notes that content of `trust` from `source` reached the run. */
  observe(run: string, trust: TrustLevel, source: string): void {
    let s = this.runs.get(run);
    if (!s) {
      if (trust === 'trusted') return;
      if (this.runs.size >= this.maxRuns) {
        const oldest = this.runs.keys().next();
        if (!oldest.done) this.runs.delete(oldest.value);
      }
      s = { lowest: trust, sources: new Set() };
      this.runs.set(run, s);
    }
    if (RANK[trust] < RANK[s.lowest]) {
      s.lowest = trust;
      s.sources.clear();
    }
    if (trust === s.lowest && s.sources.size < MAX_SOURCES) s.sources.add(source);
  }
}
