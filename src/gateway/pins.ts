import type { Logger } from 'pino';
import {
  MAX_TOOL_DEFINITION_BYTES,
  type Store,
  type ToolObservation,
  type ToolPinRecord,
} from '../store/index.js';
import type { CatalogEntry } from './catalog.js';

/** Whether the definition a tool presents now may be served, and if not, why. */
export type PinVerdict =
  | { readonly ok: true; readonly hash: string }
  | {
      readonly ok: false;
      readonly hash: string;
      /** One sentence for the agent and the record, naming the tool and what to do. */
      readonly reason: string;
      /** The pin could not be read or written: check again rather than trust this verdict. */
      readonly retry: boolean;
    };

export interface PinGuardDeps {
  /** The catalog's entries now (every check covers all of them). */
  readonly entries: () => Iterable<CatalogEntry>;
  readonly store: Store;
  /** `tools.new` in the config. */
  readonly newTools: 'allow' | 'approve';
  readonly log: Logger;
  readonly now: () => number;
  /** Called when the set of usable tools changed (to send `notifications/tools/list_changed`). */
  readonly onChange: () => void;
}

const short = (hash: string) => hash.slice(0, 'sha256:'.length + 12);

function heldReason(id: string, pin: ToolPinRecord, presented: string): string {
  const approve = `an administrator must approve it: gatehouse tools approve ${id}`;
  if (pin.state === 'new_pending' || pin.approvedHash === undefined)
    return `Tool ${id} is new and waits for approval of its definition (${short(presented)}); ${approve}.`;
  return `Tool ${id} is held: its definition changed since it was approved (approved ${short(pin.approvedHash)}, presented ${short(presented)}); ${approve}.`;
}

/**
 * Pinned tool definitions at the gate. Each catalog rebuild observes every presented definition in
 * the store (pinning new ones, recording changes); a tool is served only while the definition it
 * presents NOW is the approved one. Verdicts are keyed by hash, so a definition not checked yet
 * has no verdict and is refused: every gap fails closed.
 *
 * Approvals made elsewhere (the CLI on the host, the HTTP API) are events, and every event bumps
 * the store's change marker. `refresh` reads that marker (one row) and re-checks when it moved,
 * so an approval takes effect on the next `tools/list` or call of a held tool, without a restart;
 * calls of approved tools never wait for it.
 */
export class PinGuard {
  private verdicts = new Map<string, PinVerdict>();
  /** The change marker read before the last completed check. */
  private marker: number | undefined;
  /** Checks run one at a time, so an older check never overwrites a newer one's verdicts. */
  private queue: Promise<void> = Promise.resolve();
  /** A check queued but not started: later requests join it (it reads the catalog when it runs). */
  private queued: Promise<boolean> | undefined;

  constructor(private readonly deps: PinGuardDeps) {}

  /** The verdict for the definition this entry presents; refused when it was not checked yet. */
  verdict(entry: CatalogEntry): PinVerdict {
    const v = this.verdicts.get(entry.ref.id);
    if (v && v.hash === entry.pin.hash) return v;
    return {
      ok: false,
      hash: entry.pin.hash,
      reason: `Tool ${entry.ref.id} is not available yet: Gatehouse has not checked its definition against its pin; try again shortly.`,
      retry: true,
    };
  }

  /**
   * Observes every catalog definition in the store and recomputes the verdicts; resolves true when
   * the usable tools changed (`onChange` was called). Never rejects: a store failure refuses the
   * tools it could not check.
   * @example catalog.rebuild(upstreams); await guard.check();
   */
  check(): Promise<boolean> {
    if (this.queued) return this.queued;
    const run = this.queue.then(async () => {
      this.queued = undefined;
      try {
        return await this.runCheck([...this.deps.entries()]);
      } catch (err) {
        // runCheck refuses what it cannot check; this is a bug, and the old verdicts stay keyed by hash.
        this.deps.log.error({ err: (err as Error).message }, 'tool pin check failed');
        return false;
      }
    });
    this.queued = run;
    this.queue = run.then(() => undefined);
    return run;
  }

  /** Re-checks when the store changed since the last check, or a verdict is missing or unsure. */
  async refresh(): Promise<void> {
    let marker: number | undefined;
    try {
      marker = await this.deps.store.changeMarker();
    } catch {
      marker = undefined; // the check refuses everything it cannot read
    }
    const unsure = [...this.deps.entries()].some((e) => {
      const v = this.verdicts.get(e.ref.id);
      return !v || v.hash !== e.pin.hash || (!v.ok && v.retry);
    });
    if (unsure || marker === undefined || marker !== this.marker) await this.check();
  }

  /** Resolves when every check started so far has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async runCheck(entries: readonly CatalogEntry[]): Promise<boolean> {
    const { store, log } = this.deps;
    const next = new Map<string, PinVerdict>();
    const observed: { entry: CatalogEntry; obs: ToolObservation }[] = [];
    for (const entry of entries) {
      const { hash, canonical, oversize } = entry.pin;
      if (oversize) {
        // Attacker-controlled size: never stored, so never approvable; refused for good.
        next.set(entry.ref.id, {
          ok: false,
          hash,
          reason: `Tool ${entry.ref.id} is refused: its definition is larger than ${MAX_TOOL_DEFINITION_BYTES / 1024} KiB, which Gatehouse does not pin or serve.`,
          retry: false,
        });
        continue;
      }
      const { server, name, id } = entry.ref;
      observed.push({ entry, obs: { tool: id, server, name, hash, definition: canonical } });
    }
    let marker: number | undefined;
    try {
      // Read before the observation: a change that lands meanwhile makes the next refresh re-check.
      marker = await store.changeMarker();
      const pins = await store.observeTools(
        observed.map((o) => o.obs),
        { newTools: this.deps.newTools, time: this.deps.now() },
      );
      observed.forEach(({ entry, obs }, i) => {
        const pin = pins[i];
        const ok = pin !== undefined && pin.approvedHash === obs.hash;
        next.set(
          entry.ref.id,
          ok
            ? { ok: true, hash: obs.hash }
            : {
                ok: false,
                hash: obs.hash,
                reason: pin
                  ? heldReason(entry.ref.id, pin, obs.hash)
                  : `Tool ${entry.ref.id} has no pin.`,
                retry: pin === undefined,
              },
        );
      });
    } catch (err) {
      marker = undefined;
      log.error(
        { err: (err as Error).message, tools: observed.length },
        'cannot check tool definitions against their pins; those tools are refused',
      );
      for (const { entry, obs } of observed) {
        next.set(entry.ref.id, {
          ok: false,
          hash: obs.hash,
          reason: `Tool ${entry.ref.id} is refused: Gatehouse could not check its definition against its pin (store unavailable), so it is treated as not approved.`,
          retry: true,
        });
      }
    }
    const before = this.verdicts;
    this.verdicts = next;
    this.marker = marker;
    return this.announce(before, next);
  }

  /** Logs newly held tools; calls onChange and returns true when the usable tools changed. */
  private announce(before: Map<string, PinVerdict>, after: Map<string, PinVerdict>): boolean {
    for (const [id, v] of after) {
      const was = before.get(id);
      if (!v.ok && !v.retry && (was?.ok !== false || was.hash !== v.hash))
        this.deps.log.warn({ tool: id, hash: v.hash }, 'tool held: definition not approved');
    }
    const usable = (m: Map<string, PinVerdict>) =>
      [...m].filter(([, v]) => v.ok).map(([id, v]) => `${id} ${v.hash}`);
    const a = usable(before);
    const b = new Set(usable(after));
    if (a.length === b.size && a.every((x) => b.has(x))) return false;
    this.deps.onChange();
    return true;
  }
}
