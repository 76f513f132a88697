/**
 * Output of the gateway benchmark: the human-readable tables (results per target and level,
 * then what Gatehouse adds) and the `--json` document.
 */
import type { Added, Result } from './types.js';
import type { WarmupCurve } from './warmup.js';

const ms = (v: number) => v.toFixed(3);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
const cpu = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(3));

/**
 * Aligns rows into columns: numbers right-aligned; the first column, and any column index in
 * `textColumns`, left-aligned.
 */
export function table(
  rows: readonly (readonly string[])[],
  textColumns: readonly number[] = [],
): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const left = (c: number) => c === 0 || textColumns.includes(c);
  return rows
    .map((r) =>
      r
        .map((cell, c) => (left(c) ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The benchmark's table output: the meta lines, the results, and what Gatehouse adds. */
export function report(
  title: string,
  meta: Record<string, string>,
  results: readonly Result[],
  added: readonly Added[],
  warmups: readonly WarmupCurve[] = [],
): string {
  const rows: string[][] = [
    [
      'target',
      'conc',
      'calls',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'mean ms',
      'max ms',
      'calls/s',
      'cpu ms/call: bench',
      'upstream',
      'proxy',
      'gatehouse',
    ],
  ];
  for (const r of results) {
    rows.push([
      r.target,
      String(r.concurrency),
      String(r.calls),
      ms(r.p50Ms),
      ms(r.p90Ms),
      ms(r.p99Ms),
      ms(r.meanMs),
      ms(r.maxMs),
      r.callsPerSec.toFixed(0),
      cpu(r.cpuMsPerCall.bench),
      cpu(r.cpuMsPerCall.upstream),
      cpu(r.cpuMsPerCall.proxy),
      cpu(r.cpuMsPerCall.gateway),
    ]);
  }
  const addedRows: string[][] = [
    [
      'hop',
      'conc',
      'added p50 ms',
      'added p99 ms',
      'added mean ms',
      'added cpu ms/call',
      'calls/s vs direct',
    ],
  ];
  for (const a of added) {
    addedRows.push([
      a.via === 'gateway' ? 'Gatehouse' : 'bare proxy',
      String(a.concurrency),
      signed(a.p50Ms),
      signed(a.p99Ms),
      signed(a.meanMs),
      a.cpuMsPerCall === undefined ? '-' : signed(a.cpuMsPerCall),
      `${(a.throughputRatio * 100).toFixed(1)}%`,
    ]);
  }
  return [
    title,
    ...Object.entries(meta).map(([k, v]) => `  ${k}: ${v}`),
    '',
    table(rows),
    '',
    added.some((a) => a.via === 'proxy')
      ? 'Added by each hop (minus direct); the bare proxy is what any extra hop costs on this machine:'
      : 'Added by Gatehouse (minus direct):',
    table(addedRows),
    '',
    ...section(beyondProxy(added)),
    ...warmupTable(warmups, results),
  ].join('\n');
}

/**
 * Each target's warm-up, batch by batch (how far from the steady state a fresh process starts),
 * then the p50 of each measured round (any drift while measuring).
 */
function warmupTable(warmups: readonly WarmupCurve[], results: readonly Result[]): string[] {
  if (warmups.length === 0) return [];
  const p50s = (vs: readonly number[]) => vs.map((v) => v.toFixed(2)).join(' ');
  const rows = [
    [
      'target',
      'conc',
      'calls',
      'batch',
      'warm-up: p50 ms of each batch',
      'measured: p50 ms of each round',
    ],
  ];
  for (const w of warmups) {
    const measured = results.find((r) => r.target === w.target && r.concurrency === w.concurrency);
    rows.push([
      w.target,
      String(w.concurrency),
      String(w.calls),
      String(w.batch),
      p50s(w.batchP50Ms) + (w.settled ? '' : ' (not settled)'),
      measured ? p50s(measured.roundP50Ms) : '-',
    ]);
  }
  return section([
    'Before the measured calls, each target is warmed up until its p50 settles (a fresh process is slower until V8 has optimized it; at later levels the processes are warm already):',
    table(rows, [4, 5]),
  ]);
}

/** Lines followed by a blank line; nothing when there are none. */
function section(lines: string[]): string[] {
  return lines.length > 0 ? [...lines, ''] : [];
}

/** Gatehouse's own share: what it adds beyond the bare proxy, per concurrency level. */
function beyondProxy(added: readonly Added[]): string[] {
  const lines: string[] = [];
  for (const g of added.filter((a) => a.via === 'gateway')) {
    const p = added.find((a) => a.via === 'proxy' && a.concurrency === g.concurrency);
    if (!p) continue;
    lines.push(
      `Gatehouse beyond the bare proxy at concurrency ${g.concurrency}: p50 ${signed(g.p50Ms - p.p50Ms)} ms, p99 ${signed(g.p99Ms - p.p99Ms)} ms`,
    );
  }
  return lines;
}

/** The `--json` output: meta, results and added, numbers rounded to 3 decimals. */
export function jsonReport(
  meta: Record<string, string>,
  results: readonly Result[],
  added: readonly Added[],
  warmups: readonly WarmupCurve[] = [],
): string {
  const round = (_key: string, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(3)) : v);
  return `${JSON.stringify({ meta, results, added, warmups }, round, 2)}\n`;
}
