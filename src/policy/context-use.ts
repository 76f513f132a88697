/**
 * What a policy can observe of a request, read from Cedar's own JSON form of it: whether it reads
 * `context.time.now`, and whether it reads anything beyond its scope at all.
 *
 * Handing cedar-wasm a datetime extension value costs about a seventh of a decision (its conversion
 * into Cedar is slow), and most policy sets never look at the clock. A request may leave
 * `context.time.now` out only when no policy could tell: none reads it, tests for it with `has`, or
 * uses `context` or `context.time` as a whole (record equality, `in`, a function argument). Every
 * other node is walked into, and a bare `context` or `context.time` met there counts as a use, so
 * a policy is never decided on less than it sees.
 */
import * as cedar from './cedar.js';

/** A JSON node of Cedar's policy format (EST); only the shapes below are inspected. */
type Node = unknown;

/** `["time"]` for `context.time`, `[]` for `context`, undefined for anything else. */
function contextPath(node: Node): string[] | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const n = node as Record<string, unknown>;
  if (n.Var === 'context') return [];
  const access = n['.'] as { left?: Node; attr?: unknown } | undefined;
  if (access && typeof access.attr === 'string') {
    const base = contextPath(access.left);
    return base ? [...base, access.attr] : undefined;
  }
  return undefined;
}

/** Walks the expression; returns true as soon as `context.time.now` could be observed. */
function observesNow(node: Node): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some(observesNow);
  const n = node as Record<string, unknown>;
  // A bare `context` or `context.time` outside an attribute access is the whole record.
  const path = contextPath(node);
  if (path && (path.length === 0 || (path[0] === 'time' && path.length === 1))) return true;
  for (const op of ['.', 'has']) {
    const access = n[op] as { left?: Node; attr?: unknown } | undefined;
    if (!access) continue;
    // `has` over a path (Cedar 4: `context has time.now`): counted as a use, whatever the path.
    if (typeof access.attr !== 'string') return true;
    const base = contextPath(access.left);
    if (base) {
      // `context.X` or `context has X` stays observable after `now` is left out (time keeps its
      // other fields); `context.time.now`, `context.time has now` or anything below `now` is not.
      if (base[0] !== 'time') return false;
      return base.length > 1 || access.attr === 'now';
    }
    return observesNow(access.left);
  }
  return Object.values(n).some(observesNow);
}

/**
 * Whether a policy, in Cedar's JSON form (as the loader already has it), can observe
 * `context.time.now`: reads it, tests for it, or uses `context.time` or `context` whole.
 */
export function policyReadsNow(json: { readonly conditions: unknown }): boolean {
  return observesNow(json.conditions);
}

/**
 * Whether a policy, in Cedar's JSON form, has no `when` or `unless` clause. Its scope constraints
 * (`==`, `in`, `is`) then read only the request's entity UIDs and their ancestors: no attribute, no
 * tag and no part of the context can change what it says.
 */
export function policyIsScopeOnly(json: { readonly conditions: unknown }): boolean {
  return Array.isArray(json.conditions) && json.conditions.length === 0;
}

/** Cedar's JSON form of a policy text, or undefined when Cedar cannot give one. */
function jsonOf(text: string): { readonly conditions: unknown } | undefined {
  try {
    const answer = cedar.policyToJson(text);
    return answer.type === 'success' ? answer.json : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The same from a policy's text; a text Cedar cannot turn into JSON counts as reading it.
 * @example readsNow('permit (principal, action, resource) when { context.time.hour_utc < 18 };'); // false
 */
export function readsNow(text: string): boolean {
  const json = jsonOf(text);
  return json === undefined || policyReadsNow(json);
}

/**
 * policyIsScopeOnly from a policy's text; a text Cedar cannot turn into JSON is not scope-only.
 * @example isScopeOnly('forbid (principal, action, resource in Label::"blast_radius:high");'); // true
 */
export function isScopeOnly(text: string): boolean {
  const json = jsonOf(text);
  return json !== undefined && policyIsScopeOnly(json);
}
