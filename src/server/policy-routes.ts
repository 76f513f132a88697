import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { runId } from '../identity/index.js';
import type { ApprovalRef } from '../gateway/index.js';
import type { Decision } from '../policy/index.js';
import { receiptJson } from '../audit/index.js';
import type { AuditReceipt } from '../store/index.js';
import { agentCaller, parseBody, person } from './auth.js';
import { apiError, json } from './responses.js';
import type { Runtime } from './runtime.js';

const toolName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_-]');
const serverName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/, 'must be a server name from the config');

/** A decision request from another runtime. Every field is attacker-controlled. */
const decideBody = z.strictObject({
  /** `payments__refund`, or the server and the upstream's own name. */
  tool: z.union([toolName, z.strictObject({ server: serverName, name: toolName })]),
  /** The tool's arguments; bounded again by the engine (size, depth) before policy sees them. */
  arguments: z.record(z.string(), z.unknown()).default({}),
  /** Must match the run in the credential when given: a caller cannot borrow another run's state. */
  run: runId.optional(),
});

const lockdownBody = z.strictObject({
  pattern: z.string().min(1).max(128),
  reason: z.string().min(1).max(500),
});
const liftBody = z.strictObject({ pattern: z.string().min(1).max(128) });

/** What was decided and why, as the API and the CLI show it (`outcome`, `policies`, `reason`, …). */
export function verdictJson(d: Decision): Record<string, unknown> {
  return {
    outcome: d.outcome,
    policies: d.policies,
    reason: d.reason,
    policy_set_hash: d.policySetHash,
    ...(d.outcome === 'approval_required' ? { approvers: d.approvers } : {}),
    ...(d.shadow
      ? {
          shadow: {
            outcome: d.shadow.outcome,
            policies: d.shadow.policies,
            reason: d.shadow.reason,
          },
        }
      : {}),
  };
}

/**
 * The decision as the API and the CLI show it. A call that used an approval given for exactly
 * it is `allow`: the runtime may run the tool now.
 */
export function decisionJson(
  d: Decision,
  approval?: ApprovalRef,
  receipt?: AuditReceipt,
): Record<string, unknown> {
  return {
    decision_id: d.id,
    ...verdictJson(d),
    ...(approval?.used ? { outcome: 'allow' } : {}),
    ...(approval ? { approval } : {}),
    ...(receipt ? { receipt: receiptJson(receipt) } : {}),
  };
}

/** Registers the decision API, policy reload and lockdowns. */
export function registerPolicyRoutes(app: Hono, rt: Runtime): void {
  const limit = bodyLimit({
    maxSize: rt.config.limits.max_body_bytes,
    onError: () => apiError(413, 'invalid_request', 'the request body is too large'),
  });

  app.post('/v1/decide', limit, async (c) => {
    const agent = await agentCaller(rt, c);
    if (agent instanceof Response) return agent;
    const b = await parseBody(c, decideBody);
    if (b instanceof Response) return b;
    if (b.run !== undefined && b.run !== agent.run)
      return apiError(400, 'invalid_request', 'run: does not match the run of the credential');
    const decided = await rt.gateway.decideCall(agent, b.tool, b.arguments);
    if (!decided.ok) {
      return decided.kind === 'unavailable'
        ? apiError(503, 'temporarily_unavailable', decided.message)
        : apiError(400, 'invalid_request', decided.message);
    }
    return json(decisionJson(decided.decision, decided.approval, decided.receipt));
  });

  app.get('/v1/policies', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const engine = rt.policy.current();
    return json({
      policy_set_hash: engine.policySetHash,
      mode: engine.mode,
      policies: [...engine.policies.values()].map((p) => ({
        id: p.id,
        file: p.file,
        line: p.line,
        effect: p.effect,
        shadow: p.shadow,
        approval: 'approval' in p.annotations,
      })),
      lockdowns: engine.lockdowns,
    });
  });

  app.post('/v1/policies/reload', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const res = await rt.policy.reload('api', who.name);
    return json(res, res.ok ? 200 : 409);
  });

  app.get('/v1/lockdowns', async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    return json({ lockdowns: rt.policy.current().lockdowns });
  });

  app.post('/v1/lockdowns', limit, async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const b = await parseBody(c, lockdownBody);
    if (b instanceof Response) return b;
    const res = await rt.policy.lockdown(b.pattern, b.reason, who.name);
    if (!res.ok) return apiError(400, 'invalid_request', res.error);
    rt.log.warn({ by: who.name, pattern: b.pattern }, 'lockdown');
    return json(
      { pattern: b.pattern, new: res.changed, policy_set_hash: res.policySetHash },
      res.changed ? 201 : 200,
    );
  });

  app.post('/v1/lockdowns/lift', limit, async (c) => {
    const who = await person(rt, c, ['admin']);
    if (who instanceof Response) return who;
    const b = await parseBody(c, liftBody);
    if (b instanceof Response) return b;
    const res = await rt.policy.lift(b.pattern, who.name);
    if (!res.ok) return apiError(400, 'invalid_request', res.error);
    if (!res.changed) return apiError(404, 'not_found', `no lockdown on "${b.pattern}"`);
    rt.log.warn({ by: who.name, pattern: b.pattern }, 'lockdown lifted');
    return json({ pattern: b.pattern, lifted: true, policy_set_hash: res.policySetHash });
  });
}
