/**
 * How values are recognised again: the normal forms under which a value in a tool result, a
 * user's input or a tool argument counts as "the same value".
 *
 * Two forms, each a string key:
 *   - `n:` the text case-folded (NFKC, lower case) with runs of whitespace made one space;
 *   - `c:` for IBAN- and phone-like strings only, the same without any whitespace or separators
 *     (`DE89 3704 0044 ...` and `de89370400...` meet; `+49 (30) 1234-567` and `+49301234567` too).
 * Short values (under MIN_CHARS) never count as seen anywhere: "13" in "13:30" is a coincidence,
 * not provenance.
 */

/** Values shorter than this (normalised) are never attributed to a source. */
export const MIN_CHARS = 4;
/** The longest run of tokens recognised as one value in a text (IBANs in groups of four). */
const MAX_WINDOW = 6;
/** As deep as arguments may nest at all (limits.max_arg_depth is at most 64). */
const MAX_DEPTH = 64;
/** The longest value recognised in a text, in characters. */
const MAX_KEY_CHARS = 128;

/** Splits text into tokens: whitespace, quotes, brackets and `,;|` separate; URLs and e-mails stay whole. */
const TOKEN_SPLIT = /[\s"'`<>()[\]{},;|]+/u;
/** `=` separates too (`to=DE89...`), except inside a URL, where it belongs to the query. */
const URL_START = /^[a-z][a-z0-9+.-]{0,31}:\/\//iu;
/** Sentence punctuation around a token is not part of it. */
const EDGE_PUNCTUATION = /^[.:!?*_]+|[.:!?*_]+$/gu;
/** Separators people put inside IBANs, account and phone numbers. */
const SEPARATORS = /[\s\-./()_+]+/gu;

/** A whole token that is a URL or an e-mail address (anchored and bounded: linear time). */
const URL_TOKEN = /^https?:\/\/\S{1,2048}$/iu;
const EMAIL_TOKEN = /^[^@\s]{1,64}@[\p{L}\p{N}-]{1,63}(?:\.[\p{L}\p{N}-]{1,63}){1,8}$/u;
/** Longer tokens are never destinations (and never scanned by a regex). */
const MAX_TOKEN_CHARS = 2100;
/** Format characters (zero-width spaces and joiners, bidi marks, soft hyphens) hide nothing. */
const INVISIBLE = /\p{Cf}/gu;

/** Case, Unicode compatibility forms and whitespace no longer tell two values apart. */
export function normalise(text: string): string {
  return text.normalize('NFKC').replace(INVISIBLE, '').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** A text's tokens as written (`raw`) and case-folded (`tokens`), format characters removed. */
function tokenize(text: string): { raw: string[]; tokens: string[] } {
  const raw = text
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .split(TOKEN_SPLIT)
    .flatMap((t) => (URL_START.test(t) ? [t] : t.split('=')))
    .map((t) => t.replace(EDGE_PUNCTUATION, ''))
    .filter((t) => t.length > 0);
  return { raw, tokens: raw.map((t) => t.toLowerCase()) };
}

/**
 * The separator-free form of an IBAN- or phone-like value, or undefined for any other value. Like
 * means: at most 40 letters and digits once separators are gone, and at least seven digits.
 */
function compactForm(normalised: string): string | undefined {
  const compact = normalised.replace(SEPARATORS, '');
  if (compact.length > 40 || !/^[a-z0-9]+$/u.test(compact)) return undefined;
  let digits = 0;
  for (let i = 0; i < compact.length; i++) {
    const c = compact.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return digits >= 7 ? compact : undefined;
}

/**
 * The keys one value is known by: its normal form and, when IBAN- or phone-like, its compact form.
 * @example valueKeys('DE89 3704 0044 0532 0130 00') // ['n:de89 3704 0044 0532 0130 00', 'c:de89370400440532013000']
 */
export function valueKeys(value: string): string[] {
  const n = normalise(value);
  if (n.length < MIN_CHARS || n.length > MAX_KEY_CHARS * 4) return [];
  const keys = [`n:${n}`];
  const c = compactForm(n);
  if (c !== undefined) keys.push(`c:${c}`);
  return keys;
}

/**
 * A token that may be one group of a number written in groups (`DE89`, `3704`, `(30)`, `+49`,
 * `1234-5678`): short, and with a digit, so that a chain of groups never starts in prose.
 */
const GROUP = /^(?=[^\d]{0,3}\d)[+(]?[a-z0-9][a-z0-9./-]{0,9}\)?$/u;
/** A token that starts with a capital letter: part of a name (`Acme Holdings Ltd`). */
const CAPITALISED = /^\p{Lu}/u;

/**
 * Every key under which a text makes a value known. Single tokens always (words, e-mails, URLs,
 * IBANs written whole); over several tokens only what values look like there: numbers in groups
 * (IBANs, phones: their compact form, up to six groups) and capitalised names (up to three words).
 * Every other run of words is prose, and indexing it would fill a run's index for nothing.
 * `emit` returns false to stop early (the index is full).
 */
export function forEachTextKey(text: string, emit: (key: string) => boolean): void {
  const { raw, tokens } = tokenize(text);
  for (let i = 0; i < tokens.length; i++) {
    const first = tokens[i] as string;
    if (first.length >= MIN_CHARS && first.length <= MAX_KEY_CHARS) {
      if (!emit(`n:${first}`)) return;
      const c = compactForm(first);
      if (c !== undefined && !emit(`c:${c}`)) return;
    }
    let name = CAPITALISED.test(raw[i] as string);
    let groups = GROUP.test(first);
    let window = first;
    for (let j = i + 1; j < tokens.length && j < i + MAX_WINDOW && (name || groups); j++) {
      const next = tokens[j] as string;
      window = `${window} ${next}`;
      if (window.length > MAX_KEY_CHARS) break;
      name = name && j - i < 3 && CAPITALISED.test(raw[j] as string);
      groups = groups && GROUP.test(next);
      if (name && !emit(`n:${window}`)) return;
      const c = groups ? compactForm(window) : undefined;
      if (c !== undefined && !emit(`c:${c}`)) return;
    }
  }
}

/**
 * The destinations written inside a free-text value (a message body, a note), each to be judged on
 * its own: URLs and e-mail addresses (whole tokens), and IBAN- or phone-like numbers, written whole
 * or in groups (every run of groups from where one starts). Linear in the text's length.
 * @example destinations('please pay DE89 3704 0044 0532 0130 00 today') // [..., 'DE89 3704 0044 0532 0130 00']
 */
export function destinations(value: string): string[] {
  const { raw, tokens } = tokenize(value);
  const found = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t.length > MAX_TOKEN_CHARS) continue;
    if (URL_TOKEN.test(t) || EMAIL_TOKEN.test(t) || compactForm(t) !== undefined)
      found.add(raw[i] as string);
    // A number in groups starts where the previous token is not a group.
    if (!GROUP.test(t) || (i > 0 && GROUP.test(tokens[i - 1] as string))) continue;
    let window = raw[i] as string;
    for (let j = i + 1; j < tokens.length && j < i + MAX_WINDOW; j++) {
      if (!GROUP.test(tokens[j] as string)) break;
      window = `${window} ${raw[j] as string}`;
      if (compactForm(normalise(window)) !== undefined) found.add(window);
    }
  }
  return [...found];
}

/** The strings inside an argument value (numbers and booleans are not attributed), depth-bounded. */
export function leafStrings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') out.push(value);
  else if (depth < MAX_DEPTH && Array.isArray(value))
    for (const v of value) leafStrings(v, out, depth + 1);
  else if (depth < MAX_DEPTH && value !== null && typeof value === 'object')
    for (const v of Object.values(value)) leafStrings(v, out, depth + 1);
  return out;
}
