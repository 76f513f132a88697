import type { Context } from 'hono';
import type { z } from 'zod';
import { formatIssues } from '../config/index.js';
import { checkAdminKey, looksLikeAdminKey, type AgentIdentity } from '../identity/index.js';
import type { AdminKeyRecord, PersonRole } from '../store/index.js';
import { apiError, bearer } from './responses.js';
import type { Runtime } from './runtime.js';

/** Reads a form or JSON body; undefined when it is neither. */
async function readBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  try {
    if (type.startsWith('application/x-www-form-urlencoded'))
      return Object.fromEntries(new URLSearchParams(await c.req.text()));
    if (type.startsWith('application/json')) return (await c.req.json()) as unknown;
  } catch {
    return undefined;
  }
  return undefined;
}

/** Reads and validates a body against a schema; every bad field is named in the 400 answer. */
export async function parseBody<T>(c: Context, schema: z.ZodType<T>): Promise<T | Response> {
  const raw = await readBody(c);
  if (raw === undefined)
    return apiError(400, 'invalid_request', 'send a form-encoded or JSON body');
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return apiError(400, 'invalid_request', formatIssues(parsed.error.issues).replace(/\n/g, '; '));
  }
  return parsed.data;
}

/** Authenticates a person by API key; agent credentials are refused outright. */
export async function person(
  rt: Runtime,
  c: Context,
  roles: readonly PersonRole[],
): Promise<AdminKeyRecord | Response> {
  const presented = bearer(c.req.header('authorization'));
  if (!presented)
    return apiError(401, 'invalid_token', 'send a person key as "Authorization: Bearer ghk_..."', {
      'WWW-Authenticate': 'Bearer realm="gatehouse-admin"',
    });
  if (!looksLikeAdminKey(presented))
    return apiError(
      403,
      'insufficient_scope',
      'agent credentials are not accepted on admin endpoints',
    );
  const check = await checkAdminKey(rt.store, presented);
  if (!check.ok)
    return apiError(401, 'invalid_token', check.message, {
      'WWW-Authenticate': 'Bearer realm="gatehouse-admin"',
    });
  if (!roles.includes(check.person.role))
    return apiError(403, 'insufficient_scope', `this needs the ${roles.join(' or ')} role`);
  return check.person;
}

/** Why an agent's request was refused; each front words it in its own protocol. */
export type AgentRefusal =
  | { readonly why: 'missing' }
  | { readonly why: 'person_key' }
  | { readonly why: 'invalid'; readonly code: string; readonly message: string }
  | { readonly why: 'unavailable' };

/** The `WWW-Authenticate` challenge for a refused credential (RFC 6750). */
export const challenge = (description: string): Record<string, string> => ({
  'www-authenticate': `Bearer realm="gatehouse", error="invalid_token", error_description="${description}"`,
});

/**
 * The one agent check of every front (the control plane's agent routes and MCP): a bearer agent
 * credential, never a person's key, verified with revocations; a store that cannot be read
 * refuses (fail closed). Never echoes the token.
 */
export async function verifyAgent(
  rt: Runtime,
  header: string | undefined,
): Promise<{ ok: true; agent: AgentIdentity; token: string } | ({ ok: false } & AgentRefusal)> {
  const token = bearer(header);
  if (!token) return { ok: false, why: 'missing' };
  if (looksLikeAdminKey(token)) return { ok: false, why: 'person_key' };
  try {
    const v = await rt.authority.verify(token);
    if (!v.ok) return { ok: false, why: 'invalid', code: v.code, message: v.message };
    return { ok: true, agent: v.identity, token };
  } catch (err) {
    // Revocations live in the store: without it a revoked credential could pass, so refuse.
    rt.log.error({ err: (err as Error).message }, 'cannot verify credentials: store unavailable');
    return { ok: false, why: 'unavailable' };
  }
}

/** Authenticates an agent by its credential; people's keys are refused (they are not agents). */
export async function agentCaller(rt: Runtime, c: Context): Promise<AgentIdentity | Response> {
  const v = await verifyAgent(rt, c.req.header('authorization'));
  if (v.ok) return v.agent;
  switch (v.why) {
    case 'missing':
      return apiError(
        401,
        'invalid_token',
        'send the agent credential as "Authorization: Bearer <token>"',
        challenge('missing credential'),
      );
    case 'person_key':
      return apiError(
        403,
        'insufficient_scope',
        'a person key is not an agent credential; decisions are made for agents',
      );
    case 'invalid':
      return apiError(401, 'invalid_token', `${v.message} (${v.code})`, challenge(v.code));
    case 'unavailable':
      return apiError(
        503,
        'temporarily_unavailable',
        'Gatehouse cannot check credentials right now; refused',
      );
  }
}
