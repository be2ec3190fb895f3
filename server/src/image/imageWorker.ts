/**
 * Worker thread for the image reader (bundled to dist/imageWorker.js). Two jobs, so layers are processed on other
 * cores while the main thread only indexes entries:
 * - `hash`: sha256 of a byte range of a file (verifying uncompressed layers that the main thread indexes by seeking);
 * - `layer`: read a compressed layer blob from a file range, hash it, decompress it (gzip / zstd), hash the tar,
 *   parse its headers, and post the headers back in batches.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { decompressedStream } from './layerReader';
import { TarParser, type TarHeader } from './tarParser';
import type { LayerCompression } from './imageModel';

export interface HashJob {
  kind: 'hash';
  id: number;
  file: string;
  offset: number;
  size: number;
  algorithm: string;
}

export interface LayerJob {
  kind: 'layer';
  id: number;
  file: string;
  offset: number;
  size: number;
  blobAlgorithm: string | null;
  diffAlgorithm: string | null;
  /** Stop when the uncompressed tar passes this many bytes. */
  maxBytes: number;
  what: string;
}

export type WorkerReply =
  | { id: number; kind: 'hashed'; hex: string; read: number }
  | { id: number; kind: 'entries'; headers: TarHeader[] }
  | { id: number; kind: 'layer-done'; compression: LayerCompression; blobHex: string | null; diffHex: string | null; uncompressed: number; entries: number }
  | { id: number; kind: 'error'; message: string; fatalWhy?: string };

const CHUNK = 4 * 1024 * 1024;
/** Hash reads: 1 MiB measured ~7% faster than 4 MiB for sha256 here (the block stays in L2 while it is hashed). */
const HASH_CHUNK = 1024 * 1024;
const BATCH = 2000;
const cancelled = new Set<number>();

function hashRangeSync(job: HashJob): { hex: string; read: number } {
  const fd = openSync(job.file, 'r');
  try {
    const hash = createHash(job.algorithm);
    const buf = Buffer.allocUnsafe(HASH_CHUNK);
    let done = 0;
    while (done < job.size) {
      const n = readSync(fd, buf, 0, Math.min(HASH_CHUNK, job.size - done), job.offset + done);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      done += n;
    }
    return { hex: hash.digest('hex'), read: done };
  } finally {
    closeSync(fd);
  }
}

async function* fileRange(file: string, offset: number, size: number, id: number): AsyncIterable<Uint8Array> {
  const fd = openSync(file, 'r');
  try {
    let done = 0;
    while (done < size) {
      if (cancelled.has(id)) throw new Error('cancelled');
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
      const n = readSync(fd, buf, 0, buf.length, offset + done);
      if (n === 0) throw new Error('truncated archive (layer blob is cut short)');
      done += n;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

async function runLayer(job: LayerJob, post: (r: WorkerReply) => void): Promise<void> {
  const blobHash = job.blobAlgorithm ? createHash(job.blobAlgorithm) : null;
  const diffHash = job.diffAlgorithm ? createHash(job.diffAlgorithm) : null;
  let batch: TarHeader[] = [];
  let entries = 0;
  const parser = new TarParser({
    entry: (h) => {
      entries++;
      batch.push(h);
      if (batch.length >= BATCH) {
        post({ id: job.id, kind: 'entries', headers: batch });
        batch = [];
      }
      return false;
    },
  }, job.what);
  const d = await decompressedStream(fileRange(job.file, job.offset, job.size, job.id), blobHash, { n: 0 });
  let uncompressed = 0;
  for await (const chunk of d.stream) {
    if (cancelled.has(job.id)) throw new Error('cancelled');
    uncompressed += chunk.length;
    if (uncompressed > job.maxBytes) {
      post({ id: job.id, kind: 'error', message: 'limit', fatalWhy: `expands past the limit for the image (decompression bomb?; raise it with --max-bytes)` });
      return;
    }
    diffHash?.update(chunk);
    parser.push(chunk);
  }
  if (uncompressed === 0) throw new Error('empty layer blob (not a tar)');
  parser.end();
  if (batch.length) post({ id: job.id, kind: 'entries', headers: batch });
  post({
    id: job.id, kind: 'layer-done', compression: d.compression, blobHex: blobHash?.digest('hex') ?? null,
    diffHex: diffHash?.digest('hex') ?? null, uncompressed, entries,
  });
}

/** Streamed hashing: the main thread posts chunks (transferred) of bytes it decompressed, then 'end'. */
export type StreamHashMessage =
  | { kind: 'stream-start'; id: number; algorithm: string }
  | { kind: 'stream-chunk'; id: number; data: Uint8Array }
  | { kind: 'stream-end'; id: number };
const streams = new Map<number, ReturnType<typeof createHash>>();

parentPort?.on('message', (msg: HashJob | LayerJob | StreamHashMessage | { kind: 'cancel'; id: number }) => {
  const post = (r: WorkerReply) => parentPort!.postMessage(r);
  if (msg.kind === 'cancel') {
    cancelled.add(msg.id);
    streams.delete(msg.id);
    return;
  }
  if (msg.kind === 'stream-start') {
    streams.set(msg.id, createHash(msg.algorithm));
    return;
  }
  if (msg.kind === 'stream-chunk') {
    streams.get(msg.id)?.update(msg.data);
    return;
  }
  if (msg.kind === 'stream-end') {
    const h = streams.get(msg.id);
    streams.delete(msg.id);
    post(h ? { id: msg.id, kind: 'hashed', hex: h.digest('hex'), read: 0 } : { id: msg.id, kind: 'error', message: 'unknown hash stream' });
    return;
  }
  if (msg.kind === 'hash') {
    try {
      post({ id: msg.id, kind: 'hashed', ...hashRangeSync(msg) });
    } catch (e) {
      post({ id: msg.id, kind: 'error', message: (e as Error).message });
    }
    return;
  }
  runLayer(msg, post).catch((e: Error & { why?: string }) => {
    post({ id: msg.id, kind: 'error', message: e.message, ...(e.why ? { fatalWhy: e.why } : {}) });
  }).finally(() => cancelled.delete(msg.id));
});
