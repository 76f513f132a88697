import type { ApprovalRecord, ApprovalStatus, Store } from '../types.js';
import { settle, type Db } from './db.js';
import { eventWriter, writeTx, type AppendEntries } from './ledger.js';

interface ApprovalRow {
  id: string;
  decision_id: string;
  created_ms: number;
  expires_ms: number;
  status: ApprovalStatus;
  request: string;
  decided_by: string | null;
  decided_ms: number | null;
  decision_reason: string | null;
  used_ms: number | null;
  used_by_decision: string | null;
}

/** The parts of a request fixed at creation, kept as one JSON document. */
type RequestPart = Pick<
  ApprovalRecord,
  'agent' | 'tool' | 'server' | 'args' | 'argsDigest' | 'policies' | 'reason' | 'approvers'
>;

function toRecord(r: ApprovalRow): ApprovalRecord {
  const req = JSON.parse(r.request) as RequestPart;
  return {
    id: r.id,
    decisionId: r.decision_id,
    createdAt: r.created_ms,
    expiresAt: r.expires_ms,
    status: r.status,
    ...req,
    ...(r.decided_by !== null ? { decidedBy: r.decided_by } : {}),
    ...(r.decided_ms !== null ? { decidedAt: r.decided_ms } : {}),
    ...(r.decision_reason !== null ? { decisionReason: r.decision_reason } : {}),
    ...(r.used_ms !== null ? { usedAt: r.used_ms } : {}),
    ...(r.used_by_decision !== null ? { usedByDecision: r.used_by_decision } : {}),
  };
}

type ApprovalOps = Pick<
  Store,
  | 'createApproval'
  | 'getApproval'
  | 'listApprovals'
  | 'findApprovals'
  | 'approvalUsedBy'
  | 'answerApproval'
  | 'consumeApproval'
  | 'expireApprovals'
>;

/** Approval requests in SQLite; every change and its event are written in one transaction. */
export function approvalOps(db: Db, appendEntries: AppendEntries): ApprovalOps {
  const insert = db.prepare(
    `INSERT INTO approvals (id, decision_id, created_ms, expires_ms, status, run_id, tool, args_digest, request)
     VALUES (@id, @decision_id, @created_ms, @expires_ms, 'pending', @run_id, @tool, @args_digest, @request)`,
  );
  const byId = db.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE id = ?');
  const binding = db.prepare<[string, string, string], ApprovalRow>(
    `SELECT * FROM approvals WHERE run_id = ? AND tool = ? AND args_digest = ?
       AND (status = 'pending' OR (status = 'approved' AND used_ms IS NULL))
     ORDER BY seq DESC LIMIT 20`,
  );
  const usedBy = db.prepare<[string], ApprovalRow>(
    'SELECT * FROM approvals WHERE used_by_decision = ? LIMIT 1',
  );
  const answer = db.prepare(
    `UPDATE approvals SET status = @status, decided_by = @by, decided_ms = @time, decision_reason = @reason
     WHERE id = @id AND status = 'pending' AND expires_ms > @time`,
  );
  const consume = db.prepare(
    `UPDATE approvals SET used_ms = @time, used_by_decision = @decision
     WHERE id = @id AND status = 'approved' AND used_ms IS NULL AND expires_ms > @time`,
  );
  const expire = db.prepare<[number], { id: string }>(
    `UPDATE approvals SET status = 'expired' WHERE status = 'pending' AND expires_ms <= ? RETURNING id`,
  );
  const event = eventWriter(db, appendEntries);
  const record = (time: number, kind: string, actor: string, detail: Record<string, unknown>) =>
    event({ time, kind, actor, detail });

  const create = writeTx(db, (a: ApprovalRecord) => {
    const request: RequestPart = {
      agent: a.agent,
      tool: a.tool,
      server: a.server,
      args: a.args,
      argsDigest: a.argsDigest,
      policies: a.policies,
      reason: a.reason,
      approvers: a.approvers,
    };
    insert.run({
      id: a.id,
      decision_id: a.decisionId,
      created_ms: a.createdAt,
      expires_ms: a.expiresAt,
      run_id: a.agent.run,
      tool: a.tool,
      args_digest: a.argsDigest,
      request: JSON.stringify(request),
    });
    record(a.createdAt, 'approval.request', a.agent.id, {
      approval: a.id,
      decision: a.decisionId,
      tool: a.tool,
      args_digest: a.argsDigest,
    });
  });
  const answerTx = writeTx(db, (id: string, a: Parameters<Store['answerApproval']>[1]) => {
    if (answer.run({ id, ...a }).changes === 0) return undefined;
    const kind = a.status === 'approved' ? 'approval.approve' : 'approval.deny';
    record(a.time, kind, a.by, { approval: id, reason: a.reason });
    const row = byId.get(id);
    return row ? toRecord(row) : undefined;
  });
  const consumeTx = writeTx(db, (id: string, decision: string, time: number) => {
    if (consume.run({ id, decision, time }).changes === 0) return false;
    record(time, 'approval.use', 'gatehouse', { approval: id, decision });
    return true;
  });
  const expireTx = writeTx(db, (time: number) => {
    const ids = expire.all(time).map((r) => r.id);
    for (const id of ids) record(time, 'approval.expire', 'gatehouse', { approval: id });
    return ids;
  });

  return {
    createApproval: (a) => settle(() => create(a)),
    getApproval: (id) =>
      settle(() => {
        const row = byId.get(id);
        return row ? toRecord(row) : undefined;
      }),
    approvalUsedBy: (decisionId) =>
      settle(() => {
        const row = usedBy.get(decisionId);
        return row ? toRecord(row) : undefined;
      }),
    listApprovals: (q) =>
      settle(() => {
        const rows = (
          q.status
            ? db
                .prepare('SELECT * FROM approvals WHERE status = ? ORDER BY seq DESC LIMIT ?')
                .all(q.status, q.limit)
            : db.prepare('SELECT * FROM approvals ORDER BY seq DESC LIMIT ?').all(q.limit)
        ) as ApprovalRow[];
        return rows.map(toRecord);
      }),
    findApprovals: (run, tool, digest) =>
      settle(() => binding.all(run, tool, digest).map(toRecord)),
    answerApproval: (id, a) => settle(() => answerTx(id, a)),
    consumeApproval: (id, decision, time) => settle(() => consumeTx(id, decision, time)),
    expireApprovals: (time) => settle(() => expireTx(time)),
  };
}
