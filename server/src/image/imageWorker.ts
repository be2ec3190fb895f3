/**
 * Worker thread for the image reader (bundled to dist/imageWorker.js): hashes byte ranges of files so digest
 * verification of uncompressed layers runs on another core while the main thread indexes the tar headers by seeking.
 * Message in: { id, file, offset, size, algorithm }; out: { id, hex } or { id, error }.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export interface HashJob {
  id: number;
  file: string;
  offset: number;
  size: number;
  algorithm: string;
}

export type HashReply = { id: number; hex: string; read: number } | { id: number; error: string };

const CHUNK = 4 * 1024 * 1024;

export function hashRangeSync(job: HashJob): { hex: string; read: number } {
  const fd = openSync(job.file, 'r');
  try {
    const hash = createHash(job.algorithm);
    const buf = Buffer.allocUnsafe(CHUNK);
    let done = 0;
    while (done < job.size) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, job.size - done), job.offset + done);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      done += n;
    }
    return { hex: hash.digest('hex'), read: done };
  } finally {
    closeSync(fd);
  }
}

parentPort?.on('message', (job: HashJob) => {
  try {
    parentPort!.postMessage({ id: job.id, ...hashRangeSync(job) } satisfies HashReply);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message } satisfies HashReply);
  }
});
