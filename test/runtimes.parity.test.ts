import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { gatehouseCanUseTool } from '../src/adapters/agent-sdk.js';
import { GatehouseClient } from '../src/client/index.js';
import { quickstartNoWait, startGatehouse, tempDir, type Running } from './helpers/gatehouse.js';
import { hookEvent, permission, runHook } from './helpers/hook.js';

type Outcome = 'allow' | 'deny' | 'approval_required';

interface Case {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly expect: Outcome;
  readonly policies: readonly string[];
}

/** Requests decided by the quickstart policy, each in a fresh run. */
const CASES: readonly Case[] = [
  { tool: 'payments__get_balance', args: {}, expect: 'allow', policies: ['payments-balance'] },
  {
    tool: 'payments__refund',
    args: { customer: 'c-1001', amount: 120 },
    expect: 'allow',
    policies: ['support-bot-refunds'],
  },
  {
    tool: 'payments__refund',
    args: { customer: 'c-1001', amount: 900 },
    expect: 'approval_required',
    policies: ['refunds-over-500-need-approval'],
  },
  {
    tool: 'payments__send_money',
    args: { to: 'DE89370400440532013000', amount: 2500 },
    expect: 'approval_required',
    policies: ['send-money-needs-approval'],
  },
  {
    tool: 'files__write_file',
    args: { path: 'notes.txt', content: 'x' },
    expect: 'deny',
    policies: ['files-no-writes'],
  },
  {
    tool: 'files__read_text_file',
    args: { path: 'notes.txt' },
    expect: 'allow',
    policies: ['files-read'],
  },
];

const policiesIn = (text: string) =>
  /Deciding policies: ([^.(]*)/.exec(text)?.[1]?.trim().split(', ') ?? [];

/**
 * One policy, one meaning: the same requests through the MCP gateway (real SDK client), the
 * Claude Code hook process, the Agent SDK adapter and POST /v1/decide give the same outcome and
 * name the same deciding policies.
 */
describe('the same outcome in every runtime', () => {
  let gh: Running;
  const stateDir = tempDir('gatehouse-hook-state-');

  before(async () => {
    // Calls that need approval answer at once instead of waiting for a person.
    gh = await startGatehouse(quickstartNoWait());
  });
  after(() => gh.close());

  const fresh = () => gh.mint({ run: `run-${randomUUID()}` });

  async function viaGateway(c: Case): Promise<{ outcome: Outcome; policies: string[] }> {
    const client = await gh.client(await fresh());
    const r = await client.callTool({ name: c.tool, arguments: c.args });
    const d = r._meta?.['gatehouse/decision'] as
      { outcome: Outcome; policies: string[] } | undefined;
    if (d) return { outcome: d.outcome, policies: d.policies };
    assert.notEqual(r.isError, true, JSON.stringify(r));
    // An answered call was allowed: its decision is the run's latest record.
    const [rec] = await gh.rt.store.listDecisions({ limit: 1, tool: c.tool });
    return { outcome: 'allow', policies: [...(rec?.policies ?? [])] };
  }

  async function viaHook(c: Case): Promise<{ outcome: Outcome; policies: string[] }> {
    const event = hookEvent('pre-mcp-balance', {
      session_id: randomUUID(),
      tool_name: `mcp__${c.tool}`,
      tool_input: c.args,
    });
    const r = await runHook(event, ['--state-dir', stateDir], {
      GATEHOUSE_URL: gh.http.baseUrl,
      GATEHOUSE_TOKEN: await fresh(),
    });
    assert.equal(r.code, 0, r.err);
    const p = permission(r);
    const outcome: Outcome =
      p.decision === 'ask' ? 'approval_required' : (p.decision as 'allow' | 'deny');
    return { outcome, policies: policiesIn(p.reason) };
  }

  async function viaAgentSdk(c: Case): Promise<{ outcome: Outcome; policies: string[] }> {
    const client = new GatehouseClient({ url: gh.http.baseUrl, token: await fresh() });
    const seen: { outcome: Outcome; policies: string[] }[] = [];
    const canUseTool = gatehouseCanUseTool({
      client,
      onDecision: (_tool, d) => seen.push({ outcome: d.outcome, policies: d.policies }),
    });
    const r = await canUseTool(`mcp__${c.tool}`, c.args, { signal: new AbortController().signal });
    const decided = seen[0];
    assert.ok(decided);
    // What the SDK is told agrees with the decision: allow runs, anything else does not.
    assert.equal(r.behavior, decided.outcome === 'allow' ? 'allow' : 'deny');
    if (r.behavior === 'deny') assert.deepEqual(policiesIn(r.message), decided.policies);
    return decided;
  }

  async function viaDecide(c: Case): Promise<{ outcome: Outcome; policies: string[] }> {
    const res = await fetch(new URL('/v1/decide', gh.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${await fresh()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: c.tool, arguments: c.args }),
    });
    assert.equal(res.status, 200);
    const d = (await res.json()) as { outcome: Outcome; policies: string[] };
    return { outcome: d.outcome, policies: d.policies };
  }

  it('gateway, hook, Agent SDK and /v1/decide agree on every request', async () => {
    for (const c of CASES) {
      const got = {
        gateway: await viaGateway(c),
        hook: await viaHook(c),
        agentSdk: await viaAgentSdk(c),
        decide: await viaDecide(c),
      };
      for (const [runtime, r] of Object.entries(got)) {
        assert.equal(r.outcome, c.expect, `${runtime}: ${c.tool} ${JSON.stringify(c.args)}`);
        assert.deepEqual(r.policies, c.policies, `${runtime}: ${c.tool} policies`);
      }
    }
  });
});
