/**
 * One line of entries.jsonl, checked on its own and against the line before: UTF-8, the canonical
 * JSON of an object, `"v": 1`, `index` = its position and `prev` = hex of the previous leaf hash;
 * then hashed in place as an RFC 6962 leaf. Runs in the main thread or in a worker (one checker per
 * chunk, started from the chunk's first index and the leaf hash of the line before it).
 */
import { isUtf8 } from 'node:buffer';
import { CanonicalScanner, hexEquals, isCanonicalText } from './verify-json.js';
import { eachLine } from './verify-read.js';
import { CompactRange, leafHashInPlace, type HashString, type RangeData } from './verify-tree.js';

/** Entry problems reported one by one; the rest are only counted. */
export const MAX_ENTRY_PROBLEMS = 20;
const QUOTE = 0x22;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const HEX64 = /^[0-9a-f]{64}$/;

export type EntryProblemCode =
  | 'not_utf8'
  | 'not_json'
  | 'not_object'
  | 'not_canonical'
  | 'bad_version'
  | 'bad_index'
  | 'bad_prev'
  | 'chain_broken'
  | 'unterminated'
  | 'entry_too_large';

/** What is wrong with the line at `index`: the line itself, its index field, or its prev link. */
export interface EntryAnomaly {
  readonly index: number;
  readonly code: EntryProblemCode;
  readonly message: string;
  /** The line itself is malformed (or damaged), whatever its neighbours say. */
  readonly lineBad: boolean;
  /** Its `index` is a well-formed integer other than its position. */
  readonly claimedIndex?: number;
  /** Its `prev` is well formed but not the hash of the line before. */
  readonly prevBad: boolean;
}

/** "Entry 3 (line 4)", to start a sentence. */
export const at = (i: number): string => `Entry ${i} (line ${i + 1})`;

interface LineFields {
  readonly v: boolean;
  /** A non-negative safe integer, or undefined when missing or not one. */
  readonly index: number | undefined;
  /** true/false: well formed and matching or not; undefined: missing or malformed. */
  readonly prevMatches: boolean | undefined;
}

/** A problem with the line itself. */
function damaged(i: number, code: EntryProblemCode, message: string): EntryAnomaly {
  return { index: i, code, message, lineBad: true, prevBad: false };
}

/** The value of the decimal digits b[start, end) (at most 15: the scanner allows no more), or undefined. */
function digits(b: Uint8Array, start: number, end: number): number | undefined {
  let n = 0;
  for (let p = start; p < end; p++) {
    const c = b[p] ?? 0;
    if (c < DIGIT_0 || c > DIGIT_9) return undefined;
    n = n * 10 + (c - DIGIT_0);
  }
  return end > start ? n : undefined;
}

/** The problem with a line whose fields are read, if any. */
function judge(i: number, fields: LineFields): EntryAnomaly | undefined {
  if (!fields.v) return damaged(i, 'bad_version', `${at(i)} does not have "v": 1.`);
  if (fields.index === undefined) {
    return damaged(i, 'bad_index', `${at(i)} has no "index" that is a non-negative integer.`);
  }
  if (fields.prevMatches === undefined) {
    return damaged(i, 'bad_prev', `${at(i)} has no "prev" of 64 lowercase hex digits.`);
  }
  const prevBad = !fields.prevMatches;
  if (fields.index !== i) {
    const message = `${at(i)} says it is entry ${fields.index}: entries are missing, inserted or out of order.`;
    return {
      index: i,
      code: 'bad_index',
      message,
      lineBad: false,
      claimedIndex: fields.index,
      prevBad,
    };
  }
  if (prevBad) {
    const message = `${at(i)} has a "prev" that is not the hash of entry ${i - 1}.`;
    return { index: i, code: 'chain_broken', message, lineBad: false, prevBad };
  }
  return undefined;
}

/**
 * Checks lines in order from entry `index`, the line before having leaf hash `prevLeaf` (zeros
 * before entry 0). @example const c = new LineChecker(0, '\0'.repeat(32)); c.line(view)
 */
export class LineChecker {
  readonly anomalies: EntryAnomaly[] = [];
  moreAnomalies = 0;
  private readonly scanner = new CanonicalScanner();

  constructor(
    public index: number,
    private prevLeaf: HashString,
  ) {}

  /** The leaf hash of the last line checked (or the one given before the first). */
  get lastLeaf(): HashString {
    return this.prevLeaf;
  }

  record(anomaly: EntryAnomaly): void {
    if (this.anomalies.length < MAX_ENTRY_PROBLEMS) this.anomalies.push(anomaly);
    else this.moreAnomalies += 1;
  }

  /** Checks one line (`view[0]` is scratch, the line is `view[1..]`) and returns its leaf hash. */
  line(view: Buffer): HashString {
    const problem = this.check(view, this.index);
    if (problem) this.record(problem);
    const leaf = leafHashInPlace(view);
    this.prevLeaf = leaf;
    this.index += 1;
    return leaf;
  }

  private check(view: Buffer, i: number): EntryAnomaly | undefined {
    if (view.length === 1) return damaged(i, 'not_json', `${at(i)} is a blank line.`);
    if (!isUtf8(view)) return damaged(i, 'not_utf8', `${at(i)} is not valid UTF-8.`);
    if (!this.scanner.scan(view, 1)) {
      const fields = this.slowFields(view, i);
      return 'code' in fields ? fields : judge(i, fields);
    }
    const s = this.scanner;
    const v = s.vEnd - s.vStart === 1 && view[s.vStart] === DIGIT_1;
    const index = s.indexStart < 0 ? undefined : digits(view, s.indexStart, s.indexEnd);
    const prevMatches =
      s.prevEnd - s.prevStart === 66 && view[s.prevStart] === QUOTE
        ? hexEquals(view, s.prevStart + 1, this.prevLeaf)
        : undefined;
    // The common case allocates nothing.
    if (v && index === i && prevMatches === true) return undefined;
    return judge(i, { v, index, prevMatches });
  }

  private slowFields(view: Buffer, i: number): LineFields | EntryAnomaly {
    const fail = (code: EntryProblemCode, message: string) => damaged(i, code, message);
    const text = view.toString('utf8', 1);
    const crlf = `${at(i)} ends with a carriage return: the file has CRLF line endings.`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (text.startsWith('\uFEFF')) {
        return fail('not_json', `${at(i)} starts with a byte order mark (U+FEFF).`);
      }
      return fail('not_json', `${at(i)} is not valid JSON.`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const what = Array.isArray(value)
        ? 'a JSON array'
        : value === null
          ? 'JSON null'
          : `a JSON ${typeof value}`;
      return fail('not_object', `${at(i)} is ${what}, not an object.`);
    }
    if (!isCanonicalText(text, value)) {
      if (text.endsWith('\r')) return fail('not_canonical', crlf);
      return fail('not_canonical', `${at(i)} is not in canonical JSON form (RFC 8785).`);
    }
    const entry = value as Record<string, unknown>;
    const index = entry.index;
    const prev = entry.prev;
    return {
      v: entry.v === 1,
      index:
        typeof index === 'number' && Number.isSafeInteger(index) && index >= 0 ? index : undefined,
      prevMatches:
        typeof prev === 'string' && HEX64.test(prev)
          ? prev === Buffer.from(this.prevLeaf, 'latin1').toString('hex')
          : undefined,
    };
  }
}

/** What a chunk of lines gives: its problems and its leaves as compact ranges, cut at `stops`. */
export interface ChunkOutcome {
  readonly count: number;
  /** Consecutive ranges covering the chunk's lines, ending at each stop inside it and at its end. */
  readonly segments: readonly RangeData[];
  readonly lastLeaf: HashString;
  readonly anomalies: readonly EntryAnomaly[];
  readonly moreAnomalies: number;
}

/**
 * Checks a chunk (see ./verify-read.ts) whose first line is entry `start`, the line before hashing
 * to `prevLeaf`; the leaves are summed up as compact ranges that end at each of `stops` (checkpoint
 * sizes inside the chunk, ascending), so roots there can be computed without the leaves.
 * @example checkChunk(chunk, 0, '\0'.repeat(32), [4, 8])
 */
export function checkChunk(
  chunk: Buffer,
  start: number,
  prevLeaf: HashString,
  stops: readonly number[],
): ChunkOutcome {
  const checker = new LineChecker(start, prevLeaf);
  const segments: RangeData[] = [];
  let range = new CompactRange(start);
  let next = 0;
  while ((stops[next] ?? Infinity) <= start) next += 1;
  eachLine(chunk, (view) => {
    range.appendLeaf(checker.line(view));
    if (range.end === stops[next]) {
      segments.push(range.data());
      range = new CompactRange(range.end);
      next += 1;
    }
  });
  if (range.end > range.begin || segments.length === 0) segments.push(range.data());
  const { anomalies, moreAnomalies, lastLeaf } = checker;
  return { count: checker.index - start, segments, lastLeaf, anomalies, moreAnomalies };
}
