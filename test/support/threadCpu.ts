import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time (ms) used so far by the main thread of process `pid` (Linux /proc; the thread whose id is the pid).
 * Tests on this shared 2-core machine bound the server's own work with it: wall time there mostly measures the other
 * processes' load. Resolution: one clock tick (10 ms).
 */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

/**
 * User + system CPU time (ms) in a /proc `stat` file: a process (`/proc/<pid>/stat`) or one thread
 * (`/proc/<pid>/task/<tid>/stat`). Throws when the file cannot be read.
 */
export function statCpuMs(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  // Fields after the command name (which may contain spaces, hence the last ')'): utime is field 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Runs `f` and returns its wall time and the main-thread CPU time `pid` spent meanwhile. */
export async function measure<R>(pid: number, f: () => Promise<R>): Promise<{ result: R; wallMs: number; cpuMs: number }> {
  const cpu0 = mainThreadCpuMs(pid);
  const t0 = performance.now();
  const result = await f();
  return { result, wallMs: performance.now() - t0, cpuMs: mainThreadCpuMs(pid) - cpu0 };
}

/** CPU time (ns) of each thread of `pid` so far, by "name/tid" (Linux schedstat: finer than stat's 10 ms ticks). */
export function threadCpuNs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        out.set(`${comm}/${tid}`, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch { /* the thread ended */ }
    }
  } catch { /* the process ended */ }
  return out;
}
