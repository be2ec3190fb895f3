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
import type { HashJob, LayerJob, StreamHashMessage, WorkerReply } from './imageWorker';
import type { TarHeader } from './tarParser';

const POOL_SIZE = 2;
let pool: Worker[] | null = null;
let next = 0;
let jobId = 0;
let inFlight = 0;
const handlers = new Map<number, (r: WorkerReply) => void>();

function workerScript(): string | null {
  const candidates = [process.env.STRATA_IMAGE_WORKER, path.join(__dirname, 'imageWorker.js')].filter((x): x is string => !!x);
  return candidates.find((c) => existsSync(c) && c !== __filename) ?? null;
}

/**
 * Workers pay off only with idle cores: on a 2-core machine shared with other work, hashing and decoding on extra
 * threads measured 1.2–2× slower than doing it all on the main thread (bench/image.bench.ts). So by default they
 * are used when the machine has more than 2 cores; STRATA_IMAGE_WORKERS=1 / 0 forces them on / off.
 */
function wanted(): boolean {
  const v = process.env.STRATA_IMAGE_WORKERS;
  if (v === '0') return false;
  if (v === '1') return true;
  return (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length) > 2;
}

function getPool(): Worker[] | null {
  if (pool) return pool;
  if (!wanted()) return null;
  const script = workerScript();
  if (!script) return null;
  pool = Array.from({ length: POOL_SIZE }, () => {
    const w = new Worker(script);
    w.unref(); // never keeps a process alive by itself
    w.on('message', (r: WorkerReply) => handlers.get(r.id)?.(r));
    w.on('error', (e) => {
      for (const [id, h] of handlers) h({ id, kind: 'error', message: e.message });
      pool = null;
    });
    return w;
  });
  return pool;
}

export function workersAvailable(): boolean {
  return getPool() !== null;
}

/** Runs one job on a worker; `onReply` sees every reply until it returns true (job finished). */
function run(job: Omit<HashJob, 'id'> | Omit<LayerJob, 'id'>, onReply: (r: WorkerReply) => boolean, signal?: AbortSignal): () => void {
  const workers = getPool()!;
  const id = ++jobId;
  const w = workers[next++ % workers.length]!;
  if (inFlight++ === 0) for (const x of workers) x.ref();
  const abort = () => w.postMessage({ kind: 'cancel', id });
  signal?.addEventListener('abort', abort, { once: true });
  handlers.set(id, (r) => {
    if (!onReply(r)) return;
    handlers.delete(id);
    signal?.removeEventListener('abort', abort);
    if (--inFlight === 0) for (const x of pool ?? []) x.unref();
  });
  w.postMessage({ ...job, id });
  return abort;
}

export async function hashFileRange(file: string, offset: number, size: number, algorithm: string): Promise<{ hex: string; read: number }> {
  if (getPool()) {
    return new Promise((resolve, reject) => {
      run({ kind: 'hash', file, offset, size, algorithm }, (r) => {
        if (r.kind === 'hashed') resolve(r);
        else if (r.kind === 'error') reject(new Error(r.message));
        return true;
      });
    });
  }
  const hash = createHash(algorithm);
  let read = 0;
  if (size > 0) {
    for await (const c of createReadStream(file, { start: offset, end: offset + size - 1, highWaterMark: 4 * 1024 * 1024 })) {
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
  const workers = getPool();
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
        if (inFlight++ === 0) for (const x of workers) x.ref();
        handlers.set(id, (r) => {
          handlers.delete(id);
          if (--inFlight === 0) for (const x of pool ?? []) x.unref();
          if (r.kind === 'hashed') resolve(r.hex);
          else reject(new Error(r.kind === 'error' ? r.message : 'unexpected reply'));
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
