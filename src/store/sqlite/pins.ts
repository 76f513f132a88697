import {
  MAX_TOOL_DEFINITION_BYTES,
  type ApproveToolRequest,
  type ApproveToolResult,
  type ObserveOptions,
  type PinState,
  type ToolObservation,
  type ToolPinRecord,
} from '../pin-types.js';
import type { Store } from '../types.js';
import { settle, type Db } from './db.js';
import { eventWriter, writeTx, type AppendEntries } from './ledger.js';

interface PinRow {
  tool: string;
  server: string;
  name: string;
  state: PinState;
  approved_hash: string | null;
  approved_definition: string | null;
  pending_hash: string | null;
  pending_definition: string | null;
  first_seen_ms: number;
  updated_ms: number;
  approved_by: string | null;
  approved_ms: number | null;
}

type PinOps = Pick<Store, 'observeTools' | 'listToolPins' | 'getToolPin' | 'approveTool'>;

/** Who records what Gatehouse itself observed (pins, changes). */
const GATEHOUSE = 'gatehouse';

function toPin(r: PinRow): ToolPinRecord {
  return {
    tool: r.tool,
    server: r.server,
    name: r.name,
    state: r.state,
    ...(r.approved_hash !== null ? { approvedHash: r.approved_hash } : {}),
    ...(r.approved_definition !== null ? { approvedDefinition: r.approved_definition } : {}),
    ...(r.pending_hash !== null ? { pendingHash: r.pending_hash } : {}),
    ...(r.pending_definition !== null ? { pendingDefinition: r.pending_definition } : {}),
    firstSeen: r.first_seen_ms,
    updated: r.updated_ms,
    ...(r.approved_by !== null ? { approvedBy: r.approved_by } : {}),
    ...(r.approved_ms !== null ? { approvedAt: r.approved_ms } : {}),
  };
}

/** True when observing `o` would change nothing: it is approved, or already recorded as pending. */
function unchanged(row: PinRow | undefined, o: ToolObservation): boolean {
  if (!row) return false;
  if (row.approved_hash === o.hash) return row.state === 'approved';
  return row.pending_hash === o.hash;
}

/** Tool pins in SQLite; every pin, change and approval is written with its event in one transaction. */
export function pinOps(db: Db, appendEntries: AppendEntries): PinOps {
  const byTool = db.prepare<[string], PinRow>('SELECT * FROM tool_pins WHERE tool = ?');
  const all = db.prepare<[], PinRow>('SELECT * FROM tool_pins ORDER BY tool');
  const insert = db.prepare(
    `INSERT INTO tool_pins (tool, server, name, state, approved_hash, approved_definition,
       pending_hash, pending_definition, first_seen_ms, updated_ms, approved_by, approved_ms)
     VALUES (@tool, @server, @name, @state, @approved_hash, @approved_definition, @pending_hash,
       @pending_definition, @time, @time, @approved_by, @approved_ms)`,
  );
  const setPending = db.prepare(
    `UPDATE tool_pins SET state = @state, pending_hash = @hash, pending_definition = @definition,
       updated_ms = @time WHERE tool = @tool`,
  );
  const setApproved = db.prepare(
    `UPDATE tool_pins SET state = 'approved', approved_hash = @hash, approved_definition = @definition,
       pending_hash = NULL, pending_definition = NULL, updated_ms = @time,
       approved_by = COALESCE(@by, approved_by), approved_ms = COALESCE(@approved_ms, approved_ms)
     WHERE tool = @tool`,
  );
  const event = eventWriter(db, appendEntries);
  const record = (
    time: number,
    kind: 'tool.pin' | 'tool.change' | 'tool.approve',
    by: string,
    row: Pick<PinRow, 'tool' | 'server'>,
    detail: { hash: string; previous_hash: string | null; state: PinState },
  ) =>
    event({ time, kind, actor: by, detail: { tool: row.tool, server: row.server, by, ...detail } });

  /** Applies one observation inside the transaction (see Store.observeTools). */
  const observeOne = (o: ToolObservation, opts: ObserveOptions): void => {
    // The caller bounds definitions; refusing here too keeps a bug from filling the store.
    if (Buffer.byteLength(o.definition) > MAX_TOOL_DEFINITION_BYTES)
      throw new RangeError(
        `the definition of ${o.tool} is over ${MAX_TOOL_DEFINITION_BYTES} bytes`,
      );
    const row = byTool.get(o.tool);
    const time = opts.time;
    if (!row) {
      const allow = opts.newTools === 'allow';
      insert.run({
        tool: o.tool,
        server: o.server,
        name: o.name,
        state: allow ? 'approved' : 'new_pending',
        approved_hash: allow ? o.hash : null,
        approved_definition: allow ? o.definition : null,
        pending_hash: allow ? null : o.hash,
        pending_definition: allow ? null : o.definition,
        time,
        approved_by: allow ? GATEHOUSE : null,
        approved_ms: allow ? time : null,
      });
      const state = allow ? 'approved' : 'new_pending';
      record(time, 'tool.pin', GATEHOUSE, o, { hash: o.hash, previous_hash: null, state });
      return;
    }
    if (unchanged(row, o)) return;
    if (row.approved_hash === o.hash) {
      // The upstream went back to the approved definition: serve it again, and say so.
      setApproved.run({
        tool: o.tool,
        hash: o.hash,
        definition: o.definition,
        time,
        by: null,
        approved_ms: null,
      });
      const previous = row.pending_hash;
      record(time, 'tool.change', GATEHOUSE, row, {
        hash: o.hash,
        previous_hash: previous,
        state: 'approved',
      });
      return;
    }
    const state: PinState = row.approved_hash === null ? 'new_pending' : 'changed';
    setPending.run({ tool: o.tool, state, hash: o.hash, definition: o.definition, time });
    record(time, 'tool.change', GATEHOUSE, row, {
      hash: o.hash,
      previous_hash: row.approved_hash ?? row.pending_hash,
      state,
    });
  };

  const observeTx = writeTx(db, (list: readonly ToolObservation[], opts: ObserveOptions) =>
    list.map((o) => {
      observeOne(o, opts);
      const row = byTool.get(o.tool);
      if (!row) throw new Error(`the pin of ${o.tool} was not written`);
      return toPin(row);
    }),
  );

  const approveTx = writeTx(db, (tool: string, req: ApproveToolRequest): ApproveToolResult => {
    const row = byTool.get(tool);
    if (!row) return { ok: false, code: 'not_found' };
    if (row.pending_hash === null || row.pending_definition === null)
      return { ok: false, code: 'nothing_pending', pin: toPin(row) };
    if (req.hash !== undefined && req.hash !== row.pending_hash)
      return { ok: false, code: 'hash_mismatch', pin: toPin(row) };
    setApproved.run({
      tool,
      hash: row.pending_hash,
      definition: row.pending_definition,
      time: req.time,
      by: req.by,
      approved_ms: req.time,
    });
    record(req.time, 'tool.approve', req.by, row, {
      hash: row.pending_hash,
      previous_hash: row.approved_hash,
      state: 'approved',
    });
    const after = byTool.get(tool);
    if (!after) throw new Error(`the pin of ${tool} was not written`);
    return { ok: true, pin: toPin(after) };
  });

  return {
    observeTools: (list, opts) =>
      settle(() => {
        // Most listings change nothing: answer those from a read, without taking the write lock.
        const rows = list.map((o) => byTool.get(o.tool));
        if (list.every((o, i) => unchanged(rows[i], o))) return rows.map((r) => toPin(r as PinRow));
        return observeTx(list, opts);
      }),
    listToolPins: () => settle(() => all.all().map(toPin)),
    getToolPin: (tool) =>
      settle(() => {
        const row = byTool.get(tool);
        return row ? toPin(row) : undefined;
      }),
    approveTool: (tool, req) => settle(() => approveTx(tool, req)),
  };
}
