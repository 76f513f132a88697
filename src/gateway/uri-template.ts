/**
 * Matching resource URIs against RFC 6570 templates, enough to route a read to the upstream that
 * serves it: literals, `{var}` (one or more characters other than `/`) and `{+var}` (any
 * characters). Templates come from upstreams and URIs from agents, both attacker-controlled, so
 * matching is a linear-time walk over the URI per template part (literals found with KMP), never a
 * backtracking regex.
 */

/** Longer templates and templates with more expressions are not used for routing. */
export const MAX_TEMPLATE_LENGTH = 1024;
const MAX_EXPRESSIONS = 16;
const VARNAME = /^[A-Za-z0-9_.%]+$/;

type Part =
  | { readonly kind: 'literal'; readonly text: string; readonly fail: Uint16Array }
  | { readonly kind: 'segment' }
  | { readonly kind: 'reserved' };

/** A compiled template; undefined parts mean the template uses operators beyond level 1 (and `+`). */
export interface UriTemplate {
  readonly template: string;
  readonly parts: readonly Part[];
}

/** Compiles a template; undefined when it is too long or uses what this matcher does not handle. */
export function compileUriTemplate(template: string): UriTemplate | undefined {
  if (template.length === 0 || template.length > MAX_TEMPLATE_LENGTH) return undefined;
  const parts: Part[] = [];
  let expressions = 0;
  let at = 0;
  while (at < template.length) {
    const open = template.indexOf('{', at);
    const literalEnd = open === -1 ? template.length : open;
    const literal = template.slice(at, literalEnd);
    if (literal.includes('}')) return undefined;
    if (literal) parts.push({ kind: 'literal', text: literal, fail: failure(literal) });
    if (open === -1) break;
    const close = template.indexOf('}', open);
    if (close === -1) return undefined;
    const expr = template.slice(open + 1, close);
    const reserved = expr.startsWith('+');
    const name = reserved ? expr.slice(1) : expr;
    // `{a,b}`, `{?q}`, `{/p}`, `{x*}`, `{x:3}`: not level 1; such a template does not route.
    if (!VARNAME.test(name) || ++expressions > MAX_EXPRESSIONS) return undefined;
    parts.push({ kind: reserved ? 'reserved' : 'segment' });
    at = close + 1;
  }
  // A template that starts with an expression could match any URI of any scheme: it is listed,
  // but a read is not routed by it.
  if (parts[0]?.kind !== 'literal') return undefined;
  return { template, parts };
}

/** The Knuth-Morris-Pratt failure table of `text`. */
function failure(text: string): Uint16Array {
  const fail = new Uint16Array(text.length);
  for (let i = 1, k = 0; i < text.length; i++) {
    while (k > 0 && text[i] !== text[k]) k = fail[k - 1] ?? 0;
    if (text[i] === text[k]) k++;
    fail[i] = k;
  }
  return fail;
}

/** The end positions of every occurrence of `text` in `s`, in O(|s| + |text|) (KMP). */
function* occurrences(text: string, fail: Uint16Array, s: string): Generator<number> {
  const m = text.length;
  for (let i = 0, k = 0; i < s.length; i++) {
    while (k > 0 && s[i] !== text[k]) k = fail[k - 1] ?? 0;
    if (s[i] === text[k]) k++;
    if (k === m) {
      yield i + 1;
      k = fail[k - 1] ?? 0;
    }
  }
}

/** Whether `uri` is an expansion of the template. Linear in the URI and the template per part. */
export function matchesUriTemplate(t: UriTemplate, uri: string): boolean {
  const n = uri.length;
  // reach[i]: the parts so far can consume exactly uri[0, i).
  let reach = new Uint8Array(n + 1);
  reach[0] = 1;
  for (const part of t.parts) {
    const next = new Uint8Array(n + 1);
    let any = false;
    if (part.kind === 'literal') {
      const m = part.text.length;
      for (const end of occurrences(part.text, part.fail, uri)) {
        if (reach[end - m]) {
          next[end] = 1;
          any = true;
        }
      }
    } else if (part.kind === 'reserved') {
      // Any characters, none included: every position at or after the first reachable one.
      let from = reach.indexOf(1);
      if (from !== -1) {
        for (; from <= n; from++) next[from] = 1;
        any = true;
      }
    } else {
      // One or more characters other than '/': a reachable start carries over until a '/'.
      let open = false;
      for (let i = 0; i < n; i++) {
        if (uri[i] === '/') open = false;
        else {
          if (reach[i]) open = true;
          if (open) {
            next[i + 1] = 1;
            any = true;
          }
        }
      }
    }
    if (!any) return false;
    reach = next;
  }
  return reach[n] === 1;
}
