/**
 * The answers of Gatehouse's HTTP API, as zod schemas: the client parses every answer with them
 * and refuses one that does not fit (`CLIENT_BAD_ANSWER`). Objects are not strict, so a newer
 * server may add fields.
 */
import { z } from 'zod';

const trust = z.enum(['trusted', 'internal', 'untrusted']);
const outcome = z.enum(['allow', 'deny', 'approval_required']);
const approvalStatus = z.enum(['pending', 'approved', 'denied', 'expired']);

/** Where an entry landed in the audit log. */
export const receiptAnswer = z.object({
  index: z.number().int().min(0),
  leaf_hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Receipt = z.infer<typeof receiptAnswer>;

/** `POST /v1/decide`. */
export const decisionAnswer = z.object({
  decision_id: z.string().min(1),
  /** `allow` also when an approval given for exactly this call was used now. */
  outcome,
  policies: z.array(z.string()),
  reason: z.string(),
  policy_set_hash: z.string(),
  approvers: z.array(z.string()).optional(),
  shadow: z.object({ outcome, policies: z.array(z.string()), reason: z.string() }).optional(),
  approval: z
    .object({
      id: z.string(),
      status: approvalStatus,
      used: z.boolean(),
      message: z.string().optional(),
    })
    .optional(),
  receipt: receiptAnswer.optional(),
});
export type DecisionAnswer = z.infer<typeof decisionAnswer>;

/** The provenance label of a recorded result. */
export const provenanceAnswer = z.object({
  trust,
  source: z.string(),
  server: z.string().optional(),
  tool: z.string().optional(),
  domain: z.string().optional(),
  entry: z.number().int().min(0),
});
export type Provenance = z.infer<typeof provenanceAnswer>;

/** `POST /v1/results`. */
export const resultAnswer = z.object({
  decision_id: z.string(),
  receipt: receiptAnswer,
  provenance: provenanceAnswer,
});
export type ResultAnswer = z.infer<typeof resultAnswer>;

/** `POST /v1/token/exchange` (RFC 8693). */
export const exchangeAnswer = z.object({
  access_token: z.string().min(1),
  issued_token_type: z.string(),
  token_type: z.string(),
  expires_in: z.number(),
  scope: z.string(),
});
export type ExchangeAnswer = z.infer<typeof exchangeAnswer>;

/** `POST /v1/runs/:id/inputs`. */
export const inputAnswer = z.object({
  run: z.string(),
  kind: z.string(),
  digest: z.string(),
  receipt: receiptAnswer,
});
export type InputAnswer = z.infer<typeof inputAnswer>;

/** `GET /v1/runs/:id`. */
export const runAnswer = z.object({
  run: z.string(),
  lowest_trust: trust,
  sources: z.array(z.string()),
});
export type RunAnswer = z.infer<typeof runAnswer>;

/** An approval request (`GET /v1/approvals/:id`, and the answers to approve and deny). */
export const approvalAnswer = z.object({
  id: z.string(),
  status: approvalStatus,
  decision_id: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  agent: z.object({ id: z.string(), name: z.string() }).loose(),
  tool: z.string(),
  server: z.string(),
  arguments: z.unknown(),
  args_digest: z.string(),
  policies: z.array(z.string()),
  reason: z.string(),
  approvers: z.array(z.string()),
  decided_by: z.string().optional(),
  decided_at: z.string().optional(),
  decision_reason: z.string().optional(),
  used_at: z.string().optional(),
  used_by_decision: z.string().optional(),
});
export type ApprovalAnswer = z.infer<typeof approvalAnswer>;

export const approvalListAnswer = z.object({ approvals: z.array(approvalAnswer) });

/** `GET /v1/audit/entries/:index`: an entry with its inclusion proof. */
export const entryAnswer = z.object({
  index: z.number().int().min(0),
  leaf_hash: z.string(),
  /** The exact leaf bytes (canonical JSON): hash these, not a re-serialisation of `entry`. */
  leaf: z.string(),
  entry: z.record(z.string(), z.unknown()),
  tree_size: z.number().int().min(1),
  inclusion_proof: z.array(z.string()),
  checkpoint: z.string(),
});
export type EntryAnswer = z.infer<typeof entryAnswer>;

/** An error answer of the control plane. */
export const errorAnswer = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});
