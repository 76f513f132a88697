/**
 * Results reported by agent runtimes that ran an allowed tool themselves (a Claude Code hook, an
 * SDK guard): recorded, labelled and observed by the run exactly as the gateway does its own.
 */
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { receiptJson } from '../audit/index.js';
import { reportResult, type ToolOutput } from '../gateway/index.js';
import { agentCaller, parseBody } from './auth.js';
import { apiError, json } from './responses.js';
import type { Runtime } from './runtime.js';

/** More blocks than any tool answers with; bounds the work on one body besides its byte size. */
const MAX_BLOCKS = 1000;
/** Deeper JSON than this is refused (digests and text extraction walk it). */
const MAX_DEPTH = 64;

/** Whether a parsed JSON value nests at most `max` levels (iterative: no recursion on input). */
function nestsWithin(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return false;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}
const shallow = { message: `nested deeper than ${MAX_DEPTH} levels` };

const uri = z.string().min(1).max(8192);
const mimeType = z.string().max(255).optional();

/**
 * One MCP content block. Attacker-controlled throughout: the texts are indexed for provenance
 * (bounded by the run's index limits), binary data is only digested.
 */
const contentBlock = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('image'), data: z.string(), mimeType: z.string().max(255) }),
  z.object({ type: z.literal('audio'), data: z.string(), mimeType: z.string().max(255) }),
  z.object({
    type: z.literal('resource'),
    resource: z.union([
      z.object({ uri, mimeType, text: z.string() }),
      z.object({ uri, mimeType, blob: z.string() }),
    ]),
  }),
  z.object({
    type: z.literal('resource_link'),
    uri,
    name: z.string().max(1024),
    mimeType,
    description: z.string().max(8192).optional(),
  }),
]);

/** A result a runtime reports. Every field is attacker-controlled (the runtime may be compromised). */
const resultBody = z
  .strictObject({
    /** The decision that let the call go ahead; it must be the caller's own, allowed, and without a result. */
    decision_id: z
      .string()
      .regex(/^dec_[A-Za-z0-9_-]{1,64}$/, 'must be a decision id such as dec_...'),
    /** `ok`, `error` (the tool answered with an error) or `failed` (no answer: crash, timeout). */
    status: z.enum(['ok', 'error', 'failed']),
    /** What the tool returned, as MCP content blocks; or `text` for plain text. */
    content: z.array(contentBlock).max(MAX_BLOCKS).optional(),
    /** What the tool returned, as plain text (one text block). */
    text: z.string().optional(),
    /** Structured output (any JSON); its string values are read as the result's text too. */
    structured: z
      .unknown()
      .refine((v) => nestsWithin(v, MAX_DEPTH), shallow)
      .optional(),
    /** Why there was no answer, for `failed`; kept in the record. */
    detail: z.string().max(1000).optional(),
    /**
     * The call's arguments, needed only when the decision kept less of them (`audit.arguments`);
     * refused unless their digest is the decided one.
     */
    arguments: z
      .record(z.string(), z.unknown())
      .refine((v) => nestsWithin(v, MAX_DEPTH), shallow)
      .optional(),
    /**
     * The call needed approval and the runtime's own user approved it (Claude Code's `ask`). A
     * refused call (deny) is never recorded as having run.
     */
    runtime_approval: z.boolean().optional(),
    /**
     * Only part of what the tool returned is sent (it was too large). For untrusted content the
     * run then counts every value nobody vouched for as untrusted: what was left out is unknown.
     */
    truncated: z.boolean().optional(),
  })
  .refine((b) => b.content === undefined || b.text === undefined, {
    message: 'give content or text, not both',
    path: ['text'],
  });

/** Registers `POST /v1/results`. */
export function registerResultRoutes(app: Hono, rt: Runtime): void {
  const limit = bodyLimit({
    maxSize: rt.config.limits.max_body_bytes,
    onError: () => apiError(413, 'invalid_request', 'the request body is too large'),
  });

  app.post('/v1/results', limit, async (c) => {
    const agent = await agentCaller(rt, c);
    if (agent instanceof Response) return agent;
    const b = await parseBody(c, resultBody);
    if (b instanceof Response) return b;
    const content = b.content ?? (b.text !== undefined ? [{ type: 'text', text: b.text }] : []);
    const output = {
      content,
      ...(b.structured !== undefined ? { structuredContent: b.structured } : {}),
      ...(b.status === 'error' ? { isError: true } : {}),
    } as ToolOutput;
    const res = await reportResult({ store: rt.store, recorder: rt.gateway.results }, agent, {
      decisionId: b.decision_id,
      status: b.status,
      output,
      ...(b.detail !== undefined ? { detail: b.detail } : {}),
      ...(b.arguments !== undefined ? { args: b.arguments } : {}),
      ...(b.runtime_approval ? { runtimeApproval: true } : {}),
      ...(b.truncated ? { truncated: true } : {}),
    });
    if (!res.ok) {
      if (res.status === 503) rt.log.error({ decision: b.decision_id }, res.message);
      return apiError(res.status, res.error, res.message);
    }
    rt.log.info(
      { decision: b.decision_id, trust: res.provenance.trust, agent: agent.name },
      'result reported',
    );
    return json(
      { decision_id: b.decision_id, receipt: receiptJson(res.receipt), provenance: res.provenance },
      201,
    );
  });
}
