import type { ArgProvenance, ArgsProvenance, RunContext, TrustLevel } from '../policy/index.js';
import { ValueIndex } from './value-index.js';
import { destinations, forEachTextKey, leafStrings, valueKeys } from './values.js';

const RANK: Record<TrustLevel, number> = { untrusted: 0, internal: 1, trusted: 2 };

/**
 * The less trusted of two levels: what content is worth once it has been through both.
 * @example lowerTrust('trusted', 'internal') // 'internal'
 */
export function lowerTrust(a: TrustLevel, b: TrustLevel): TrustLevel {
  return RANK[a] <= RANK[b] ? a : b;
}
const MAX_SOURCES = 32;

/** Bounds per run: about 40 bytes a key, so a run costs at most about 10 MB. */
export interface RunLimits {
  /** Keys of untrusted content kept per run; past it, every value not vouched for is untrusted. */
  readonly untrustedKeys: number;
  /** Keys of trusted content (results of trusted tools) kept per run. */
  readonly trustedKeys: number;
  /** Keys of the run's registered inputs (what the human said). */
  readonly inputKeys: number;
}

export const DEFAULT_RUN_LIMITS: RunLimits = {
  untrustedKeys: 150_000,
  trustedKeys: 60_000,
  inputKeys: 20_000,
};

/** What reached a run: its trust level and where it came from (e.g. `web__fetch forum.example.net`). */
export interface ContentLabel {
  readonly trust: TrustLevel;
  readonly source: string;
}

/** A run's trust level and the sources that brought content of that level. */
interface Taint {
  lowest: TrustLevel;
  sources: Set<string>;
}

interface RunState extends Taint {
  /**
   * What a restart would restore of the run from entries known to be on disk (restoreRuns): only
   * ever lowered by such entries, never by content observed without one (a completion, a result
   * whose entry failed), so that it can say which new content must be on disk first.
   */
  logged?: Taint;
  /** When the run last read something, ms since the epoch. */
  lastSeen: number;
  /** Names of the sources values were indexed under, by number. */
  names: string[];
  untrusted?: ValueIndex;
  trusted?: ValueIndex;
  inputs?: ValueIndex;
}

export interface RunTrackerOptions {
  readonly now?: () => number;
  /**
   * How long a run is remembered after its last read: the longest credential lifetime. Every
   * credential of a run expires within that of its root being minted, so a run quiet for longer
   * can no longer call anything (short of an administrator minting into the same run again).
   */
  readonly retainMs: number;
  readonly limits?: RunLimits;
}

const UNINDEXED = 'untrusted content that could not be indexed';

/**
 * Lowers `t` to `trust` and adds `sources` at that level: the lowest level wins, and only its
 * sources are kept, the first MAX_SOURCES of them.
 */
function lower(t: Taint, trust: TrustLevel, sources: readonly string[]): void {
  if (RANK[trust] < RANK[t.lowest]) {
    t.lowest = trust;
    t.sources.clear();
  }
  if (trust !== t.lowest) return;
  for (const s of sources) if (t.sources.size < MAX_SOURCES) t.sources.add(s);
}

/** A run that has read nothing below `trusted`. */
const untainted = (): Taint => ({ lowest: 'trusted', sources: new Set<string>() });

/** Whether lower(t, trust, [source]) would change `t`. */
function changes(t: Taint, trust: TrustLevel, source: string): boolean {
  if (RANK[trust] < RANK[t.lowest]) return true;
  return trust === t.lowest && !t.sources.has(source) && t.sources.size < MAX_SOURCES;
}

/**
 * What each run has read through this process: the lowest trust of any content, the sources that
 * brought it, and an index of the values in it, so that each argument of a later call can be
 * traced to untrusted content, to the human's own input, or to neither. Every agent of a
 * delegation tree shares its run id, so a subagent's reads count for the whole tree. Runs are
 * forgotten by age only, never by count: forgetting a tainted run that can still call would make
 * its next call look trusted.
 */
export class RunTracker {
  /** In order of last read, oldest first, so expiry stops at the first fresh run. */
  private readonly runs = new Map<string, RunState>();
  private readonly now: () => number;
  private readonly limits: RunLimits;

  constructor(private readonly opts: RunTrackerOptions) {
    this.now = opts.now ?? Date.now;
    this.limits = opts.limits ?? DEFAULT_RUN_LIMITS;
  }

  /** @example tracker.get(agent.run).lowestTrust // 'trusted' for a run that has read nothing */
  get(run: string): RunContext {
    const s = this.runs.get(run);
    if (!s) return { lowestTrust: 'trusted', sources: [] };
    return { lowestTrust: s.lowest, sources: [...s.sources] };
  }

  /**
   * Notes that content labelled `trust` from `source` reached the run, and indexes the values in
   * its `texts`. Values the call itself sent (`echoed`) are not evidence for later calls: a tool
   * repeating its own arguments back must not vouch for them.
   */
  observe(
    run: string,
    trust: TrustLevel,
    source: string,
    content?: { readonly texts: readonly string[]; readonly echoed?: unknown },
  ): void {
    const texts = content?.texts ?? [];
    const state = this.touch(run, trust === 'trusted' && texts.length === 0);
    if (!state) return;
    lower(state, trust, [source]);
    if (trust === 'internal' || texts.length === 0) return;
    const index =
      trust === 'untrusted'
        ? (state.untrusted ??= new ValueIndex(this.limits.untrustedKeys))
        : (state.trusted ??= new ValueIndex(this.limits.trustedKeys));
    const echoed = trust === 'trusted' ? echoedKeys(content?.echoed) : undefined;
    const id = sourceId(state, source);
    for (const text of texts)
      forEachTextKey(text, (key) => (echoed?.has(key) ? true : index.add(key, id)));
  }

  /**
   * Whether content of `trust` from `source` would change what a restart restores of the run from
   * the audit log (restoreRuns): a trust level below `trusted` lower than any the log shows for the
   * run yet, or a new source at that lowest level. Only such content must be on disk before the
   * agent reads it; a power loss that drops any other result entry restores the run exactly as it
   * was.
   * @example tracker.isNews(run, 'untrusted', 'web__fetch') // true until the run has read it
   */
  isNews(run: string, trust: TrustLevel, source: string): boolean {
    if (trust === 'trusted') return false;
    const state = this.runs.get(run);
    // A run about to be forgotten is rebuilt from this content alone.
    const fresh = state !== undefined && this.now() - state.lastSeen <= this.opts.retainMs;
    const logged = fresh ? state.logged : undefined;
    return logged === undefined || changes(logged, trust, source);
  }

  /**
   * Notes that an entry of content `trust` from `source` is on disk (one isNews asked for): what a
   * restart would restore of the run now includes it.
   */
  logged(run: string, trust: TrustLevel, source: string): void {
    const state = this.touch(run, false) as RunState;
    lower((state.logged ??= untainted()), trust, [source]);
  }

  /**
   * Registers what the human gave the run (their prompt, say): values in it are `trusted`.
   * @example tracker.registerInput(run, 'pay my landlord DE44 5001 0517 5407 3249 31')
   */
  registerInput(run: string, text: string): void {
    const state = this.touch(run, false) as RunState;
    const inputs = (state.inputs ??= new ValueIndex(this.limits.inputKeys));
    forEachTextKey(text, (key) => inputs.add(key, 0));
  }

  /**
   * Where each argument's value came from. `names` are the arguments the tool declares: each gets
   * an answer even when absent from this call (`unknown`), so policy can always read it. Undefined
   * for a run that has read nothing and registered nothing (every argument is then `unknown`).
   * @example tracker.argProvenance(run, { to: 'DE89...' }, ['to', 'amount']).to.level // 'untrusted'
   */
  argProvenance(
    run: string,
    args: Record<string, unknown>,
    names: readonly string[] = [],
  ): ArgsProvenance | undefined {
    const state = this.runs.get(run);
    if (!state) return undefined;
    const out: Record<string, ArgProvenance> = {};
    for (const name of names) out[name] = { level: 'unknown' };
    for (const [name, value] of Object.entries(args))
      out[name] = judgeValue(state, leafStrings(value));
    return out;
  }

  /**
   * Restores a run known (from the audit log) to have read content of `trust` before a restart.
   * Its values were not kept, so for a tainted run nothing can be shown not to be untrusted.
   */
  restore(run: string, trust: TrustLevel, sources: readonly string[]): void {
    const state = this.touch(run, false) as RunState;
    lower(state, trust, sources);
    lower((state.logged ??= untainted()), trust, sources);
    if (trust === 'untrusted') this.distrustUnvouched(run);
  }

  /** Every value of the run nobody vouched for counts as untrusted (content was only partly seen). */
  distrustUnvouched(run: string): void {
    const state = this.touch(run, false) as RunState;
    state.untrusted ??= new ValueIndex(this.limits.untrustedKeys);
    state.untrusted.markIncomplete();
  }

  /** How many value keys a run holds, and whether its untrusted index overflowed (metrics). */
  indexSizes(run: string): { untrusted: number; trusted: number; inputs: number; full: boolean } {
    const s = this.runs.get(run);
    return {
      untrusted: s?.untrusted?.size ?? 0,
      trusted: s?.trusted?.size ?? 0,
      inputs: s?.inputs?.size ?? 0,
      full: s?.untrusted?.full ?? false,
    };
  }

  /** How many runs are remembered (for tests and metrics). */
  get size(): number {
    return this.runs.size;
  }

  /** The run's state, created unless `onlyIfKnown`; moved to the fresh end of the map. */
  private touch(run: string, onlyIfKnown: boolean): RunState | undefined {
    const t = this.now();
    this.forgetQuietRuns(t);
    const s = this.runs.get(run);
    if (!s && onlyIfKnown) return undefined;
    const state = s ?? { lowest: 'trusted', sources: new Set<string>(), lastSeen: t, names: [] };
    state.lastSeen = t;
    // Re-inserted to keep the map in order of last read.
    this.runs.delete(run);
    this.runs.set(run, state);
    return state;
  }

  private forgetQuietRuns(t: number): void {
    for (const [run, s] of this.runs) {
      if (t - s.lastSeen <= this.opts.retainMs) break;
      this.runs.delete(run);
    }
  }
}

function sourceId(state: RunState, source: string): number {
  const at = state.names.indexOf(source);
  if (at >= 0) return at;
  if (state.names.length >= MAX_SOURCES * 2) return state.names.length - 1;
  state.names.push(source);
  return state.names.length - 1;
}

function echoedKeys(echoed: unknown): Set<string> | undefined {
  const strings = leafStrings(echoed);
  if (strings.length === 0) return undefined;
  const keys = new Set<string>();
  for (const s of strings) {
    for (const k of valueKeys(s)) {
      keys.add(k);
      // A reply may write the echoed number whole where the call wrote it in groups.
      if (k.startsWith('c:')) keys.add(`n:${k.slice(2)}`);
    }
  }
  return keys;
}

/**
 * One argument: `trusted` when the human gave every string in it; `untrusted` when a string in
 * it, or a destination written inside one, was seen in untrusted content and is vouched for by
 * neither the human nor a trusted result; `unknown` otherwise.
 */
function judgeValue(state: RunState, strings: readonly string[]): ArgProvenance {
  let allInputs = strings.length > 0;
  for (const s of strings) {
    const keys = valueKeys(s);
    if (keys.length === 0 || state.inputs?.find(keys) === undefined) allInputs = false;
    // A value vouched for as a whole is not judged again by the numbers written inside it.
    if (keys.length > 0 && vouched(state, keys)) continue;
    const bad =
      (keys.length > 0 ? untrustedSource(state, keys) : undefined) ??
      firstUntrustedDestination(state, s);
    if (bad !== undefined) return { level: 'untrusted', source: bad };
  }
  return allInputs ? { level: 'trusted', source: 'input' } : { level: 'unknown' };
}

function vouched(state: RunState, keys: readonly string[]): boolean {
  return state.inputs?.find(keys) !== undefined || state.trusted?.find(keys) !== undefined;
}

function untrustedSource(state: RunState, keys: readonly string[]): string | undefined {
  const index = state.untrusted;
  if (!index || vouched(state, keys)) return undefined;
  const at = index.find(keys);
  if (at !== undefined) return state.names[at] ?? UNINDEXED;
  return index.full ? UNINDEXED : undefined;
}

function firstUntrustedDestination(state: RunState, s: string): string | undefined {
  // A short value is judged whole; only longer free text is searched for destinations.
  if (!state.untrusted || s.length < 24) return undefined;
  for (const d of destinations(s)) {
    const keys = valueKeys(d);
    const found = keys.length > 0 ? untrustedSource(state, keys) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}
