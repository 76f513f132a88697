import { z } from 'zod';
import {
  configuredLabels,
  formatIssues,
  loadConfig,
  splitToolName,
  trustLevel,
  type Config,
} from '../config/index.js';
import {
  FRESH_RUN,
  type DecisionRequest,
  type PolicyEngine,
  type RunContext,
} from '../policy/index.js';
import { explain, type Explanation, type PolicyNote } from '../policy/explain.js';
import { verdictJson } from '../server/index.js';
import { EXPLAIN_DEFAULTS } from './commands/shared.js';
import { bad, OptionCheck } from './common.js';
import { table } from './output.js';
import { engineFor, existingStore, stdoutWrite, type InsightIo } from './policy-insight-shared.js';

/** Where `policy explain` reads its input and writes its output; stdin and stdout by default. */
export interface ExplainIo extends InsightIo {
  /** The JSON request (read from stdin when absent). */
  readonly input?: string;
}

export interface PolicyExplainOptions {
  config: string;
  tool?: string;
  args?: string;
  agent?: string;
  agentVersion?: string;
  principal?: string;
  untrusted?: boolean;
  json?: boolean;
}

const TOOL_NAME = /^([A-Za-z0-9][A-Za-z0-9-]{0,31})__(.+)$/;
const TOOL_HINT = 'must be an exposed tool name such as payments__refund';

/** A request for `policy explain` on stdin. */
const explainRequestSchema = z.strictObject({
  agent: z.strictObject({
    name: z.string().min(1),
    version: z.string().min(1),
    principal: z.string().min(1),
    /** Agent id; `spiffe://<trust domain>/agent/<name>/explain` when absent. */
    id: z.string().min(1).optional(),
    run: z.string().min(1).optional(),
    /** The number of ancestors when absent. */
    depth: z.number().int().min(0).optional(),
    /** Agent ids, parent first, root orchestrator last. */
    ancestors: z.array(z.string().min(1)).default([]),
  }),
  tool: z.string().regex(TOOL_NAME, TOOL_HINT),
  args: z.record(z.string(), z.unknown()).default({}),
  /** The tool's labels; those of the config (`upstreams.<server>.tools.<name>.labels`) when absent. */
  labels: z.record(z.string(), z.string()).optional(),
  run: z
    .strictObject({ lowest_trust: trustLevel, sources: z.array(z.string()).default([]) })
    .optional(),
  /** When the call is decided (ISO 8601); now when absent. */
  time: z.iso.datetime({ offset: true }).optional(),
});

function labelsOf(config: Config, server: string, name: string): Record<string, string> {
  return { ...(configuredLabels(config, server, name) ?? {}) };
}

function agentId(config: Config, name: string): string {
  return `spiffe://${config.identity.trust_domain}/agent/${name}/explain`;
}

function requestFromFlags(config: Config, o: PolicyExplainOptions, tool: string): DecisionRequest {
  const check = new OptionCheck();
  const parts = splitToolName(tool);
  if (!parts) check.problem(`--tool ${TOOL_HINT}`);
  let args: unknown = {};
  if (o.args !== undefined) {
    try {
      args = JSON.parse(o.args);
    } catch {
      check.problem('--args must be a JSON object, e.g. \'{"amount": 600}\'');
    }
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    check.problem('--args must be a JSON object');
  for (const [flag, value] of [
    ['--agent', o.agent],
    ['--agent-version', o.agentVersion],
    ['--principal', o.principal],
  ] as const)
    if (value !== undefined && value.trim() === '') check.problem(`${flag} must not be empty`);
  check.done();
  const { server, name } = parts ?? { server: '', name: '' };
  const agentName = o.agent ?? EXPLAIN_DEFAULTS.agent;
  const run: RunContext = o.untrusted ? { lowestTrust: 'untrusted', sources: [] } : FRESH_RUN;
  return {
    agent: {
      id: agentId(config, agentName),
      name: agentName,
      version: o.agentVersion ?? EXPLAIN_DEFAULTS.agentVersion,
      principal: o.principal ?? EXPLAIN_DEFAULTS.principal,
      run: EXPLAIN_DEFAULTS.run,
      depth: 0,
      ancestors: [],
    },
    tool: { id: tool, server, name, labels: labelsOf(config, server, name) },
    args,
    run,
  };
}

/** Parses and checks a JSON request; every bad field is reported at once. */
export function requestFromJson(config: Config, text: string): DecisionRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad(
      'the request on stdin is not JSON; give a JSON object such as {"agent": ..., "tool": ..., "args": ...}',
    );
  }
  const parsed = explainRequestSchema.safeParse(raw);
  if (!parsed.success)
    throw bad(`the request on stdin is not valid:\n${formatIssues(parsed.error.issues)}`);
  const r = parsed.data;
  const parts = splitToolName(r.tool) ?? { server: '', name: '' };
  return {
    agent: {
      id: r.agent.id ?? agentId(config, r.agent.name),
      name: r.agent.name,
      version: r.agent.version,
      principal: r.agent.principal,
      run: r.agent.run ?? EXPLAIN_DEFAULTS.run,
      depth: r.agent.depth ?? r.agent.ancestors.length,
      ancestors: r.agent.ancestors,
    },
    tool: {
      id: r.tool,
      server: parts.server,
      name: parts.name,
      labels: r.labels ?? labelsOf(config, parts.server, parts.name),
    },
    args: r.args,
    run: r.run ? { lowestTrust: r.run.lowest_trust, sources: r.run.sources } : FRESH_RUN,
    ...(r.time !== undefined ? { time: Date.parse(r.time) } : {}),
  };
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw bad('give the call with --tool (and --args), or pipe a JSON request to stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `gatehouse policy explain`: why the policy set on disk decides a call the way it does. The call
 * comes from flags (`--tool`, `--args`, `--agent`, ...) or, without `--tool`, as a JSON request
 * on stdin. Nothing is recorded.
 */
export async function policyExplainCommand(
  o: PolicyExplainOptions,
  io: ExplainIo = {},
): Promise<void> {
  const write = io.write ?? stdoutWrite;
  const config = loadConfig(o.config);
  const req =
    o.tool !== undefined
      ? requestFromFlags(config, o, o.tool)
      : requestFromJson(config, io.input ?? (await readStdin()));
  const store = existingStore(config);
  let engine: PolicyEngine;
  try {
    engine = await engineFor(config, store);
  } finally {
    await store?.close();
  }
  const x = explain(engine, req);
  write(o.json ? `${JSON.stringify(explanationJson(req, x))}\n` : explanationText(req, x));
}

function explanationJson(req: DecisionRequest, x: Explanation): Record<string, unknown> {
  const d = x.decision;
  return {
    tool: req.tool.id,
    agent: { name: req.agent.name, version: req.agent.version, principal: req.agent.principal },
    ...verdictJson(d),
    evaluated: x.evaluated,
    deciding: x.deciding,
    applied: x.applied,
    not_applied: x.notApplied,
    out_of_scope: x.outOfScope,
    errored: x.errored,
  };
}

function outcomeText(outcome: string): string {
  return outcome.replace('_', ' ').toUpperCase();
}

function section(title: string, notes: readonly PolicyNote[], why: (n: PolicyNote) => string) {
  if (notes.length === 0) return `${title}\n  (none)`;
  const rows = notes.map((n) => [
    n.id,
    n.shadow ? `${n.effect} (shadow)` : n.effect,
    n.where,
    why(n),
  ]);
  const body = table(['POLICY', 'EFFECT', 'WHERE', 'WHY'], rows)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return `${title}\n${body}`;
}

function explanationText(req: DecisionRequest, x: Explanation): string {
  const d = x.decision;
  const head = [
    `${outcomeText(d.outcome)}  ${req.tool.id}`,
    `  agent       ${req.agent.name}@${req.agent.version} for ${req.agent.principal}`,
    `  reason      ${d.reason}`,
  ];
  if (d.outcome === 'approval_required')
    head.push(`  approvers   ${d.approvers.join(', ') || 'any approver'}`);
  head.push(`  policy set  ${d.policySetHash}`);
  if (d.shadow)
    head.push(
      `  shadow      would ${outcomeText(d.shadow.outcome).toLowerCase()}: ${d.shadow.reason}`,
    );
  if (!x.evaluated)
    return `${head.join('\n')}\n\nNo policy was evaluated: the call was refused before policy.\n`;
  const parts = [
    head.join('\n'),
    section(
      'Decided by',
      x.deciding,
      (n) => `${n.why}${n.reason !== undefined ? `; @reason: ${n.reason}` : ''}`,
    ),
    section('Also applied', x.applied, (n) => n.why),
    section('Considered, did not apply', [...x.notApplied, ...x.outOfScope], (n) => n.why),
    section('Errored', x.errored, (n) => n.error ?? n.why),
  ];
  if (x.deciding.length === 0 && d.outcome === 'deny' && x.errored.length === 0)
    parts.splice(
      1,
      1,
      'Decided by\n  (no policy: nothing permits this call, so it is denied by default)',
    );
  return `${parts.join('\n\n')}\n`;
}
