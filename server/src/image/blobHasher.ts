/**
 * Hashes a byte range of a file off the main thread when it can: in a worker thread running dist/imageWorker.js
 * (bundled next to cli.js / server.js), else (tests running from source bundles) with async reads on the main thread.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HashJob, HashReply } from './imageWorker';

const POOL_SIZE = 2;
let pool: Worker[] | null = null;
let next = 0;
let jobId = 0;
const pending = new Map<number, { resolve: (r: { hex: string; read: number }) => void; reject: (e: Error) => void }>();
let inFlight = 0;

function workerScript(): string | null {
  const candidates = [process.env.STRATA_IMAGE_WORKER, path.join(__dirname, 'imageWorker.js')].filter((x): x is string => !!x);
  return candidates.find((c) => existsSync(c) && c !== __filename) ?? null;
}

function getPool(): Worker[] | null {
  if (pool) return pool;
  const script = workerScript();
  if (!script) return null;
  pool = Array.from({ length: POOL_SIZE }, () => {
    const w = new Worker(script);
    w.unref(); // never keeps the CLI alive
    w.on('message', (r: HashReply) => {
      const p = pending.get(r.id);
      if (!p) return;
      pending.delete(r.id);
      if (--inFlight === 0) for (const x of pool ?? []) x.unref();
      if ('error' in r) p.reject(new Error(r.error));
      else p.resolve(r);
    });
    w.on('error', (e) => {
      for (const [, p] of pending) p.reject(e);
      pending.clear();
      pool = null;
    });
    return w;
  });
  return pool;
}

export async function hashFileRange(file: string, offset: number, size: number, algorithm: string): Promise<{ hex: string; read: number }> {
  const workers = getPool();
  if (workers) {
    const id = ++jobId;
    const w = workers[next++ % workers.length]!;
    inFlight++;
    w.ref(); // keep the process alive while a job runs
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.postMessage({ id, file, offset, size, algorithm } satisfies HashJob);
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
