/**
 * Policy tests: YAML files of example calls and the outcome policy should give each, run against a
 * policy folder before it ships (`gatehouse policy test`).
 *
 * A test file (`<policies>/tests/*.yaml`):
 *
 * ```yaml
 * defaults:                       # optional; each case may override any of these
 *   agent: { name: support-bot, version: 1.4.0, principal: user:alice }
 *   run: { lowest_trust: trusted, sources: [] }
 *   time: 2026-01-05T09:30:00Z
 * cases:
 *   - name: refunds over 500 need a human
 *     tool: payments__refund        # labels come from the config's upstreams.<server>.tools.<name>
 *     args: { customer: c-1001, amount: 900 }
 *     args_provenance: { customer: trusted } # optional: trusted | untrusted | unknown per argument
 *     expect: approval_required     # allow | deny | approval_required
 *     policies: [refunds-over-500-need-approval] # optional: exactly the deciding policy ids
 *     reason: human approver        # optional: text the reason must contain
 * ```
 *
 * `tool` may also be `{ server, name, labels }`, whose labels replace the config's. Instead of a
 * tool, a case may be about a resource read (`resource: { server, uri }`), a prompt
 * (`prompt: docs__summarise`), or a server asking back through the agent
 * (`sampling: { server, trust }`, `elicitation: { server, trust }`, with the request as `args`). `agent` also
 * takes `id`, `run` (the run id), `depth` and `ancestors` (agent ids, parent first); made-up ids are
 * used when absent. A case's `agent` is merged field by field over `defaults.agent`; `run` (what the
 * run has read) and `time` replace the defaults. Without a time, the clock decides.
 *
 * Tests are about what policy says, not about what is enforced: when anything is shadowed (shadow
 * mode, or shadowed files) a case is checked against the shadow verdict, which is what the whole
 * set decides. Lockdowns are runtime state and never take part.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import {
  FRESH_RUN,
  type ArgsProvenance,
  type PolicyAgent,
  type RunContext,
  type TargetKind,
} from './request.js';
import {
  describePath,
  errorMap,
  EXPOSED_NAME,
  flatten,
  policyTestFileSchema,
  type Path,
  type PolicyTestFileInput,
  type toolSchema,
} from './testing-schema.js';
import type { Outcome } from './variant.js';

export { policyTestFileSchema, type PolicyTestFileInput } from './testing-schema.js';

/**
 * What a case is about: a tool as it names it (labels absent means "the config's"), or with
 * `kind` a resource (`name` is its URI), a prompt, or a server asking back (`labels.trust`).
 */
export interface PolicyTestTool {
  readonly server: string;
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly kind?: TargetKind;
}

export interface PolicyTestExpectation {
  readonly outcome: Outcome;
  /** Exactly these deciding policies (in any order); `[]` is a default deny. */
  readonly policies?: readonly string[];
  /** Text the reason must contain. */
  readonly reason?: string;
}

/** One case, defaults applied. */
export interface PolicyTestCase {
  /** 0-based position in its file. */
  readonly index: number;
  readonly name: string;
  readonly agent: PolicyAgent;
  readonly tool: PolicyTestTool;
  readonly args: Readonly<Record<string, unknown>>;
  readonly argsProvenance?: ArgsProvenance;
  readonly run: RunContext;
  /** ms since the epoch; the engine's clock when absent. */
  readonly time?: number;
  readonly expect: PolicyTestExpectation;
}

export interface PolicyTestFile {
  /** How results name the file (e.g. `payments.yaml`). */
  readonly file: string;
  readonly cases: readonly PolicyTestCase[];
}

export type ParseTestFileResult =
  | { readonly ok: true; readonly file: PolicyTestFile }
  | { readonly ok: false; readonly errors: readonly string[] };

export interface ParseTestOptions {
  /** Trust domain of the agent ids made up for cases that give none (default `gatehouse.local`). */
  readonly trustDomain?: string;
}

function toolOf(tool: z.infer<typeof toolSchema>): PolicyTestTool {
  if (typeof tool !== 'string') return tool;
  const m = EXPOSED_NAME.exec(tool);
  return { server: m?.[1] ?? '', name: m?.[2] ?? '' };
}

/** The one target a valid case names (the schema checked there is exactly one). */
function targetOf(c: PolicyTestFileInput['cases'][number]): PolicyTestTool {
  if (c.resource) return { kind: 'resource', server: c.resource.server, name: c.resource.uri };
  if (c.prompt) {
    const { server, name } = toolOf(c.prompt);
    return { kind: 'prompt', server, name, labels: {} };
  }
  const asker = c.sampling ?? c.elicitation;
  if (asker)
    return {
      kind: c.sampling ? 'sampling' : 'elicitation',
      server: asker.server,
      name: asker.server,
      labels: { trust: asker.trust },
    };
  return toolOf(c.tool ?? '');
}

/**
 * Parses and validates one test file, applying its defaults. Every problem is reported, each
 * naming the file, the case (1-based number and name) and the field.
 * @example const r = parsePolicyTestFile(readFileSync(path, 'utf8'), 'payments.yaml');
 */
export function parsePolicyTestFile(
  text: string,
  file: string,
  opts: ParseTestOptions = {},
): ParseTestFileResult {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 }) ?? {};
  } catch (err) {
    // The parser's first line says what and where: "... at line 3, column 7:".
    const why = (err as Error).message.split('\n')[0]?.replace(/:$/, '') ?? '';
    return { ok: false, errors: [`${file}: not valid YAML: ${why}`] };
  }
  const parsed = policyTestFileSchema.safeParse(raw, { error: errorMap });
  if (!parsed.success) {
    return {
      ok: false,
      errors: flatten(parsed.error.issues).map(
        ([path, message]) => `${file}: ${describePath(path, raw)}: ${message}`,
      ),
    };
  }
  const trustDomain = opts.trustDomain ?? 'gatehouse.local';
  const { defaults = {}, cases } = parsed.data;
  const problems: [Path, string][] = [];
  const seen = new Map<string, number>();
  const out: PolicyTestCase[] = [];
  cases.forEach((c, index) => {
    const at = (...p: PropertyKey[]): Path => ['cases', index, ...p];
    const first = seen.get(c.name);
    if (first !== undefined)
      problems.push([at('name'), `is already the name of case ${first + 1}`]);
    else seen.set(c.name, index);

    const a = { ...defaults.agent, ...c.agent };
    for (const field of ['name', 'version', 'principal'] as const) {
      if (a[field] === undefined)
        problems.push([at('agent', field), 'is required (here or in defaults.agent)']);
    }
    if (a.depth !== undefined && a.ancestors !== undefined && a.depth !== a.ancestors.length) {
      problems.push([
        at('agent', 'depth'),
        `is ${a.depth} but ${a.ancestors.length} ancestor(s) are listed; depth is the number of ancestors`,
      ]);
    }
    if (a.name === undefined || a.version === undefined || a.principal === undefined) return;
    const made = (who: string) => `spiffe://${trustDomain}/agent/${who}/policy-test`;
    const ancestors =
      a.ancestors ?? Array.from({ length: a.depth ?? 0 }, (_, i) => made(`ancestor-${i + 1}`));
    const run = c.run ?? defaults.run;
    const time = c.time ?? defaults.time;
    out.push({
      index,
      name: c.name,
      agent: {
        id: a.id ?? made(a.name),
        name: a.name,
        version: a.version,
        principal: a.principal,
        run: a.run ?? 'policy-test',
        depth: ancestors.length,
        ancestors,
      },
      tool: targetOf(c),
      args: c.args,
      ...(c.args_provenance
        ? {
            argsProvenance: Object.fromEntries(
              Object.entries(c.args_provenance).map(([k, level]) => [k, { level }]),
            ),
          }
        : {}),
      run: run ? { lowestTrust: run.lowest_trust, sources: run.sources } : FRESH_RUN,
      ...(time !== undefined ? { time: Date.parse(time) } : {}),
      expect: {
        outcome: c.expect,
        ...(c.policies !== undefined ? { policies: c.policies } : {}),
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
      },
    });
  });
  if (problems.length > 0) {
    return {
      ok: false,
      errors: problems.map(([path, message]) => `${file}: ${describePath(path, raw)}: ${message}`),
    };
  }
  return { ok: true, file: { file, cases: out } };
}

export interface LoadedPolicyTests {
  /** Test file names found (`*.yaml`, `*.yml`), valid or not. */
  readonly found: readonly string[];
  readonly files: readonly PolicyTestFile[];
  /** Problems with the files that are not valid; their cases are not run. */
  readonly errors: readonly string[];
}

/**
 * Reads and validates every `*.yaml` and `*.yml` file at the top level of `dir`, in name order.
 * A missing folder finds nothing.
 * @example const tests = await loadPolicyTests('policies/tests');
 */
export async function loadPolicyTests(
  dir: string,
  opts: ParseTestOptions = {},
): Promise<LoadedPolicyTests> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries
      .filter((e) => /\.ya?ml$/.test(e.name) && (e.isFile() || e.isSymbolicLink()))
      .map((e) => e.name)
      .sort();
  } catch {
    return { found: [], files: [], errors: [] };
  }
  const files: PolicyTestFile[] = [];
  const errors: string[] = [];
  for (const name of names) {
    let text: string;
    try {
      text = await readFile(join(dir, name), 'utf8');
    } catch (err) {
      errors.push(`${name}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    const r = parsePolicyTestFile(text, name, opts);
    if (r.ok) files.push(r.file);
    else errors.push(...r.errors);
  }
  return { found: names, files, errors };
}
