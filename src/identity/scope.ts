/** Tool scopes: space-free patterns over exposed tool names where `*` matches any run of characters. */

const cache = new Map<string, RegExp>();

function toRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 's');
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/** Whether a credential's scope reaches a tool. @example scopeAllows(['payments__*'], 'payments__refund') === true */
export function scopeAllows(scope: readonly string[], toolId: string): boolean {
  return scope.some(
    (p) => p === '*' || p === toolId || (p.includes('*') && toRegExp(p).test(toolId)),
  );
}

/**
 * Whether every name matched by `narrower` is also matched by `wider`. Sound for `*`-only globs:
 * the wider pattern must match the narrower one read literally, its `*`s absorbing the other's.
 * @example patternCovers('payments__*', 'payments__re*') === true
 */
export function patternCovers(wider: string, narrower: string): boolean {
  return (
    wider === '*' || wider === narrower || (wider.includes('*') && toRegExp(wider).test(narrower))
  );
}

/** The requested patterns that no pattern of the parent scope covers (empty: a valid subset). */
export function scopeWidening(parent: readonly string[], requested: readonly string[]): string[] {
  return requested.filter((r) => !parent.some((p) => patternCovers(p, r)));
}

/** Scope patterns: 1-128 characters of tool-name characters and `*`. */
export const SCOPE_PATTERN = /^[A-Za-z0-9_*-]{1,128}$/;
