/**
 * The image reader's worker threads (dist/imageWorker.js, bundled next to cli.js / server.js): hashing file ranges
 * and reading whole compressed layers off the main thread. When the worker script is not there (tests running
 * from source bundles) `workersAvailable()` is false and callers do the work on the main thread.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HashJob, LayerJob, StreamHashMessage, WorkerReply, ZstdLayerJob } from './imageWorker';
import type { TarHeader } from './tarParser';

/** Never more threads than this: verification is bound by memory bandwidth long before 4 sha256 streams. */
const MAX_POOL = 4;
let pool: Worker[] | null = null;
let poolFailed = false;
let poolFailures = 0;
const WORKER_FAILED = 'image worker thread failed';
let next = 0;
let jobId = 0;
let inFlight = 0;
const handlers = new Map<number, (r: WorkerReply) => void>();

function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function workerScript(): string | null {
  const candidates = [process.env.STRATA_IMAGE_WORKER, path.join(__dirname, 'imageWorker.js')].filter((x): x is string => !!x);
  const found = candidates.find((c) => existsSync(c) && path.resolve(c) !== __filename);
  return found ? path.resolve(found) : null;
}

/**
 * Decoding compressed layers and hashing streamed chunks on workers pays off only with idle cores: on a 2-core
 * machine shared with other work it measured 1.2–2× slower than doing it on the main thread (the chunks must be
 * copied over). So those jobs use workers when the machine has more than 2 cores; STRATA_IMAGE_WORKERS=1 / 0
 * forces them on / off. Hashing file ranges (verification of uncompressed layers) always uses workers when the
 * script is there: nothing is copied, each worker reads its own 1 MiB blocks.
 */
function wanted(): boolean {
  const v = process.env.STRATA_IMAGE_WORKERS;
  if (v === '0') return false;
  if (v === '1') return true;
  return cores() > 2;
}

function poolSize(): number {
  return Math.min(MAX_POOL, Math.max(2, cores()));
}

/** Whether getPool() would give workers, without starting them. */
function poolPossible(): boolean {
  if (process.env.STRATA_IMAGE_WORKERS === '0') return false;
  return !!pool || (!poolFailed && workerScript() !== null);
}

function getPool(): Worker[] | null {
  if (process.env.STRATA_IMAGE_WORKERS === '0') return null;
  if (pool) return pool;
  if (poolFailed) return null;
  const script = workerScript();
  if (!script) return null;
  const size = poolSize();
  try {
    pool = Array.from({ length: size }, () => startWorker(script));
  } catch {
    poolFailed = true; // e.g. threads unavailable: everything runs on this thread
    pool = null;
  }
  return pool;
}

function startWorker(script: string): Worker {
  const w = new Worker(script);
  w.unref(); // never keeps a process alive by itself
  w.on('message', (r: WorkerReply) => handlers.get(r.id)?.(r));
  w.on('error', (e) => {
    // A dead worker fails every job in flight (hash jobs then redo their work on this thread); the pool is
    // rebuilt on next use, a few times at most (e.g. the worker script was replaced while running).
    const dead = pool;
    pool = null;
    if (++poolFailures >= 3) poolFailed = true;
    for (const x of dead ?? []) if (x !== w) void x.terminate();
    hashing.clear();
    readingZstd.clear();
    for (const [id, h] of handlers) h({ id, kind: 'error', message: `${WORKER_FAILED}: ${e.message}` });
  });
  return w;
}

/** Workers for decoding layers and for streamed hashes (see `wanted`). */
export function workersAvailable(): boolean {
  return wanted() && getPool() !== null;
}

/** Workers for hashing file ranges (any core count; off only with STRATA_IMAGE_WORKERS=0 or no worker script). */
export function hashWorkersAvailable(): boolean {
  return poolPossible(); // started by the first job that may run (dispatchHashes)
}

function track(id: number, onReply: (r: WorkerReply) => boolean, onDone?: () => void): void {
  if (inFlight++ === 0) for (const x of pool ?? []) x.ref();
  handlers.set(id, (r) => {
    if (!onReply(r)) return;
    handlers.delete(id);
    onDone?.();
    if (--inFlight === 0) for (const x of pool ?? []) x.unref();
  });
}

/** Runs one job on a worker; `onReply` sees every reply until it returns true (job finished). */
function run(job: Omit<LayerJob, 'id'>, onReply: (r: WorkerReply) => boolean, signal?: AbortSignal): () => void {
  const workers = getPool()!;
  const id = ++jobId;
  const w = workers[next++ % workers.length]!;
  const abort = () => w.postMessage({ kind: 'cancel', id });
  signal?.addEventListener('abort', abort, { once: true });
  track(id, onReply, () => signal?.removeEventListener('abort', abort));
  w.postMessage({ ...job, id });
  return abort;
}

// ------------------------------------------------------------------------------------------- hashing file ranges

/**
 * A job that occupies its worker until done (a synchronous loop): hashing a file range, or reading a zstd layer
 * (built-in zstd driven synchronously, or a `zstd -dc` process). These are queued here and given to idle workers, largest first.
 */
interface QueuedJob {
  job: Omit<HashJob, 'id'> | Omit<ZstdLayerJob, 'id'>;
  /** Verification of a layer whose tree is read by seeking: nobody waits for it to show the tree (see hashLimit). */
  background: boolean;
  /** Every reply of the job; returns true on the last one. */
  onReply: (r: WorkerReply) => boolean;
  reject: (e: Error) => void;
  signal: AbortSignal | undefined;
}

const hashQueue: QueuedJob[] = [];
/** Workers currently running a queued job (one at a time each: the job is a synchronous loop). */
const hashing = new Set<Worker>();
let foreground = 0;
let dispatchScheduled = false;

/**
 * While the main thread is indexing trees it needs a core of its own: hashing then uses all cores but one, and
 * all of them once every tree is read (`foregroundWork` brackets the indexing).
 * Background jobs (hashing uncompressed layers whose trees are read by seeking) leave two cores to the tree read:
 * one for the main thread and one for V8's compiler and GC threads, which do most of their work in the first
 * few hundred ms of an open. On a 2-core machine they therefore start when the trees are ready: measured there,
 * one hashing worker next to the tree read doubled "trees ready" (355 → 774 ms) for little gain in "verified".
 */
function hashLimit(size: number, background: boolean): number {
  if (foreground === 0) return size;
  return background ? Math.max(0, size - 2) : Math.max(1, size - 1);
}

/** Workers running a zstd layer read (a tree read, not hashing: not counted against hashLimit). */
const readingZstd = new Set<Worker>();

/** Whether job `q` may start now: a zstd layer read *is* the tree read, so it may use every worker. */
function mayStart(size: number, q: QueuedJob): boolean {
  return q.job.kind === 'zstd-layer' ? hashing.size < size : hashing.size - readingZstd.size < hashLimit(size, q.background);
}

/** Dispatch order: tree reads before hashes, then longest processing time first. */
function jobRank(q: QueuedJob): number {
  return (q.job.kind === 'zstd-layer' ? 2 ** 52 : 0) + q.job.size;
}

export function foregroundWork(): () => void {
  foreground++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    foreground--;
    scheduleDispatch();
  };
}

function scheduleDispatch(): void {
  if (dispatchScheduled) return;
  dispatchScheduled = true;
  // Jobs submitted in the same turn are dispatched together, largest first (longest-processing-time first keeps
  // the biggest layer from starting last and becoming the tail).
  setImmediate(dispatchHashes);
}

function dispatchHashes(): void {
  dispatchScheduled = false;
  for (let i = hashQueue.length - 1; i >= 0; i--) {
    if (hashQueue[i]!.signal?.aborted) hashQueue.splice(i, 1)[0]!.reject(new Error('cancelled'));
  }
  // The pool starts only once a job may run: booting two worker threads costs ~100–200 ms of CPU, which on a
  // 2-core machine would otherwise compete with the tree read that background jobs are waiting for.
  const size = pool?.length ?? poolSize();
  if (!pool && !hashQueue.some((q) => mayStart(size, q))) return;
  const workers = getPool();
  if (!workers) {
    for (const q of hashQueue.splice(0)) q.reject(new Error('image worker threads stopped'));
    return;
  }
  for (;;) {
    const idle = workers.find((w) => !hashing.has(w));
    if (!idle) return;
    // the largest job allowed to start now (longest processing time first)
    let best = -1;
    for (let i = 0; i < hashQueue.length; i++) {
      const c = hashQueue[i]!;
      if (!mayStart(workers.length, c)) continue;
      if (best < 0 || jobRank(c) > jobRank(hashQueue[best]!)) best = i;
    }
    if (best < 0) return;
    const q = hashQueue.splice(best, 1)[0]!;
    if (q.signal?.aborted) {
      q.reject(new Error('cancelled'));
      continue;
    }
    const id = ++jobId;
    hashing.add(idle);
    if (q.job.kind === 'zstd-layer') readingZstd.add(idle);
    track(id, q.onReply, () => {
      hashing.delete(idle);
      readingZstd.delete(idle);
      scheduleDispatch();
    });
    idle.postMessage({ ...q.job, id });
  }
}

/**
 * sha256 (or `algorithm`) of bytes [offset, offset+size) of a file: on a worker thread when there is one (queued,
 * largest first), else on this thread with 1 MiB reads.
 */
export async function hashFileRange(
  file: string, offset: number, size: number, algorithm: string, signal?: AbortSignal, background = false,
): Promise<{ hex: string; read: number }> {
  if (poolPossible()) {
    try {
      return await new Promise((resolve, reject) => {
        const onReply = (r: WorkerReply) => {
          if (r.kind === 'hashed') resolve(r);
          else reject(new Error(r.kind === 'error' ? r.message : 'unexpected reply'));
          return true;
        };
        hashQueue.push({ job: { kind: 'hash', file, offset, size, algorithm }, background, onReply, reject, signal });
        scheduleDispatch();
      });
    } catch (e) {
      if (!(e as Error).message.startsWith(WORKER_FAILED) && (e as Error).message !== 'image worker threads stopped') throw e;
      // the worker died (not the file): hash here instead
    }
  }
  return hashHere(file, offset, size, algorithm, signal);
}

async function hashHere(file: string, offset: number, size: number, algorithm: string, signal?: AbortSignal): Promise<{ hex: string; read: number }> {
  const hash = createHash(algorithm);
  let read = 0;
  if (size > 0) {
    // the abort is checked per chunk, not passed to the stream: one listener per layer on a shared signal would
    // trip Node's MaxListeners warning on images with more than 10 layers
    for await (const c of createReadStream(file, { start: offset, end: offset + size - 1, highWaterMark: 1024 * 1024 })) {
      if (signal?.aborted) throw new Error('cancelled');
      hash.update(c as Buffer);
      read += (c as Buffer).length;
    }
  }
  return { hex: hash.digest('hex'), read };
}

/** A hash computed on a worker from bytes this thread posts: update() copies and transfers, digest() resolves. */
export interface StreamHash {
  update(chunk: Uint8Array): void;
  digest(): Promise<string>;
  /** Frees the worker-side state if the stream is abandoned. */
  cancel(): void;
}

/** A worker-side hash, or null when no worker is available (callers hash on this thread). */
export function workerStreamHash(algorithm: string): StreamHash | null {
  const workers = wanted() ? getPool() : null;
  if (!workers) return null;
  const id = ++jobId;
  const w = workers[next++ % workers.length]!;
  const send = (m: StreamHashMessage, transfer?: ArrayBuffer[]) => w.postMessage(m, transfer);
  send({ kind: 'stream-start', id, algorithm });
  let finished = false;
  return {
    update(chunk) {
      const copy = new Uint8Array(chunk); // our own ArrayBuffer, so it can be transferred
      send({ kind: 'stream-chunk', id, data: copy }, [copy.buffer as ArrayBuffer]);
    },
    digest() {
      finished = true;
      return new Promise((resolve, reject) => {
        track(id, (r) => {
          if (r.kind === 'hashed') resolve(r.hex);
          else reject(new Error(r.kind === 'error' ? r.message : 'unexpected reply'));
          return true;
        });
        send({ kind: 'stream-end', id });
      });
    },
    cancel() {
      if (!finished) w.postMessage({ kind: 'cancel', id });
    },
  };
}

export type LayerWorkerResult = Extract<WorkerReply, { kind: 'layer-done' }>;

/** Reads a compressed layer in a worker; headers arrive in batches through `onHeaders` (in tar order). */
export function readLayerInWorker(job: Omit<LayerJob, 'id' | 'kind'>, onHeaders: (h: TarHeader[]) => void, signal?: AbortSignal): Promise<LayerWorkerResult> {
  return new Promise((resolve, reject) => {
    const cancel = run({ kind: 'layer', ...job }, (r) => {
      if (r.kind === 'entries') {
        try {
          onHeaders(r.headers);
        } catch (e) {
          reject(e);
          cancel(); // e.g. the entry limit: stop the worker's job too
          return true;
        }
        return false;
      }
      if (r.kind === 'layer-done') resolve(r);
      else if (r.kind === 'error') reject(Object.assign(new Error(r.message), { why: r.fatalWhy }));
      return true;
    }, signal);
  });
}

/**
 * The zstd layer pipeline could not be built on this system (zstdFileRange.ts), or the worker's runtime lacks the
 * built-in decoder's shape (builtinZstdRange.ts): read the layer another way.
 */
export class ZstdWorkerUnavailable extends Error {}

/** zstd layers this process has decoded on worker threads, by decoder (the benchmark and tests report which path ran). */
export const zstdWorkerLayers = { builtin: 0, process: 0 };

/**
 * Reads a zstd layer on a worker thread (job `zstd-layer`: built-in zstd, or a `zstd -dc` process): queued with the hash jobs,
 * ahead of them; headers arrive in batches through `onHeaders` (in tar order). Rejects with ZstdWorkerUnavailable
 * before any header when the pipeline cannot be built here.
 */
export function readZstdLayerInWorker(
  job: Omit<ZstdLayerJob, 'id' | 'kind' | 'cancel'>, onHeaders: (h: TarHeader[]) => void, onProgress: (compressedRead: number) => void, signal?: AbortSignal,
): Promise<LayerWorkerResult> {
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const stop = () => Atomics.store(cancel, 0, 1);
  return new Promise<LayerWorkerResult>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('cancelled'));
    signal?.addEventListener('abort', stop, { once: true });
    let failed = false;
    const onReply = (r: WorkerReply): boolean => {
      if (r.kind === 'entries') {
        if (failed) return false; // batches already on their way when the job was stopped
        try {
          onHeaders(r.headers);
        } catch (e) {
          failed = true;
          reject(e); // e.g. the entry limit: stop the worker's job too
          stop();
        }
        return false;
      }
      if (r.kind === 'progress') {
        onProgress(r.compressedRead);
        return false;
      }
      if (r.kind === 'layer-done') {
        zstdWorkerLayers[job.zstd === null ? 'builtin' : 'process']++;
        resolve(r);
      } else if (r.kind === 'error' && r.unavailable) reject(new ZstdWorkerUnavailable(r.message));
      else if (r.kind === 'error') reject(Object.assign(new Error(r.message), { why: r.fatalWhy }));
      return true;
    };
    hashQueue.push({ job: { kind: 'zstd-layer', ...job, cancel }, background: false, onReply, reject, signal });
    scheduleDispatch();
  }).finally(() => signal?.removeEventListener('abort', stop));
}
