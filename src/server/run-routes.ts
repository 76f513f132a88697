/**
 * Run provenance over HTTP: what a run has read, and the human's own inputs registered as trusted.
 */
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { sha256Hex } from '../crypto/index.js';
import { looksLikeAdminKey, runId } from '../identity/index.js';
import { receiptJson } from '../audit/index.js';
import { agentCaller, parseBody, person } from './auth.js';
import { apiError, bearer, json } from './responses.js';
import type { Runtime } from './runtime.js';

/** The most text one registration may carry. */
const MAX_INPUT_CHARS = 64 * 1024;

/** A trusted input of a run. Attacker-controlled in size and content; bounded here. */
const inputBody = z.strictObject({
  /** What the human said or gave (their prompt, a form field), exactly as they gave it. */
  text: z.string().min(1).max(MAX_INPUT_CHARS),
  /** Where it came from, for the record (e.g. `prompt`, `claude-code:UserPromptSubmit`). */
  kind: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_.:-]')
    .default('prompt'),
});

/**
 * Who may speak for the run's human: an administrator, or the run's root agent (depth 0, the one
 * the human talks to). A subagent may not: it hears the human only through other agents.
 */
async function runSpeaker(
  rt: Runtime,
  c: Context,
  run: string,
): Promise<{ actor: string } | Response> {
  if (looksLikeAdminKey(bearer(c.req.header('authorization')) ?? '')) {
    const who = await person(rt, c, ['admin']);
    return who instanceof Response ? who : { actor: `admin:${who.name}` };
  }
  const agent = await agentCaller(rt, c);
  if (agent instanceof Response) return agent;
  if (agent.run !== run)
    return apiError(403, 'insufficient_scope', 'an agent may register inputs of its own run only');
  if (agent.depth !== 0)
    return apiError(403, 'insufficient_scope', 'only the root agent of a run may register inputs');
  return { actor: agent.id };
}

/** Registers `/v1/runs/:id` and `/v1/runs/:id/inputs`. */
export function registerRunRoutes(app: Hono, rt: Runtime): void {
  const limit = bodyLimit({
    maxSize: MAX_INPUT_CHARS * 4 + 1024,
    onError: () => apiError(413, 'invalid_request', 'the body is too large'),
  });

  app.post('/v1/runs/:id/inputs', limit, async (c) => {
    const run = runId.safeParse(c.req.param('id'));
    if (!run.success) return apiError(400, 'invalid_request', 'the run id is not valid');
    const who = await runSpeaker(rt, c, run.data);
    if (who instanceof Response) return who;
    const body = await parseBody(c, inputBody);
    if (body instanceof Response) return body;
    const digest = `sha256:${sha256Hex(body.text)}`;
    try {
      // Recorded first: an input nobody can later find in the log must not vouch for anything.
      const receipt = await rt.store.recordEvent({
        time: rt.now(),
        kind: 'run.input',
        actor: who.actor,
        detail: { run: run.data, kind: body.kind, digest, chars: body.text.length },
      });
      rt.runs.registerInput(run.data, body.text);
      return json({ run: run.data, kind: body.kind, digest, receipt: receiptJson(receipt) }, 201);
    } catch (err) {
      rt.log.error({ err: (err as Error).message }, 'cannot record a run input');
      return apiError(
        503,
        'unavailable',
        'the input could not be recorded, so it was not registered',
      );
    }
  });

  app.get('/v1/runs/:id', async (c) => {
    const run = runId.safeParse(c.req.param('id'));
    if (!run.success) return apiError(400, 'invalid_request', 'the run id is not valid');
    if (looksLikeAdminKey(bearer(c.req.header('authorization')) ?? '')) {
      const who = await person(rt, c, ['admin', 'approver']);
      if (who instanceof Response) return who;
    } else {
      const agent = await agentCaller(rt, c);
      if (agent instanceof Response) return agent;
      if (agent.run !== run.data)
        return apiError(403, 'insufficient_scope', 'an agent may read its own run only');
    }
    const state = rt.runs.get(run.data);
    return json({ run: run.data, lowest_trust: state.lowestTrust, sources: state.sources });
  });
}
