/**
 * CPU accounting for the gateway benchmark: CPU time of this process and of the child processes
 * (Linux /proc only), and how busy the host was before the run. Separate from the measurement
 * loop so that the platform-specific parts sit in one small file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Procs } from './types.js';

/** CPU time used so far by this process and by each child, in ms (children: Linux /proc only). */
export interface CpuSample {
  readonly bench: number;
  readonly upstream: number | undefined;
  readonly proxy: number | undefined;
  readonly gateway: number | undefined;
}

/** utime + stime of a process from /proc/<pid>/stat (USER_HZ is 100 on Linux), or undefined. */
function procCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm) " start at field 3 (state); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** The child processes of `pid` (Linux /proc only; empty elsewhere or when it has none). */
export function childPids(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** CPU time used so far by this process and by the children in `procs`. */
export function sampleCpu(procs: Procs): CpuSample {
  const u = process.cpuUsage();
  return {
    bench: (u.user + u.system) / 1000,
    upstream: procCpuMs(procs.upstream),
    proxy: procCpuMs(procs.proxy),
    gateway: procCpuMs(procs.gateway),
  };
}

/** a - b, or undefined when either is unknown. */
export const minus = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;

/** a + b, or undefined when either is unknown. */
export function sumDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

/** Fraction of all CPUs' time spent busy (by anything) over the next `ms` milliseconds. */
export async function hostBusy(ms: number): Promise<number> {
  const total = () =>
    cpus().reduce(
      (acc, c) => {
        const t = c.times;
        acc.busy += t.user + t.nice + t.sys + t.irq;
        acc.all += t.user + t.nice + t.sys + t.irq + t.idle;
        return acc;
      },
      { busy: 0, all: 0 },
    );
  const a = total();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = total();
  return b.all > a.all ? (b.busy - a.busy) / (b.all - a.all) : 0;
}
