import { isScopeOnly, readsNow } from './context-use.js';
import type { PolicyInfo } from './loader.js';

/** An emergency stop for every tool, prompt, resource or sampling server whose exposed name matches a pattern. */
export interface Lockdown {
  /** Over the names agents see; `*` matches any run of characters (`payments__*`). */
  readonly pattern: string;
  readonly reason: string;
  /** Who locked it down: an admin key name, or `local`. */
  readonly by: string;
  /** ms since the epoch. */
  readonly time: number;
}

/** Exposed tool names are `[A-Za-z0-9_-]`; `*` is the only wildcard. Nothing here needs escaping in Cedar. */
const PATTERN = /^[A-Za-z0-9_*-]{1,128}$/;

/** Why a lockdown pattern or reason is refused, or undefined when it is fine. */
export function lockdownProblem(pattern: string, reason: string): string | undefined {
  if (!PATTERN.test(pattern))
    return `the pattern "${pattern.slice(0, 140)}" must be 1-128 characters of letters, digits, "_", "-" and "*"`;
  const trimmed = reason.trim();
  if (trimmed.length === 0 || trimmed.length > 500)
    return 'the reason must be 1-500 characters: say why, for the record';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return 'the reason must be one line of text';
  return undefined;
}

/**
 * The forbid policy a lockdown becomes. Its reason stays out of the policy text (it is free text)
 * and travels as an annotation of the policy's description instead.
 */
export function lockdownPolicy(l: Lockdown): PolicyInfo {
  // Checked again here, not only where lockdowns are written: the pattern becomes Cedar text.
  if (!PATTERN.test(l.pattern)) throw new Error('a stored lockdown pattern is malformed');
  const id = `lockdown:${l.pattern}`;
  const text = `@id("${id}")\nforbid (principal, action, resource)\nwhen { resource.exposed_name like "${l.pattern}" };`;
  return {
    id,
    file: '(lockdown)',
    line: 0,
    effect: 'forbid',
    annotations: { id, reason: `locked down by ${l.by}: ${l.reason}` },
    // Every kind of target has an exposed name: a lockdown stops prompts, resources and sampling by
    // a matching name too (`*` stops everything).
    text,
    shadow: false,
    readsNow: readsNow(text),
    scopeOnly: isScopeOnly(text),
  };
}
