import type { CedarValueJson } from './cedar.js';

/** Why tool arguments cannot be handed to policy. */
export interface ArgumentProblem {
  readonly path: string;
  readonly problem: string;
}

/** Keys Cedar's JSON format reads as entity or extension escapes; an attacker must not smuggle them in. */
const RESERVED_KEYS = new Set(['__entity', '__extn', '__expr']);
/** Cedar decimals are i64 with four fractional digits. */
const MAX_DECIMAL = 922_337_203_685_477;

/** Internal: unwinds the walk at the first refused value; never escapes `toCedarValue`. */
class Refused extends Error {
  constructor(readonly problem: ArgumentProblem) {
    super(problem.problem);
  }
}

function decimalText(n: number): string | undefined {
  if (!Number.isFinite(n) || Math.abs(n) >= MAX_DECIMAL) return undefined;
  const text = n.toFixed(4);
  // Only numbers that survive four fractional digits exactly are given to policy as decimals.
  if (Number(text) !== n) return undefined;
  return text;
}

function walk(v: unknown, path: string, depth: number, maxDepth: number): CedarValueJson {
  const refuse = (problem: string) => new Refused({ path: path || '(arguments)', problem });
  if (depth > maxDepth) throw refuse(`nested deeper than ${maxDepth} levels`);
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number': {
      if (Number.isSafeInteger(v)) return v;
      const d = decimalText(v);
      if (d === undefined) throw refuse(`the number ${v} cannot be represented exactly for policy`);
      return { __extn: { fn: 'decimal', arg: d } };
    }
    case 'object': {
      if (v === null) throw refuse('null');
      if (Array.isArray(v)) {
        const out: CedarValueJson[] = [];
        v.forEach((item: unknown, i) => {
          if (item !== null) out.push(walk(item, `${path}[${i}]`, depth + 1, maxDepth));
        });
        return out;
      }
      const out: Record<string, CedarValueJson> = {};
      for (const [k, item] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (RESERVED_KEYS.has(k))
          throw new Refused({ path: p, problem: `the key "${k}" is reserved` });
        if (item !== null) out[k] = walk(item, p, depth + 1, maxDepth);
      }
      return out;
    }
    default:
      throw refuse(`unsupported value of type ${typeof v}`);
  }
}

/**
 * Converts attacker-controlled tool arguments (JSON) to Cedar JSON values, refusing what Cedar
 * would misread: reserved escape keys, numbers it cannot represent exactly, and excessive nesting.
 * `null` fields are left out (Cedar has no null), so a policy reading one errors, which denies.
 * @example toCedarValue({ amount: 12.5 }, 16) // { ok: true, value: { amount: { __extn: { fn: 'decimal', arg: '12.5000' } } } }
 */
export function toCedarValue(
  value: unknown,
  maxDepth: number,
): { ok: true; value: CedarValueJson } | { ok: false; problem: ArgumentProblem } {
  try {
    return { ok: true, value: walk(value ?? {}, '', 0, maxDepth) };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, problem: err.problem };
    throw err;
  }
}
