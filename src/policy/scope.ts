import type * as cedar from './cedar.js';
import type { ToolRef } from './request.js';
import { CALL_TOOL } from './schema.js';

/** What a policy's resource constraint can match. */
export type ResourceScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'eq'; readonly uid: cedar.TypeAndId }
  | { readonly kind: 'in'; readonly uid: cedar.TypeAndId }
  | { readonly kind: 'is'; readonly type: string; readonly in?: cedar.TypeAndId };

/** The calls a policy's scope can match, read from its head (its conditions are not looked at). */
export interface PolicyScope {
  /** `all`, or the tool actions named. */
  readonly actions: 'all' | readonly string[];
  readonly resource: ResourceScope;
}

const ALL: PolicyScope = { actions: 'all', resource: { kind: 'all' } };

function uidOf(e: cedar.EntityUidJson): cedar.TypeAndId {
  return '__entity' in e ? e.__entity : e;
}

/**
 * Each tool's action has exactly one parent, `call_tool`, so `action in Action::"call_tool"` (or
 * no constraint) matches every tool, and any other named action matches only itself.
 */
function actionScope(a: cedar.PolicyJson['action']): PolicyScope['actions'] {
  if (a.op === 'All') return 'all';
  if (a.op === '==') return 'entity' in a ? [uidOf(a.entity).id] : 'all';
  const named = 'entity' in a ? [uidOf(a.entity).id] : a.entities.map((e) => uidOf(e).id);
  return named.includes(CALL_TOOL) ? 'all' : named;
}

function resourceScope(r: cedar.PolicyJson['resource']): ResourceScope {
  switch (r.op) {
    case '==':
      return 'entity' in r ? { kind: 'eq', uid: uidOf(r.entity) } : { kind: 'all' };
    case 'in':
      return 'entity' in r ? { kind: 'in', uid: uidOf(r.entity) } : { kind: 'all' };
    case 'is':
      return r.in && 'entity' in r.in
        ? { kind: 'is', type: r.entity_type, in: uidOf(r.in.entity) }
        : { kind: 'is', type: r.entity_type };
    default:
      return { kind: 'all' };
  }
}

/** @example policyScope(cedar.policyToJson(text).json).actions // ['payments__refund'] */
export function policyScope(json: cedar.PolicyJson): PolicyScope {
  return { actions: actionScope(json.action), resource: resourceScope(json.resource) };
}

/** Whether a policy's scope names `action` itself (not only through "every action"). */
export function namesAction(scope: PolicyScope | undefined, action: string): boolean {
  return scope !== undefined && scope.actions !== 'all' && scope.actions.includes(action);
}

/** Whether `uid` is the tool itself or one of its groups (its server, its labels). */
function toolIsIn(tool: ToolRef, uid: cedar.TypeAndId): boolean {
  switch (uid.type) {
    case 'Tool':
      return uid.id === tool.id;
    case 'Server':
      return uid.id === tool.server;
    case 'Label':
      return Object.entries(tool.labels).some(([k, v]) => `${k}:${v}` === uid.id);
    default:
      return false;
  }
}

/**
 * Whether a policy's scope can match a call to `tool`; false means Cedar would skip it for every
 * principal and context, so leaving it out of the set handed to Cedar cannot change a decision.
 */
export function scopeCanMatch(scope: PolicyScope | undefined, tool: ToolRef): boolean {
  const { actions, resource } = scope ?? ALL;
  if (actions !== 'all' && !actions.includes(tool.id)) return false;
  switch (resource.kind) {
    case 'all':
      return true;
    case 'eq':
      return resource.uid.type === 'Tool' && resource.uid.id === tool.id;
    case 'in':
      return toolIsIn(tool, resource.uid);
    case 'is':
      return resource.type === 'Tool' && (resource.in === undefined || toolIsIn(tool, resource.in));
  }
}
