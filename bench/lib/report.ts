/**
 * Output of the gateway benchmark: the human-readable tables (results per target and level,
 * then what Gatehouse adds) and the `--json` document.
 */
import type { Added, Result } from './types.js';

const ms = (v: number) => v.toFixed(3);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
const cpu = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(3));

/** Aligns rows into columns: the first left-aligned, the rest right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The benchmark's table output: the meta lines, the results, and what Gatehouse adds. */
export function report(
  meta: Record<string, string>,
  results: readonly Result[],
  added: readonly Added[],
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
      cpu(r.cpuMsPerCall.gateway),
    ]);
  }
  const addedRows: string[][] = [
    [
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
      String(a.concurrency),
      signed(a.p50Ms),
      signed(a.p99Ms),
      signed(a.meanMs),
      a.cpuMsPerCall === undefined ? '-' : signed(a.cpuMsPerCall),
      `${(a.throughputRatio * 100).toFixed(1)}%`,
    ]);
  }
  return [
    'Gatehouse gateway benchmark: MCP tools/call over Streamable HTTP',
    ...Object.entries(meta).map(([k, v]) => `  ${k}: ${v}`),
    '',
    table(rows),
    '',
    'Added by Gatehouse (gateway minus direct):',
    table(addedRows),
    '',
  ].join('\n');
}

/** The `--json` output: meta, results and added, numbers rounded to 3 decimals. */
export function jsonReport(
  meta: Record<string, string>,
  results: readonly Result[],
  added: readonly Added[],
): string {
  const round = (_key: string, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(3)) : v);
  return `${JSON.stringify({ meta, results, added }, round, 2)}\n`;
}
