import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** Parses `500ms`, `30s`, `15m`, `1h`, `7d` to milliseconds; undefined when malformed. @example parseDuration('15m') === 900000 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** A zod field accepting a duration string (or a number of milliseconds) and yielding milliseconds. */
export const durationMs = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" is not a duration such as 500ms, 30s, 15m or 1h`,
    });
    return z.NEVER;
  }
  return ms;
});
