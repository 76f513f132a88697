import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as cedar from './cedar.js';
import { canonicalJson, sha256Hex } from '../crypto/index.js';

export interface PolicyInfo {
  readonly id: string;
  readonly file: string;
  /** 1-based line of the policy in its file. */
  readonly line: number;
  readonly effect: 'permit' | 'forbid';
  readonly annotations: Readonly<Record<string, string>>;
  readonly text: string;
}

/** A parsed, hashed policy set, ready to be registered with the engine. */
export interface PolicySet {
  readonly policies: ReadonlyMap<string, PolicyInfo>;
  /** `sha256:<hex>` over the canonical JSON of `{ id: text }`. */
  readonly hash: string;
}

export type LoadResult =
  | { readonly ok: true; readonly set: PolicySet }
  | { readonly ok: false; readonly errors: readonly string[] };

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function describe(file: string, text: string, e: cedar.DetailedError): string {
  const at = e.sourceLocations?.[0];
  const where = at ? `${file}:${lineOf(text, at.start)}` : file;
  return `${where}: ${e.message}${e.help ? ` (${e.help})` : ''}`;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Reads every `.cedar` file of a folder. Ids come from `@id("...")` or `<file>.<n>`; every problem
 * (syntax, duplicate id, bad id) is reported with file and line.
 * @example const r = loadPolicyDir('examples/quickstart/policies'); if (r.ok) console.log(r.set.hash);
 */
export function loadPolicyDir(dir: string): LoadResult {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.cedar') && statSync(join(dir, f)).isFile())
      .sort();
  } catch {
    return { ok: false, errors: [`cannot read the policy folder ${dir}`] };
  }
  if (files.length === 0)
    return { ok: false, errors: [`the policy folder ${dir} has no .cedar files`] };
  const errors: string[] = [];
  const policies = new Map<string, PolicyInfo>();
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === 'failure') {
      errors.push(...parts.errors.map((e) => describe(f, text, e)));
      continue;
    }
    if (parts.policy_templates.length > 0) errors.push(`${f}: templates are not supported yet`);
    let searchFrom = 0;
    parts.policies.forEach((ptext, i) => {
      const json = cedar.policyToJson(ptext);
      const at = text.indexOf(ptext.slice(0, 40), searchFrom);
      const line = lineOf(text, Math.max(0, at));
      if (at >= 0) searchFrom = at + 1;
      if (json.type === 'failure') {
        errors.push(...json.errors.map((e) => `${f}:${line}: ${e.message}`));
        return;
      }
      const annotations = json.json.annotations ?? {};
      const id = annotations.id ?? `${basename(f, '.cedar')}.${i}`;
      if (!ID_PATTERN.test(id)) {
        errors.push(`${f}:${line}: policy id "${id}" must be 1-128 characters of [A-Za-z0-9._:-]`);
        return;
      }
      const dup = policies.get(id);
      if (dup) {
        errors.push(`${f}:${line}: policy id "${id}" is already used at ${dup.file}:${dup.line}`);
        return;
      }
      policies.set(id, { id, file: f, line, effect: json.json.effect, annotations, text: ptext });
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  const byId = Object.fromEntries([...policies.values()].map((p) => [p.id, p.text]));
  return { ok: true, set: { policies, hash: `sha256:${sha256Hex(canonicalJson(byId))}` } };
}
