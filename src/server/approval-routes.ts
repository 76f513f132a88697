import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AnswerResult } from '../approvals/index.js';
import type { ApprovalRecord, ApprovalStatus } from '../store/index.js';
import { parseBody, person } from './auth.js';
import { apiError, json, type HttpStatus } from './responses.js';
import type { Runtime } from './runtime.js';

const STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
const APPROVAL_ID = /^apr_[A-Za-z0-9_-]{1,64}$/;

/** An approver's answer. The reason is shown to the agent and kept in the record. */
const answerBody = z.strictObject({ reason: z.string().max(1000).optional() });

/** An approval request as the API and the CLI show it. */
export interface ApprovalJson {
  readonly id: string;
  readonly status: ApprovalStatus;
  readonly decision_id: string;
  readonly created_at: string;
  readonly expires_at: string;
  readonly agent: ApprovalRecord['agent'];
  readonly tool: string;
  readonly server: string;
  readonly arguments: unknown;
  readonly args_digest: string;
  readonly policies: readonly string[];
  readonly reason: string;
  readonly approvers: readonly string[];
  readonly decided_by?: string;
  readonly decided_at?: string;
  readonly decision_reason?: string;
  readonly used_at?: string;
  readonly used_by_decision?: string;
}

export function approvalJson(a: ApprovalRecord): ApprovalJson {
  return {
    id: a.id,
    status: a.status,
    decision_id: a.decisionId,
    created_at: new Date(a.createdAt).toISOString(),
    expires_at: new Date(a.expiresAt).toISOString(),
    agent: a.agent,
    tool: a.tool,
    server: a.server,
    arguments: a.args,
    args_digest: a.argsDigest,
    policies: a.policies,
    reason: a.reason,
    approvers: a.approvers,
    ...(a.decidedBy !== undefined ? { decided_by: a.decidedBy } : {}),
    ...(a.decidedAt !== undefined ? { decided_at: new Date(a.decidedAt).toISOString() } : {}),
    ...(a.decisionReason !== undefined ? { decision_reason: a.decisionReason } : {}),
    ...(a.usedAt !== undefined ? { used_at: new Date(a.usedAt).toISOString() } : {}),
    ...(a.usedByDecision !== undefined ? { used_by_decision: a.usedByDecision } : {}),
  };
}

const ANSWER_STATUS: Record<Exclude<AnswerResult, { ok: true }>['code'], HttpStatus> = {
  not_found: 404,
  not_pending: 409,
  forbidden: 403,
  invalid: 400,
};

/** Registers the approvers' API: list, show, approve, deny (approver or admin keys only). */
export function registerApprovalRoutes(app: Hono, rt: Runtime): void {
  const limit = bodyLimit({
    maxSize: 16 * 1024,
    onError: () => apiError(413, 'invalid_request', 'the request body is too large'),
  });

  app.get('/v1/approvals', async (c) => {
    const who = await person(rt, c, ['approver', 'admin']);
    if (who instanceof Response) return who;
    const status = c.req.query('status') ?? 'pending';
    if (status !== 'all' && !(STATUSES as readonly string[]).includes(status))
      return apiError(400, 'invalid_request', `status: must be one of ${STATUSES.join(', ')}, all`);
    await rt.approvals.expireDue();
    const list = await rt.store.listApprovals({
      limit: 500,
      ...(status === 'all' ? {} : { status: status as ApprovalStatus }),
    });
    return json({ approvals: list.map(approvalJson) });
  });

  app.get('/v1/approvals/:id', async (c) => {
    const who = await person(rt, c, ['approver', 'admin']);
    if (who instanceof Response) return who;
    const id = c.req.param('id');
    const a = APPROVAL_ID.test(id) ? await rt.store.getApproval(id) : undefined;
    if (!a) return apiError(404, 'not_found', `no approval request ${id.slice(0, 80)}`);
    return json(approvalJson(a));
  });

  for (const verdict of ['approve', 'deny'] as const) {
    app.post(`/v1/approvals/:id/${verdict}`, limit, async (c) => {
      const who = await person(rt, c, ['approver', 'admin']);
      if (who instanceof Response) return who;
      const id = c.req.param('id');
      if (!APPROVAL_ID.test(id)) return apiError(404, 'not_found', 'no such approval request');
      const b = await parseBody(c, answerBody);
      if (b instanceof Response) return b;
      const res = await rt.approvals.answer(id, who, verdict, b.reason);
      if (!res.ok) return apiError(ANSWER_STATUS[res.code], res.code, res.message);
      return json(approvalJson(res.approval));
    });
  }
}
