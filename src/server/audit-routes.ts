/**
 * The audit log over HTTP: the latest signed checkpoint, entries with inclusion proofs, and
 * consistency proofs. Hashes are hex; checkpoints are C2SP signed notes, served as text.
 */
import type { Context, Hono } from 'hono';
import { toHex } from '../crypto/index.js';
import { isGatehouseError } from '../errors/index.js';
import { looksLikeAdminKey, type AgentIdentity } from '../identity/index.js';
import { agentCaller, person } from './auth.js';
import { bearer, apiError, json } from './responses.js';
import type { Runtime } from './runtime.js';

const INDEX = /^(?:0|[1-9][0-9]{0,15})$/;

type Reader =
  { readonly kind: 'admin' } | { readonly kind: 'agent'; readonly agent: AgentIdentity };

/** Administrators read the whole log; an agent reads the entries of its own run. */
async function reader(rt: Runtime, c: Context): Promise<Reader | Response> {
  if (looksLikeAdminKey(bearer(c.req.header('authorization')) ?? '')) {
    const who = await person(rt, c, ['admin']);
    return who instanceof Response ? who : { kind: 'admin' };
  }
  const agent = await agentCaller(rt, c);
  return agent instanceof Response ? agent : { kind: 'agent', agent };
}

function text(body: string): Response {
  return new Response(body, {
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}

function failure(rt: Runtime, err: unknown): Response {
  if (isGatehouseError(err, 'AUDIT_NO_ENTRY')) return apiError(404, 'not_found', err.message);
  if (isGatehouseError(err, 'AUDIT_BAD_RANGE'))
    return apiError(400, 'invalid_request', err.message);
  rt.log.error({ err: (err as Error).message }, 'audit log unavailable');
  const detail = isGatehouseError(err, 'AUDIT_LOG_TAMPERED') ? err.message : 'store unavailable';
  return apiError(503, 'unavailable', `the audit log cannot answer: ${detail}`);
}

/** Registers `/v1/audit/*`. */
export function registerAuditRoutes(app: Hono, rt: Runtime): void {
  app.get('/v1/audit/checkpoint', async (c) => {
    const who = await reader(rt, c);
    if (who instanceof Response) return who;
    try {
      const latest = (await rt.store.latestCheckpoint()) ?? (await rt.audit.checkpoint());
      return text(latest.note);
    } catch (err) {
      return failure(rt, err);
    }
  });

  app.post('/v1/audit/checkpoint', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    try {
      return text((await rt.audit.checkpoint()).note);
    } catch (err) {
      return failure(rt, err);
    }
  });

  // The verifier key is public: anyone checking an export or a checkpoint needs it.
  app.get('/v1/audit/log.vkey', () => text(`${rt.audit.vkey}\n`));

  app.get('/v1/audit/entries/:index', async (c) => {
    const who = await reader(rt, c);
    if (who instanceof Response) return who;
    const raw = c.req.param('index');
    const size = c.req.query('tree_size');
    if (!INDEX.test(raw) || (size !== undefined && !INDEX.test(size))) {
      return apiError(400, 'invalid_request', 'the index and tree_size are whole numbers');
    }
    try {
      const p = await rt.audit.prove(Number(raw), size === undefined ? undefined : Number(size));
      const leaf = Buffer.from(p.entry.leaf).toString('utf8');
      const entry = JSON.parse(leaf) as { agent?: { run?: unknown } };
      if (who.kind === 'agent' && entry.agent?.run !== who.agent.run) {
        return apiError(403, 'insufficient_scope', 'an agent may read the entries of its own run');
      }
      return json({
        index: p.entry.index,
        leaf_hash: toHex(p.entry.hash),
        // The exact leaf bytes (canonical JSON): hash these, not a re-serialisation of `entry`.
        leaf,
        entry,
        tree_size: p.treeSize,
        inclusion_proof: p.proof.map(toHex),
        checkpoint: p.checkpoint.note,
      });
    } catch (err) {
      return failure(rt, err);
    }
  });

  app.get('/v1/audit/consistency', async (c) => {
    const who = await reader(rt, c);
    if (who instanceof Response) return who;
    const from = c.req.query('from') ?? '';
    const to = c.req.query('to') ?? '';
    if (!INDEX.test(from) || !INDEX.test(to)) {
      return apiError(400, 'invalid_request', 'from and to are tree sizes (whole numbers)');
    }
    try {
      const proof = await rt.audit.consistency(Number(from), Number(to));
      return json({ from: Number(from), to: Number(to), proof: proof.map(toHex) });
    } catch (err) {
      return failure(rt, err);
    }
  });

  // Pages of entries for `gatehouse audit tail --url` and SIEM collectors.
  app.get('/v1/audit/entries', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const from = c.req.query('from') ?? '0';
    const limit = c.req.query('limit') ?? '100';
    if (!INDEX.test(from) || !/^[1-9][0-9]{0,3}$/.test(limit) || Number(limit) > 1000) {
      return apiError(400, 'invalid_request', 'from is an index; limit is 1 to 1000');
    }
    try {
      const entries = await rt.store.auditEntries(Number(from), Number(limit));
      return json({
        entries: entries.map((e) => ({
          index: e.index,
          leaf_hash: toHex(e.hash),
          leaf: Buffer.from(e.leaf).toString('utf8'),
        })),
        size: await rt.store.auditSize(),
      });
    } catch (err) {
      return failure(rt, err);
    }
  });
}
