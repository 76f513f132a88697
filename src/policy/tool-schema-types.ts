/**
 * The JSON-Schema-to-Cedar type walker behind `toolActionsSchema` (tool-schema.ts): the Cedar type
 * of each tool's `context.args`, with notes on what it leaves untyped, and the escaping that its
 * output and notes share.
 */

/** Same default as the runtime argument limit (`max_arg_depth`), whose ceiling is 64. */
export const DEFAULT_MAX_DEPTH = 16;
export const MAX_DEPTH_LIMIT = 64;
const MAX_PROPERTIES = 1_000;
/**
 * Bounds the work for one tool. Schemas off the wire are trees, but a caller may hand over shared
 * subschemas, and sharing multiplies: 16 levels of 1,000 properties pointing at the next level.
 */
const MAX_NODES_PER_TOOL = 10_000;
/** No policy author types a longer name, and long names multiply the output size. */
const MAX_NAME_LENGTH = 1_024;
/** toCedarValue refuses calls whose arguments use these keys, so policy never sees them. */
const RESERVED_KEYS = new Set(['__entity', '__extn', '__expr']);
/** Keywords that make a schema mean something other than its `type`, or that we cannot resolve. */
const REF_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef'] as const;
const COMBINATORS = ['anyOf', 'oneOf', 'allOf', 'not'] as const;

export type CedarType =
  | { readonly kind: 'String' | 'Long' | 'Bool' }
  | { readonly kind: 'Set'; readonly element: CedarType }
  | { readonly kind: 'Record'; readonly attrs: readonly Attribute[] };

interface Attribute {
  /** The name as Cedar schema text: quoted, escaped, with `?` when optional. */
  readonly key: string;
  readonly type: CedarType;
}

type Typed =
  | { readonly ok: true; readonly type: CedarType; readonly nullable: boolean }
  | { readonly ok: false; readonly why: string };

export const EMPTY_RECORD: CedarType = { kind: 'Record', attrs: [] };

// Everything but letters, marks, digits, punctuation, symbols and the plain space is escaped: the
// names are attacker-controlled and end up in a file people review, so control characters, bidi
// overrides and invisible characters must show as what they are.
const HIDDEN = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/gu;
// A lone surrogate has no escape Cedar accepts, and crossing into Wasm turns it into U+FFFD, which
// could merge two names into one.
const LONE_SURROGATE = /\p{Cs}/u;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A Cedar string literal (Cedar accepts `\u{...}`, not JSON's `\uXXXX`). */
export function cedarString(s: string): string {
  const escaped = s
    .replace(/[\\"]/g, '\\$&')
    .replace(HIDDEN, (ch) => SHORT_ESCAPES[ch] ?? `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`);
  return `"${escaped}"`;
}

/** Attacker-controlled text made safe and short for a note. */
export function shown(s: string): string {
  return cedarString(s.length > 120 ? `${s.slice(0, 120)}...` : s);
}

function isSchemaObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own properties only: a schema key must not be answered by Object.prototype. */
function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

export function compare(a: string, b: string): number {
  // Code-unit order, not localeCompare: the generated file must not depend on the machine's ICU.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Types the arguments of one tool, collecting notes; never recurses past its bounds. */
export class ArgumentTyper {
  readonly notes: string[] = [];
  private nodes = 0;
  private exhausted = false;
  /** The schema objects on the current path, so a cycle is refused instead of unrolled. */
  private readonly ancestors = new Set<object>();

  constructor(private readonly maxDepth: number) {}

  /** The record for `context.args`, or `{}` when the input schema says nothing usable. */
  args(inputSchema: unknown): CedarType {
    if (inputSchema === undefined) {
      this.notes.push('has no input schema; its arguments are not typed for policy');
      return EMPTY_RECORD;
    }
    const t = this.typeOf(inputSchema, 0, '');
    if (!t.ok) {
      this.notes.push(`its input schema is not typed for policy (${t.why})`);
      return EMPTY_RECORD;
    }
    if (t.type.kind !== 'Record') {
      this.notes.push('its input schema is not an object schema; its arguments are not typed');
      return EMPTY_RECORD;
    }
    return t.type;
  }

  /**
   * JSON Schema to the Cedar type of the value policy receives (see cedar-value.ts). The gateway
   * checks arguments against the schema before policy, so `type` is authoritative; the combinators
   * only narrow it further. `number` becomes Long: a fractional value reaches policy as a decimal,
   * a Long comparison on it errors, and an erroring policy denies, so the mismatch fails closed.
   */
  private typeOf(schema: unknown, depth: number, path: string): Typed {
    if (depth > this.maxDepth)
      return { ok: false, why: `nested deeper than ${this.maxDepth} levels` };
    if (!isSchemaObject(schema)) return { ok: false, why: 'not a schema object' };
    if (this.ancestors.has(schema)) return { ok: false, why: 'refers to itself' };
    this.nodes++;
    // $ref siblings are ignored up to draft-07, so even a `type` next to it cannot be trusted.
    const ref = REF_KEYWORDS.find((k) => own(schema, k) !== undefined);
    if (ref) return { ok: false, why: ref };

    const type = own(schema, 'type');
    if (type === undefined) {
      return { ok: false, why: COMBINATORS.find((k) => own(schema, k) !== undefined) ?? 'no type' };
    }
    const names = typeof type === 'string' ? [type] : type;
    if (!Array.isArray(names) || !names.every((n): n is string => typeof n === 'string')) {
      return { ok: false, why: 'unknown type' };
    }
    // Cedar has no null: toCedarValue drops null fields, so a nullable argument may be absent.
    const nullable = names.includes('null') || own(schema, 'nullable') === true;
    const nonNull = [...new Set(names.filter((n) => n !== 'null'))];
    const [only] = nonNull;
    if (only === undefined) return { ok: false, why: names.length > 0 ? 'null only' : 'no type' };
    if (nonNull.length > 1) {
      return { ok: false, why: `several types: ${nonNull.slice(0, 3).map(shown).join(', ')}` };
    }

    const wrap = (t: Typed): Typed => (t.ok ? { ok: true, type: t.type, nullable } : t);
    switch (only) {
      case 'string':
        return { ok: true, type: { kind: 'String' }, nullable };
      case 'integer':
      case 'number':
        return { ok: true, type: { kind: 'Long' }, nullable };
      case 'boolean':
        return { ok: true, type: { kind: 'Bool' }, nullable };
      case 'array':
        return wrap(this.within(schema, () => this.array(schema, depth, path)));
      case 'object':
        return wrap(this.within(schema, () => this.record(schema, depth, path)));
      default:
        return { ok: false, why: `unknown type ${shown(only)}` };
    }
  }

  private within(schema: object, walk: () => Typed): Typed {
    this.ancestors.add(schema);
    try {
      return walk();
    } finally {
      this.ancestors.delete(schema);
    }
  }

  private array(schema: Record<string, unknown>, depth: number, path: string): Typed {
    const items = own(schema, 'items');
    if (items === undefined) return { ok: false, why: 'array without typed items' };
    if (Array.isArray(items)) return { ok: false, why: 'array of tuple items' };
    // Null items are dropped on the way to Cedar, so a nullable item type is still a Set of it.
    const element = this.typeOf(items, depth + 1, `${path}[]`);
    if (!element.ok) return { ok: false, why: `its items: ${element.why}` };
    return { ok: true, type: { kind: 'Set', element: element.type }, nullable: false };
  }

  private record(schema: Record<string, unknown>, depth: number, path: string): Typed {
    const properties = own(schema, 'properties');
    if (!isSchemaObject(properties)) return { ok: true, type: EMPTY_RECORD, nullable: false };
    const listed = own(schema, 'required');
    const required = new Set(
      Array.isArray(listed) ? listed.filter((r): r is string => typeof r === 'string') : [],
    );
    let names = Object.keys(properties);
    if (names.length > MAX_PROPERTIES) {
      this.notes.push(
        `${where(path)} has ${names.length} properties; only the first ${MAX_PROPERTIES} are typed for policy`,
      );
      names = names.slice(0, MAX_PROPERTIES);
    }
    const attrs: Attribute[] = [];
    for (const name of names.sort(compare)) {
      const at = path === '' ? name : `${path}.${name}`;
      if (this.nodes >= MAX_NODES_PER_TOOL) {
        if (!this.exhausted) {
          this.notes.push(
            `typing stopped after ${MAX_NODES_PER_TOOL} schema nodes; ${where(at)} and the rest are omitted`,
          );
        }
        this.exhausted = true;
        break;
      }
      const problem = nameProblem(name);
      const t: Typed = problem
        ? { ok: false, why: problem }
        : this.typeOf(properties[name], depth + 1, at);
      if (!t.ok) {
        // Omitted rather than guessed: a policy that names it fails strict validation.
        this.notes.push(`argument ${shown(at)} is not typed for policy (${t.why})`);
        continue;
      }
      const optional = !required.has(name) || t.nullable;
      attrs.push({ key: `${cedarString(name)}${optional ? '?' : ''}`, type: t.type });
    }
    return { ok: true, type: { kind: 'Record', attrs }, nullable: false };
  }
}

/** Why policy cannot see an argument of this name, or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  return RESERVED_KEYS.has(name)
    ? 'its name is reserved; calls that use it are refused'
    : LONE_SURROGATE.test(name)
      ? 'its name is not well-formed Unicode'
      : name.length > MAX_NAME_LENGTH
        ? `its name is longer than ${MAX_NAME_LENGTH} characters`
        : undefined;
}

function where(path: string): string {
  return path === '' ? 'the input schema' : `argument ${shown(path)}`;
}
