/**
 * Pinned tool definitions over HTTP, for administrators: list the pins, show one with its approved
 * and presented definitions, and approve a held tool's presented definition.
 */
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { ApproveToolResult, PinState, ToolPinRecord } from '../store/index.js';
import { parseBody, person } from './auth.js';
import { apiError, json, type HttpStatus } from './responses.js';
import type { Runtime } from './runtime.js';

/** Exposed tool ids (`<server>__<tool>`), as the catalog admits them. */
const TOOL_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** An approval. `hash` pins what the person reviewed: a definition changed since is not approved. */
const approveBody = z.strictObject({
  hash: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, 'must be a definition hash such as sha256:<64 hex digits>')
    .optional(),
});

/** A tool pin as the API and the CLI show it; definitions are included for one pin only. */
export interface ToolPinJson {
  readonly tool: string;
  readonly server: string;
  readonly name: string;
  readonly state: PinState;
  readonly approved_hash?: string;
  readonly pending_hash?: string;
  readonly first_seen: string;
  readonly updated: string;
  readonly approved_by?: string;
  readonly approved_at?: string;
  /** The definitions as the upstream presented them: attacker-controlled text. */
  readonly approved_definition?: unknown;
  readonly pending_definition?: unknown;
}

/** @example pinJson(await store.getToolPin('payments__refund'), true) */
export function pinJson(p: ToolPinRecord, definitions = false): ToolPinJson {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    tool: p.tool,
    server: p.server,
    name: p.name,
    state: p.state,
    ...(p.approvedHash !== undefined ? { approved_hash: p.approvedHash } : {}),
    ...(p.pendingHash !== undefined ? { pending_hash: p.pendingHash } : {}),
    first_seen: iso(p.firstSeen),
    updated: iso(p.updated),
    ...(p.approvedBy !== undefined ? { approved_by: p.approvedBy } : {}),
    ...(p.approvedAt !== undefined ? { approved_at: iso(p.approvedAt) } : {}),
    // Stored as canonical JSON written by Gatehouse itself, so it parses.
    ...(definitions && p.approvedDefinition !== undefined
      ? { approved_definition: JSON.parse(p.approvedDefinition) as unknown }
      : {}),
    ...(definitions && p.pendingDefinition !== undefined
      ? { pending_definition: JSON.parse(p.pendingDefinition) as unknown }
      : {}),
  };
}

type Refused = Extract<ApproveToolResult, { ok: false }>;

/** Why an approval was refused, in one sentence. @example approveProblem('x__y', res) */
export function approveProblem(tool: string, r: Refused): string {
  switch (r.code) {
    case 'not_found':
      return `no tool ${tool} has been seen (see: gatehouse tools list)`;
    case 'nothing_pending':
      return `${tool} presents its approved definition; there is nothing to approve`;
    case 'hash_mismatch':
      return `the definition ${tool} presents changed since it was reviewed (now ${r.pin?.pendingHash ?? 'unknown'}); review it again with gatehouse tools diff ${tool}`;
  }
}

const APPROVE_STATUS: Record<Refused['code'], HttpStatus> = {
  not_found: 404,
  nothing_pending: 409,
  hash_mismatch: 409,
};

/** Registers `/v1/tools` (admin keys only). */
export function registerToolRoutes(app: Hono, rt: Runtime): void {
  const limit = bodyLimit({
    maxSize: 4 * 1024,
    onError: () => apiError(413, 'invalid_request', 'the request body is too large'),
  });
  const unavailable = (err: unknown) => {
    rt.log.error({ err: (err as Error).message }, 'tool pins unavailable');
    return apiError(503, 'temporarily_unavailable', 'the tool pins cannot be read right now');
  };

  app.get('/v1/tools', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    try {
      return json({ tools: (await rt.store.listToolPins()).map((p) => pinJson(p)) });
    } catch (err) {
      return unavailable(err);
    }
  });

  app.get('/v1/tools/:id', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const id = c.req.param('id');
    try {
      const pin = TOOL_ID.test(id) ? await rt.store.getToolPin(id) : undefined;
      if (!pin) return apiError(404, 'not_found', `no tool ${id.slice(0, 80)} has been seen`);
      return json(pinJson(pin, true));
    } catch (err) {
      return unavailable(err);
    }
  });

  app.post('/v1/tools/:id/approve', limit, async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const id = c.req.param('id');
    if (!TOOL_ID.test(id)) return apiError(404, 'not_found', 'no such tool');
    const b = await parseBody(c, approveBody);
    if (b instanceof Response) return b;
    let res: ApproveToolResult;
    try {
      res = await rt.store.approveTool(id, {
        by: who.name,
        time: Date.now(),
        ...(b.hash ? { hash: b.hash } : {}),
      });
    } catch (err) {
      return unavailable(err);
    }
    if (!res.ok) return apiError(APPROVE_STATUS[res.code], res.code, approveProblem(id, res));
    rt.log.warn({ by: who.name, tool: id, hash: res.pin.approvedHash }, 'tool definition approved');
    // This process serves the approved definition at once and tells its sessions.
    await rt.gateway.refreshPins();
    return json(pinJson(res.pin));
  });
}
