import type * as cedar from './cedar.js';
import { CALL_TOOL } from './schema.js';

/** 1-based line of `offset` in `text`. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Ids Gatehouse generates itself (lockdowns, shadow mode); a file must not impersonate them. */
const RESERVED_ID = /^(lockdown:|gatehouse\.)/;
const GROUP = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** The groups an `@approvers("finance, security")` annotation names. */
export function approverGroups(annotation: string | undefined): string[] {
  if (annotation === undefined) return [];
  return annotation
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
}

function uidOf(e: cedar.EntityUidJson): cedar.TypeAndId {
  return '__entity' in e ? e.__entity : e;
}

/**
 * Gatehouse's own rules on top of Cedar's: stable ids, and annotations used the way they mean.
 * Returns a one-line problem, or undefined.
 */
export function checkPolicy(id: string, json: cedar.PolicyJson): string | undefined {
  if (!ID_PATTERN.test(id)) return `policy id "${id}" must be 1-128 characters of [A-Za-z0-9._:-]`;
  if (RESERVED_ID.test(id)) return `policy id "${id}" uses a prefix Gatehouse reserves for itself`;
  const a = json.annotations ?? {};
  if (
    json.action.op === '==' &&
    'entity' in json.action &&
    uidOf(json.action.entity).id === CALL_TOOL
  ) {
    // Each tool is its own action inside the group, so `==` would match no call at all.
    return `write \`action in Action::"${CALL_TOOL}"\`: "${CALL_TOOL}" is the group of every tool's action, so \`==\` never matches a call`;
  }
  if ('approval' in a && json.effect !== 'forbid') {
    return '@approval marks a forbid that a human may lift; put it on a forbid policy (the permit that allows the call stays as it is)';
  }
  if ('approvers' in a) {
    if (!('approval' in a)) return '@approvers only means something on an @approval policy';
    const groups = approverGroups(a.approvers);
    if (groups.length === 0 || !groups.every((g) => GROUP.test(g)))
      return '@approvers takes a comma-separated list of group names such as "finance, security"';
  }
  return undefined;
}
