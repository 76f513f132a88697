import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as cedar from './cedar.js';
import { canonicalJson, sha256Hex } from '../crypto/index.js';
import { BASE_SCHEMA } from './schema.js';
import { checkPolicy, lineOf } from './rules.js';
import { policyScope, type PolicyScope } from './scope.js';
import { policyIsScopeOnly, policyReadsNow } from './context-use.js';

export interface PolicyInfo {
  readonly id: string;
  /** The file it came from, relative to the policy folder; `(lockdown)` for lockdowns. */
  readonly file: string;
  /** 1-based line of the policy in its file. */
  readonly line: number;
  readonly effect: 'permit' | 'forbid';
  readonly annotations: Readonly<Record<string, string>>;
  readonly text: string;
  /** Evaluated and recorded, never enforced (its file is in shadow mode). */
  readonly shadow: boolean;
  /**
   * The calls the policy's scope can match (absent: every call). Lets the engine hand Cedar only
   * the policies that can apply to a call.
   */
  readonly scope?: PolicyScope;
  /** Whether it can observe `context.time.now` (see context-use.ts); absent: assume it can. */
  readonly readsNow?: boolean;
  /**
   * True when it has no `when`/`unless` clause, so it reads nothing but entity UIDs and ancestors
   * (see context-use.ts); absent: assume it reads attributes and context.
   */
  readonly scopeOnly?: boolean;
}

/** A parsed, validated, hashed policy set, ready for the engine. */
export interface PolicySet {
  readonly policies: ReadonlyMap<string, PolicyInfo>;
  /** `sha256:<hex>` over the canonical JSON of `{ id: text }` and the shadowed ids. */
  readonly hash: string;
  /** The schema the set was validated against: the base schema and the folder's `.cedarschema` files. */
  readonly schema: string;
}

export type LoadResult =
  | { readonly ok: true; readonly set: PolicySet }
  | { readonly ok: false; readonly errors: readonly string[] };

export interface LoadOptions {
  /** Files (names in the folder) whose policies are evaluated in shadow mode. */
  readonly shadowFiles?: readonly string[];
}

function describe(where: string, e: cedar.DetailedError): string {
  return `${where}: ${e.message}${e.help ? ` (${e.help})` : ''}`;
}

function listFiles(dir: string, ext: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext) && statSync(join(dir, f)).isFile())
    .sort();
}

/** The base schema followed by the folder's schema files, with where each piece starts. */
function readSchema(dir: string): { text: string; pieces: { file: string; start: number }[] } {
  let text = BASE_SCHEMA;
  const pieces = [{ file: '(gatehouse base schema)', start: 0 }];
  for (const f of listFiles(dir, '.cedarschema')) {
    text += '\n';
    pieces.push({ file: f, start: text.length });
    text += readFileSync(join(dir, f), 'utf8');
  }
  return { text, pieces };
}

function schemaErrorPlace(
  schema: { text: string; pieces: { file: string; start: number }[] },
  offset: number | undefined,
): string {
  if (offset === undefined) return 'schema';
  const piece = [...schema.pieces].reverse().find((p) => p.start <= offset) ?? schema.pieces[0];
  if (!piece) return 'schema';
  const local = schema.text.slice(piece.start, offset);
  return `${piece.file}:${lineOf(local, local.length)}`;
}

function parseFile(
  f: string,
  text: string,
  shadow: boolean,
  policies: Map<string, PolicyInfo>,
  errors: string[],
): void {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') {
    for (const e of parts.errors) {
      const at = e.sourceLocations?.[0];
      errors.push(describe(at ? `${f}:${lineOf(text, at.start)}` : f, e));
    }
    return;
  }
  if (parts.policy_templates.length > 0) errors.push(`${f}: templates are not supported yet`);
  let searchFrom = 0;
  parts.policies.forEach((ptext, i) => {
    const json = cedar.policyToJson(ptext);
    const at = text.indexOf(ptext.slice(0, 40), searchFrom);
    const line = lineOf(text, Math.max(0, at));
    if (at >= 0) searchFrom = at + 1;
    if (json.type === 'failure') {
      errors.push(...json.errors.map((e) => describe(`${f}:${line}`, e)));
      return;
    }
    const annotations = json.json.annotations ?? {};
    const id = annotations.id ?? `${basename(f, '.cedar')}.${i}`;
    const problem = checkPolicy(id, json.json);
    if (problem) {
      errors.push(`${f}:${line}: ${problem}`);
      return;
    }
    const dup = policies.get(id);
    if (dup) {
      errors.push(`${f}:${line}: policy id "${id}" is already used at ${dup.file}:${dup.line}`);
      return;
    }
    policies.set(id, {
      id,
      file: f,
      line,
      effect: json.json.effect,
      annotations,
      text: ptext,
      shadow,
      scope: policyScope(json.json),
      readsNow: policyReadsNow(json.json),
      scopeOnly: policyIsScopeOnly(json.json),
    });
  });
}

/** Strict validation against the schema; every error names file and line. */
function validate(
  policies: ReadonlyMap<string, PolicyInfo>,
  schema: ReturnType<typeof readSchema>,
): string[] {
  const answer = cedar.validate({
    schema: schema.text,
    policies: { staticPolicies: Object.fromEntries([...policies].map(([id, p]) => [id, p.text])) },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') {
    return answer.errors.map((e) =>
      describe(schemaErrorPlace(schema, e.sourceLocations?.[0]?.start), e),
    );
  }
  // Warnings count as errors: an "impossible policy" warning means the schema and the runtime
  // disagree (an argument the schema leaves out still reaches policy), and a forbid that validation
  // thinks can never apply is exactly the one that must be looked at.
  return [...answer.validationErrors, ...answer.validationWarnings].map(({ policyId, error }) => {
    const p = policies.get(policyId);
    if (!p) return describe(policyId, error);
    const offset = error.sourceLocations?.[0]?.start ?? 0;
    const line = p.line + lineOf(p.text, offset) - 1;
    return describe(`${p.file}:${line} (policy "${policyId}")`, error);
  });
}

/** Hash of what decides: every policy's text and which of them are only shadowed. */
export function policySetHash(policies: Iterable<PolicyInfo>): string {
  const list = [...policies];
  const byId = Object.fromEntries(list.map((p) => [p.id, p.text]));
  const shadow = list
    .filter((p) => p.shadow)
    .map((p) => p.id)
    .sort();
  return `sha256:${sha256Hex(canonicalJson({ policies: byId, shadow }))}`;
}

/**
 * Reads every `.cedar` file of a folder and validates it (strict mode) against the base schema
 * plus the folder's `.cedarschema` files. Ids come from `@id("...")` or `<file>.<n>`; every
 * problem (syntax, type, duplicate id, misuse of an annotation) is reported with file and line.
 * @example const r = loadPolicyDir('examples/quickstart/policies'); if (r.ok) console.log(r.set.hash);
 */
export function loadPolicyDir(dir: string, opts: LoadOptions = {}): LoadResult {
  let files: string[];
  let schema: ReturnType<typeof readSchema>;
  try {
    files = listFiles(dir, '.cedar');
    schema = readSchema(dir);
  } catch {
    return { ok: false, errors: [`cannot read the policy folder ${dir}`] };
  }
  if (files.length === 0)
    return { ok: false, errors: [`the policy folder ${dir} has no .cedar files`] };
  const shadowFiles = new Set(opts.shadowFiles ?? []);
  const errors = [...shadowFiles]
    .filter((f) => !files.includes(f))
    .map((f) => `shadow mode names ${f}, which is not a .cedar file in ${dir}`);
  const policies = new Map<string, PolicyInfo>();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(join(dir, f), 'utf8');
    } catch {
      // E.g. removed between listing and reading, while an editor saves: this set is not whole.
      errors.push(`${f}: cannot be read`);
      continue;
    }
    parseFile(f, text, shadowFiles.has(f), policies, errors);
  }
  if (errors.length === 0) errors.push(...validate(policies, schema));
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    set: { policies, hash: policySetHash(policies.values()), schema: schema.text },
  };
}
