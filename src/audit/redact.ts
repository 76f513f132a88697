/**
 * What the records keep of tool arguments (`audit.arguments`): everything, only the digest, or
 * everything but named fields. Applied before anything is stored, so a redacted value is never in
 * the store, the log or an export.
 */
import type { ArgumentsRetention } from '../config/index.js';

export const REDACTED = '[redacted]';

/** The arguments as records keep them, and the paths of the fields that were redacted. */
export interface KeptArguments {
  readonly args?: unknown;
  readonly argsRedacted?: readonly string[];
}

/**
 * @example keptArguments({ to: 'bob', pin: '1234' }, { redact: ['pin'] })
 * // { args: { to: 'bob', pin: '[redacted]' }, argsRedacted: ['pin'] }
 */
export function keptArguments(args: unknown, retention: ArgumentsRetention): KeptArguments {
  if (retention === 'digest') return {};
  if (retention === 'full') return { args };
  const names = new Set(retention.redact);
  const paths: string[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const at = path ? `${path}.${k}` : k;
      const kept = names.has(k) ? REDACTED : walk(v, at);
      if (kept === REDACTED && names.has(k)) paths.push(at);
      // defineProperty: a `__proto__` key from JSON must stay a plain field, not a prototype.
      Object.defineProperty(out, k, {
        value: kept,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  const kept = walk(args, '');
  return paths.length > 0 ? { args: kept, argsRedacted: paths } : { args: kept };
}
