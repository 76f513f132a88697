/**
 * A readable line diff between two tool definitions, for `gatehouse tools diff`. Definitions come
 * from upstreams (attacker-controlled), so every line is made safe for a terminal first: control
 * characters, bidirectional overrides, zero-width characters and Unicode tag characters (which can
 * hide instructions in a description) are shown as `\u{…}` escapes instead of being interpreted.
 */

export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

// C0 except tab and newline, DEL, C1, zero-width and bidi controls, line/paragraph separators, BOM, tags.
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\u{e0000}-\u{e007f}]/gu;

/** A line with every character that could mislead a terminal or hide text escaped. @example safeText('a\u001b[2Jb') */
export function safeText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}

/** The fields a pin covers, in the order a person reads them. */
const FIELDS = ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'];

/**
 * A definition as lines: one field after another, long text and schemas indented below their name.
 * @example definitionLines({ name: 'lookup', description: 'Looks up an order.' })
 */
export function definitionLines(def: unknown): string[] {
  if (def === undefined) return [];
  const d = (typeof def === 'object' && def !== null ? def : {}) as Record<string, unknown>;
  const keys = [
    ...FIELDS.filter((k) => k in d),
    ...Object.keys(d).filter((k) => !FIELDS.includes(k)),
  ];
  const out: string[] = [];
  for (const key of keys) {
    const v = d[key];
    const text = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
    const lines = text.split('\n');
    if (lines.length === 1 && typeof v === 'string') out.push(`${key}: ${v}`);
    else out.push(`${key}:`, ...lines.map((l) => `  ${l}`));
  }
  return out.map(safeText);
}

/** Beyond this many cells the diff is not aligned: every old line is removed, every new one added. */
const MAX_CELLS = 4_000_000;

/**
 * The shortest edit (longest common subsequence) turning `a` into `b`, line by line.
 * @example lineDiff(['a', 'b'], ['a', 'c']) // [' a', '-b', '+c']
 */
export function lineDiff(a: readonly string[], b: readonly string[]): DiffLine[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const same = (lines: readonly string[]) => lines.map((text): DiffLine => ({ op: ' ', text }));
  const head = same(a.slice(0, start));
  const tail = same(a.slice(endA));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const n = x.length;
  const m = y.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    const removed = x.map((text): DiffLine => ({ op: '-', text }));
    return [...head, ...removed, ...y.map((text): DiffLine => ({ op: '+', text })), ...tail];
  }
  // lcs[i][j]: length of the longest common subsequence of x[i..] and y[j..].
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] =
        x[i] === y[j]
          ? (lcs[(i + 1) * w + j + 1] ?? 0) + 1
          : Math.max(lcs[(i + 1) * w + j] ?? 0, lcs[i * w + j + 1] ?? 0);
    }
  }
  const mid: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      mid.push({ op: ' ', text: x[i] ?? '' });
      i++;
      j++;
    } else if (i < n && (j >= m || (lcs[(i + 1) * w + j] ?? 0) >= (lcs[i * w + j + 1] ?? 0))) {
      mid.push({ op: '-', text: x[i] ?? '' });
      i++;
    } else {
      mid.push({ op: '+', text: y[j] ?? '' });
      j++;
    }
  }
  return [...head, ...mid, ...tail];
}

/**
 * Diff lines as text, with unchanged runs longer than twice `context` folded to one `…` line.
 * @example renderDiff(lineDiff(old, now), 3)
 */
export function renderDiff(lines: readonly DiffLine[], context = 3): string {
  const changed = lines.map((l) => l.op !== ' ');
  const near = (k: number) => {
    for (let d = -context; d <= context; d++) if (changed[k + d]) return true;
    return false;
  };
  const out: string[] = [];
  let folded = 0;
  lines.forEach((l, k) => {
    if (l.op === ' ' && !near(k)) {
      folded++;
      return;
    }
    if (folded > 0) out.push(`  … ${folded} unchanged line${folded === 1 ? '' : 's'}`);
    folded = 0;
    out.push(`${l.op} ${l.text}`);
  });
  if (folded > 0) out.push(`  … ${folded} unchanged line${folded === 1 ? '' : 's'}`);
  return out.join('\n');
}
