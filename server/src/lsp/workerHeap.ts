/**
 * The young generation of the diagnostics worker.
 *
 * A cold check of a 3,000-line Dockerfile allocates ~13 MB, with its AST alive throughout; with V8's default
 * semi-space (it starts at 1 MB) that is several scavenges per check, each copying the live AST (in the diagnostics
 * bench: 35–43 ms a cold check against 18.6 ms with 16–64 MB semi-spaces). Worker `resourceLimits` cannot give this:
 * V8 takes the process's `--max-semi-space-size` over a worker's `maxYoungGenerationSizeMb`, and the extension client
 * starts the server with `--max-semi-space-size=1` for the context hashing's memory (serverMemoryOptions.ts), which
 * left the diagnostics worker a 2 MB young generation. V8 reads the flags when an isolate is created, so they are
 * set just for the worker's creation and put back as soon as it runs ('online'): the main thread's heap and workers
 * created later are unchanged.
 */
import * as v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';

export const DIAGNOSTICS_SEMI_SPACE_MB = { min: 16, max: 64 } as const;

/** The same heap as node flags, for a process that must measure the way the worker runs (bench/diagnostics.bench.ts). */
export const DIAGNOSTICS_HEAP_FLAGS = [`--min-semi-space-size=${DIAGNOSTICS_SEMI_SPACE_MB.min}`, `--max-semi-space-size=${DIAGNOSTICS_SEMI_SPACE_MB.max}`] as const;

/** The value of `--name=N` this process was started with (0: V8's default). */
function startFlag(name: string): number {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  let value = 0;
  for (const a of args) {
    const m = new RegExp(`^--${name}[=](\\d+)$`).exec(a.replace(/_/g, '-'));
    if (m) value = Number(m[1]);
  }
  return value;
}

/** Creates a worker whose isolate gets semi-spaces of `sizes` MB, whatever the process's own flags say. */
export function withSemiSpace(sizes: { min: number; max: number }, create: () => Worker): Worker {
  const restore = `--min-semi-space-size=${startFlag('min-semi-space-size')} --max-semi-space-size=${startFlag('max-semi-space-size')}`;
  v8.setFlagsFromString(`--min-semi-space-size=${sizes.min} --max-semi-space-size=${sizes.max}`);
  let worker: Worker;
  try {
    worker = create();
  } catch (e) {
    v8.setFlagsFromString(restore);
    throw e;
  }
  let restored = false;
  const back = () => {
    if (!restored) v8.setFlagsFromString(restore);
    restored = true;
  };
  worker.once('online', back);
  worker.once('error', back);
  worker.once('exit', back);
  return worker;
}
