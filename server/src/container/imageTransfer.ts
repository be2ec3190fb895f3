/**
 * "Save image…" and "Load archive into Docker": `docker save` streamed to a file (optionally gzipped on the way,
 * never buffered), and a file streamed into `docker load`. Both report bytes as they go and stop on abort, leaving
 * no partial file behind.
 */
import { promises as fsp } from 'node:fs';
import { Transform, type Duplex } from 'node:stream';
import { createGzip } from 'node:zlib';
import { DockerError } from '../docker/dockerError';
import type { ContainerEngine, LoadResult } from './containerEngine';
import { streamToFile } from './streamToFile';

export interface SaveOptions {
  gzip?: boolean;
  signal?: AbortSignal;
  /** Bytes docker has produced so far (before compression), and the image's size as the engine reports it. */
  onProgress?: (bytes: number, totalBytes: number) => void;
}

export interface SaveResult {
  file: string;
  /** Bytes docker produced (the uncompressed archive). */
  archiveBytes: number;
  /** Bytes written to the file. */
  fileBytes: number;
}

export async function saveImageToFile(engine: ContainerEngine, refs: string[], file: string, opts: SaveOptions = {}): Promise<SaveResult> {
  if (refs.length === 0) throw new DockerError('command-failed', 'nothing to save: no image given');
  let total = 0;
  for (const r of refs) total += (await engine.imageTags(r, opts.signal)).size;
  const saved = engine.saveStream(refs, opts.signal);
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _e, cb) {
      bytes += chunk.length;
      opts.onProgress?.(bytes, total);
      cb(null, chunk);
    },
  });
  const stages: Duplex[] = [count];
  if (opts.gzip) stages.push(createGzip({ level: 6 }));
  await streamToFile(saved, stages, file, opts.signal);
  const { size } = await fsp.stat(file);
  return { file, archiveBytes: bytes, fileBytes: size };
}

export async function loadArchive(engine: ContainerEngine, file: string, opts: { signal?: AbortSignal; onProgress?: (bytes: number, totalBytes: number) => void } = {}): Promise<LoadResult> {
  const { size } = await fsp.stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new DockerError('command-failed', `cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  });
  return engine.load(file, { ...(opts.signal ? { signal: opts.signal } : {}), onBytes: (n) => opts.onProgress?.(n, size) });
}
