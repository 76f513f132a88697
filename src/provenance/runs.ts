import type { RunContext, TrustLevel } from '../policy/index.js';

const RANK: Record<TrustLevel, number> = { untrusted: 0, internal: 1, trusted: 2 };
const MAX_SOURCES = 32;

interface RunState {
  lowest: TrustLevel;
  sources: Set<string>;
  /** When the run last read something, ms since the epoch. */
  lastSeen: number;
}

export interface RunTrackerOptions {
  readonly now?: () => number;
  /**
   * How long a run is remembered after its last read: the longest credential lifetime. Every
   * credential of a run expires within that of its root being minted, so a run quiet for longer
   * can no longer call anything (short of an administrator minting into the same run again).
   */
  readonly retainMs: number;
}

/**
 * What each run has read through this process: the lowest trust of any content and the sources
 * that brought it. Every agent of a delegation tree shares its run id, so a subagent's reads
 * count for the whole tree. Runs are forgotten by age only, never by count: forgetting a tainted
 * run that can still call would make its next call look trusted. (In memory for now: a restart
 * forgets; the provenance issue makes it durable.)
 */
export class RunTracker {
  /** In order of last read, oldest first, so expiry stops at the first fresh run. */
  private readonly runs = new Map<string, RunState>();
  private readonly now: () => number;

  constructor(private readonly opts: RunTrackerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** @example tracker.get(agent.run).lowestTrust // 'trusted' for a run that has read nothing */
  get(run: string): RunContext {
    const s = this.runs.get(run);
    if (!s) return { lowestTrust: 'trusted', sources: [] };
    return { lowestTrust: s.lowest, sources: [...s.sources] };
  }

  /** Notes that content of `trust` from `source` reached the run. */
  observe(run: string, trust: TrustLevel, source: string): void {
    const t = this.now();
    this.forgetQuietRuns(t);
    const s = this.runs.get(run);
    if (!s && trust === 'trusted') return;
    const state = s ?? { lowest: trust, sources: new Set<string>(), lastSeen: t };
    if (RANK[trust] < RANK[state.lowest]) {
      state.lowest = trust;
      state.sources.clear();
    }
    if (trust === state.lowest && state.sources.size < MAX_SOURCES) state.sources.add(source);
    state.lastSeen = t;
    // Re-inserted to keep the map in order of last read.
    this.runs.delete(run);
    this.runs.set(run, state);
  }

  /** How many runs are remembered (for tests and metrics). */
  get size(): number {
    return this.runs.size;
  }

  private forgetQuietRuns(t: number): void {
    for (const [run, s] of this.runs) {
      if (t - s.lastSeen <= this.opts.retainMs) break;
      this.runs.delete(run);
    }
  }
}
