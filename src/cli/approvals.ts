import { Approvals } from '../approvals/index.js';
import { loadConfig } from '../config/index.js';
import { checkAdminKey } from '../identity/index.js';
import { silentLogger } from '../log/index.js';
import { approvalJson, openLocalAdmin, type ApprovalJson } from '../server/index.js';
import type { ApprovalStatus } from '../store/index.js';
import { adminKeyFromEnv, bad, remoteCall } from './common.js';
import { table } from './output.js';

const STATUSES = ['pending', 'approved', 'denied', 'expired', 'all'] as const;

const personKey = () => adminKeyFromEnv('your approver or admin key (ghk_…)');

async function local<T>(
  configPath: string,
  work: (a: Awaited<ReturnType<typeof openLocalAdmin>>) => Promise<T>,
): Promise<T> {
  const admin = await openLocalAdmin(loadConfig(configPath));
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

export interface ApprovalsListOptions {
  config: string;
  status: string;
  url?: string;
  json?: boolean;
}

/** `gatehouse approvals list`: requests, pending by default, newest first. */
export async function approvalsListCommand(o: ApprovalsListOptions): Promise<void> {
  if (!(STATUSES as readonly string[]).includes(o.status))
    throw bad(`--status must be one of ${STATUSES.join(', ')}`);
  // A remote Gatehouse answers with the same shape `approvalJson` builds locally.
  const rows: ApprovalJson[] = o.url
    ? ((
        await remoteCall(o.url, `v1/approvals?status=${o.status}`, undefined, {
          adminKey: personKey(),
          method: 'GET',
        })
      ).approvals as ApprovalJson[])
    : await local(o.config, async ({ store }) => {
        await store.expireApprovals(Date.now());
        const list = await store.listApprovals({
          limit: 500,
          ...(o.status === 'all' ? {} : { status: o.status as ApprovalStatus }),
        });
        return list.map(approvalJson);
      });
  if (o.json) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write(
      o.status === 'pending' ? 'No pending approval requests.\n' : 'No approval requests.\n',
    );
    return;
  }
  process.stdout.write(
    `${table(
      ['ID', 'STATUS', 'AGENT', 'PRINCIPAL', 'TOOL', 'REASON', 'EXPIRES'],
      rows.map((r) => [
        r.id,
        r.status,
        `${r.agent.name}@${r.agent.version}`,
        r.agent.principal,
        r.tool,
        r.reason,
        r.expires_at.replace('T', ' ').slice(0, 19),
      ]),
    )}\n`,
  );
}

/** `gatehouse approvals show ID`: everything an approver needs to decide. */
export async function approvalsShowCommand(
  id: string,
  o: { config: string; url?: string; json?: boolean },
): Promise<void> {
  const a: ApprovalJson | undefined = o.url
    ? ((await remoteCall(o.url, `v1/approvals/${encodeURIComponent(id)}`, undefined, {
        adminKey: personKey(),
        method: 'GET',
      })) as unknown as ApprovalJson)
    : await local(o.config, async ({ store }) => {
        const r = await store.getApproval(id);
        return r ? approvalJson(r) : undefined;
      });
  if (!a) throw bad(`no approval request ${id}`);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(a, null, 2)}\n`);
    return;
  }
  const agent = a.agent;
  const lines = [
    `${a.id}  ${a.status.toUpperCase()}`,
    `  agent       ${agent.name}@${agent.version} (${agent.id})`,
    `  lineage     ${agent.ancestors.length ? agent.ancestors.join(' <- ') : '(root orchestrator)'}`,
    `  principal   ${agent.principal}, run ${agent.run}`,
    `  tool        ${a.tool}`,
    `  arguments   ${JSON.stringify(a.arguments)}`,
    `  reason      ${a.reason} (${a.policies.join(', ')})`,
    `  approvers   ${a.approvers.join(', ') || 'any approver'}`,
    `  created     ${a.created_at}, expires ${a.expires_at}`,
  ];
  if (a.decided_by !== undefined)
    lines.push(`  answered    by ${a.decided_by}: ${a.decision_reason || '(no reason)'}`);
  if (a.used_by_decision !== undefined) lines.push(`  used by     ${a.used_by_decision}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `gatehouse approvals approve|deny ID`: answers as the person whose key is in GATEHOUSE_ADMIN_KEY. */
export async function approvalsAnswerCommand(
  verdict: 'approve' | 'deny',
  id: string,
  o: { config: string; url?: string; reason?: string },
): Promise<void> {
  if (verdict === 'deny' && !o.reason?.trim())
    throw bad('--reason is required to deny: the agent is told it');
  const key = personKey();
  if (o.url) {
    await remoteCall(
      o.url,
      `v1/approvals/${encodeURIComponent(id)}/${verdict}`,
      o.reason ? { reason: o.reason } : {},
      { adminKey: key },
    );
  } else {
    await local(o.config, async ({ store }) => {
      const check = await checkAdminKey(store, key);
      if (!check.ok) throw bad(`GATEHOUSE_ADMIN_KEY was not accepted: ${check.message}`);
      if (check.person.role !== 'approver' && check.person.role !== 'admin')
        throw bad('this needs an approver or admin key');
      const approvals = new Approvals({
        store,
        log: silentLogger(),
        now: Date.now,
        ttlMs: 0,
        waitMs: 0,
      });
      const res = await approvals.answer(id, check.person, verdict, o.reason);
      if (!res.ok) throw bad(res.message);
    });
  }
  process.stdout.write(
    verdict === 'approve'
      ? `Approved ${id}: the waiting call goes ahead (or its identical retry passes, once).\n`
      : `Denied ${id}: the agent is told why.\n`,
  );
}
