/**
 * Runs policy tests (`gatehouse policy test`): each case of a test file is decided by the engine
 * and checked against what it expects. The test-file format, its parsing and loading are in
 * `testing-format.ts`.
 */
import type { PolicyEngine } from './engine.js';
import type { PolicyTestExpectation, PolicyTestFile } from './testing-format.js';
import { targets, type ToolRef } from './request.js';
import type { Outcome } from './variant.js';

/** Labels of a tool as the config declares them; undefined for a tool the config does not list. */
export type ResolveLabels = (
  server: string,
  name: string,
) => Readonly<Record<string, string>> | undefined;

export interface PolicyTestResult {
  readonly file: string;
  /** 0-based position in its file. */
  readonly index: number;
  readonly name: string;
  readonly ok: boolean;
  readonly expected: PolicyTestExpectation;
  readonly got: {
    readonly outcome: Outcome;
    readonly policies: readonly string[];
    readonly reason: string;
  };
  /** Why the case failed, one sentence each; empty when it passed. */
  readonly problems: readonly string[];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sorted = [...b].sort();
  return a.length === b.length && [...a].sort().every((x, i) => x === sorted[i]);
}

const idList = (ids: readonly string[]) => `[${ids.join(', ')}]`;

/** What policy sees of a case's target: ids and labels as the gateway would give them. */
function targetRef(t: PolicyTestFile['cases'][number]['tool'], resolve: ResolveLabels): ToolRef {
  const { server, name } = t;
  const kind = t.kind ?? 'tool';
  switch (kind) {
    case 'resource':
      return targets.resource(server, name);
    case 'sampling':
    case 'elicitation':
      return targets.asker(kind, server, t.labels?.trust ?? 'untrusted');
    case 'prompt':
      return targets.prompt(server, `${server}__${name}`, name);
    case 'tool':
      return {
        id: `${server}__${name}`,
        server,
        name,
        labels: t.labels ?? resolve(server, name) ?? {},
      };
  }
}

/**
 * Runs every case against the engine: checks the outcome and, when given, the deciding policies
 * and the reason. Pure: it decides, it does not record or print. In shadow mode (or with shadowed
 * files) it checks the shadow verdict, which is what the policy set says.
 * @example const results = runPolicyTests(engine, tests.files, (s, n) => labelsOf(s, n));
 */
export function runPolicyTests(
  engine: PolicyEngine,
  files: readonly PolicyTestFile[],
  resolveLabels: ResolveLabels,
): PolicyTestResult[] {
  const results: PolicyTestResult[] = [];
  for (const f of files) {
    for (const c of f.cases) {
      const decision = engine.decide({
        agent: c.agent,
        tool: targetRef(c.tool, resolveLabels),
        args: c.args,
        ...(c.argsProvenance ? { argsProvenance: c.argsProvenance } : {}),
        run: c.run,
        ...(c.time !== undefined ? { time: c.time } : {}),
      });
      const said = decision.shadow ?? decision;
      const got = { outcome: said.outcome, policies: said.policies, reason: said.reason };
      const problems: string[] = [];
      const want = c.expect;
      if (got.outcome !== want.outcome)
        problems.push(`expected ${want.outcome}, got ${got.outcome}`);
      if (want.policies && !sameSet(want.policies, got.policies)) {
        const unknown = want.policies.filter((id) => !engine.policies.has(id));
        problems.push(
          `expected deciding policies ${idList(want.policies)}, got ${idList(got.policies)}` +
            (unknown.length > 0 ? ` (no policy has the id ${unknown.join(', ')})` : ''),
        );
      }
      if (want.reason !== undefined && !got.reason.includes(want.reason))
        problems.push(`expected the reason to contain "${want.reason}"`);
      results.push({
        file: f.file,
        index: c.index,
        name: c.name,
        ok: problems.length === 0,
        expected: want,
        got,
        problems,
      });
    }
  }
  return results;
}
