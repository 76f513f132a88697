/**
 * Is a log line exactly the RFC 8785 canonical JSON of an object, and what are its `v`, `index` and
 * `prev`? The reference answer is `canonicalJson(JSON.parse(line)) === line`; it costs several
 * microseconds a line (a parse, then a serialisation in JavaScript). `CanonicalScanner` answers in
 * one pass over the bytes for the shapes the log writes, and defers to the reference for the rest:
 *
 * - it only ever says yes to canonical text: no whitespace outside strings, keys in strictly
 *   increasing order (plain ASCII keys, so byte order is UTF-16 order; others defer), integers in
 *   shortest form with at most 15 digits (exact doubles; fractions, exponents and longer defer),
 *   strings escaped exactly as JSON.stringify does (other `\u` escapes defer), depth ≤ 64;
 * - "defer" is not "no": the line checker (./verify-line.ts) then runs the reference, which decides
 *   and names the problem.
 *
 * The bytes must already be known UTF-8 (the caller checks with `isUtf8`), so raw non-ASCII bytes
 * in strings are fine: JSON.stringify leaves them raw too.
 */
import { canonicalJson } from '../crypto/index.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const MAX_DEPTH = 64;
const MAX_DIGITS = 15;
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');
const KEY_V = Buffer.from('v');
const KEY_INDEX = Buffer.from('index');
const KEY_PREV = Buffer.from('prev');
// JSON.stringify writes these control characters as \b \t \n \f \r, the others as \u00xx.
const SHORT_ESCAPES = new Set([0x22, 0x5c, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const HAS_SHORT_FORM = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);
// 1 for the bytes a string can hold as they are: not a quote, backslash or control character; in
// keys also not DEL or non-ASCII (their order would need UTF-16 decoding: deferred).
const VALUE_PLAIN = Uint8Array.from({ length: 256 }, (_, c) =>
  c >= 0x20 && c !== QUOTE && c !== BACKSLASH ? 1 : 0,
);
const KEY_PLAIN = Uint8Array.from({ length: 256 }, (_, c) =>
  c >= 0x20 && c < 0x7f && c !== QUOTE && c !== BACKSLASH ? 1 : 0,
);

/** Value of each lowercase hex digit, -1 for every other byte. */
const HEX_VALUE = Int8Array.from({ length: 256 }, (_, c) =>
  c >= DIGIT_0 && c <= DIGIT_9 ? c - DIGIT_0 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1,
);
const lowerHex = (c: number | undefined): number => HEX_VALUE[c as number] ?? -1;

function sameBytes(b: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (b[start + i] !== word[i]) return false;
  return true;
}

/** Byte comparison of b[s1, e1) and b[s2, e2): negative, zero or positive. */
function compareBytes(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const d = (b[s1 + i] ?? 0) - (b[s2 + i] ?? 0);
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

/**
 * The end of the string whose contents start at `p` (just past its closing quote), or -1 to defer.
 * Past the end of the view b[p] is undefined, and so is the table look-up: the loop stops there.
 */
function skipString(b: Uint8Array, from: number): number {
  let p = from;
  for (;;) {
    while (VALUE_PLAIN[b[p] as number] === 1) p++;
    const c = b[p];
    if (c === QUOTE) return p + 1;
    if (c !== BACKSLASH) return -1; // a raw control character, or the end of the line
    const e = b[p + 1] ?? 0;
    if (SHORT_ESCAPES.has(e)) {
      p += 2;
      continue;
    }
    // \u00XX for a control character without a short form, lowercase hex: JSON.stringify's form.
    if (e !== 0x75 || b[p + 2] !== DIGIT_0 || b[p + 3] !== DIGIT_0) return -1;
    const hi = b[p + 4];
    const lo = lowerHex(b[p + 5]);
    if ((hi !== DIGIT_0 && hi !== DIGIT_1) || lo < 0) return -1;
    if (HAS_SHORT_FORM.has((hi - DIGIT_0) * 16 + lo)) return -1;
    p += 6;
  }
}

/** The end of the integer at `p` in shortest form with at most 15 digits, or -1 to defer. */
function skipInteger(b: Uint8Array, from: number): number {
  let p = from;
  if (b[p] === MINUS) p++;
  const first = b[p] ?? 0;
  if (first === DIGIT_0) {
    if (p > from) return -1; // -0 is not canonical
    return p + 1;
  }
  if (first < DIGIT_1 || first > DIGIT_9) return -1;
  p++;
  for (let c = b[p] ?? 0; c >= DIGIT_0 && c <= DIGIT_9; c = b[p] ?? 0) p++;
  return p - from > MAX_DIGITS ? -1 : p;
}

function skipLiteral(b: Uint8Array, p: number): number {
  for (const word of [TRUE, FALSE, NULL]) {
    if (sameBytes(b, p, Math.min(p + word.length, b.length), word)) return p + word.length;
  }
  return -1;
}

/** Where the top-level fields' value tokens are in the scanned line ([start, end), -1 if absent). */
export interface ScannedFields {
  vStart: number;
  vEnd: number;
  indexStart: number;
  indexEnd: number;
  prevStart: number;
  prevEnd: number;
}

const IN_OBJECT = 1;
const IN_ARRAY = 2;

/** One-pass canonical-JSON recogniser; see the file comment. Reuse one instance (no allocation). */
export class CanonicalScanner implements ScannedFields {
  vStart = -1;
  vEnd = -1;
  indexStart = -1;
  indexEnd = -1;
  prevStart = -1;
  prevEnd = -1;
  // Per open container: object or array, and for objects the last key seen, [start, end).
  private readonly kinds = new Uint8Array(MAX_DEPTH + 1);
  private readonly lastKeyStart = new Int32Array(MAX_DEPTH + 1);
  private readonly lastKeyEnd = new Int32Array(MAX_DEPTH + 1);

  /**
   * True when b[start..] (to the end of the view: pass a view that ends where the line ends) is surely
   * the canonical JSON of an object; false means "ask the reference". Iterative, with locals, as it
   * runs once per entry.
   */
  scan(b: Uint8Array, start: number): boolean {
    const { kinds, lastKeyStart, lastKeyEnd } = this;
    this.vStart = this.indexStart = this.prevStart = -1;
    this.vEnd = this.indexEnd = this.prevEnd = -1;
    if (b[start] !== OPEN_OBJECT) return false;
    let p = start + 1;
    if (b[p] === CLOSE_OBJECT) return p + 1 === b.length;
    let depth = 1;
    kinds[1] = IN_OBJECT;
    lastKeyStart[1] = -1;
    while (depth > 0) {
      // An element of the container at `depth` starts at p: a key and colon first in an object.
      let keyStart = -1;
      let keyEnd = -1;
      if (kinds[depth] === IN_OBJECT) {
        if (b[p] !== QUOTE) return false;
        keyStart = ++p;
        while (KEY_PLAIN[b[p] as number] === 1) p++;
        if (b[p] !== QUOTE) return false; // an escape, a non-ASCII byte, or the end: defer
        keyEnd = p++;
        const last = lastKeyStart[depth] ?? -1;
        if (last >= 0 && compareBytes(b, last, lastKeyEnd[depth] ?? 0, keyStart, keyEnd) >= 0) {
          return false;
        }
        lastKeyStart[depth] = keyStart;
        lastKeyEnd[depth] = keyEnd;
        if (b[p] !== COLON) return false;
        p++;
      }
      const valueStart = p;
      const c = b[p];
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (depth >= MAX_DEPTH) return false;
        p++;
        if (b[p] !== (c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
          depth++;
          kinds[depth] = c === OPEN_OBJECT ? IN_OBJECT : IN_ARRAY;
          lastKeyStart[depth] = -1;
          continue;
        }
        p++; // an empty container is a whole value
      } else {
        if (c === QUOTE) p = skipString(b, p + 1);
        else if (c === MINUS || (c !== undefined && c >= DIGIT_0 && c <= DIGIT_9)) {
          p = skipInteger(b, p);
        } else p = skipLiteral(b, p);
        if (p < 0) return false;
        if (depth === 1) this.note(b, keyStart, keyEnd, valueStart, p);
      }
      // After a value: a comma, or the end of its container (and maybe of those around it).
      for (;;) {
        const d = b[p++];
        if (d === COMMA) break;
        if (d !== (kinds[depth] === IN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) return false;
        depth--;
        if (depth === 0) break;
      }
    }
    return p === b.length;
  }

  private note(b: Uint8Array, keyStart: number, keyEnd: number, start: number, end: number): void {
    if (sameBytes(b, keyStart, keyEnd, KEY_V)) {
      this.vStart = start;
      this.vEnd = end;
    } else if (sameBytes(b, keyStart, keyEnd, KEY_INDEX)) {
      this.indexStart = start;
      this.indexEnd = end;
    } else if (sameBytes(b, keyStart, keyEnd, KEY_PREV)) {
      this.prevStart = start;
      this.prevEnd = end;
    }
  }
}

/** The reference check: whether `text` is the canonical JSON of what it parses to. Never throws. */
export function isCanonicalText(text: string, value: unknown): boolean {
  try {
    return canonicalJson(value) === text;
  } catch {
    return false; // e.g. 1e400 parses to Infinity, which has no canonical form
  }
}

/**
 * Whether the 64 lowercase hex digits at b[start..] spell `hash` (a latin1 string, one char per byte),
 * compared without building strings; undefined when they are not 64 lowercase hex digits.
 */
export function hexEquals(b: Uint8Array, start: number, hash: string): boolean | undefined {
  let equal = true;
  for (let i = 0; i < hash.length; i++) {
    const hi = HEX_VALUE[b[start + 2 * i] as number] ?? -1;
    const lo = HEX_VALUE[b[start + 2 * i + 1] as number] ?? -1;
    if (hi < 0 || lo < 0) return undefined;
    if (hi * 16 + lo !== hash.charCodeAt(i)) equal = false;
  }
  return equal;
}
