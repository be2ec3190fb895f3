/**
 * Turns a streamed `docker container export` (the container's whole merged filesystem) plus the `docker diff`
 * list into the tar `docker commit` would produce: the changed entries with their real metadata and bytes, and an
 * AUFS/OCI whiteout (`D/.wh.N`) per deleted path. Streaming throughout: memory stays bounded whatever the size of
 * the container (entries we do not need are drained, needed ones are piped straight into the output tar).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import type { EngineChange } from './containerModel';
import { normaliseContainerPath } from './dockerDiff';

export interface WrittenLayer {
  /** sha256 of the uncompressed tar (the layer's diffId). */
  diffId: string;
  tarSize: number;
  entries: number;
  /** Paths docker diff listed as added/changed that the export did not contain (changed while reading). */
  missing: string[];
}

export interface WriteLayerOptions {
  signal?: AbortSignal;
  /** Bytes of export read so far. */
  onBytes?: (bytes: number) => void;
}

const PASS_TYPES = new Set(['file', 'link', 'symlink', 'directory', 'character-device', 'block-device', 'fifo', 'contiguous-file']);

export async function writeWritableLayer(exported: Readable, changes: EngineChange[], outFile: string, opts: WriteLayerOptions = {}): Promise<WrittenLayer> {
  const wanted = new Set(changes.filter((c) => c.kind !== 'D').map((c) => c.path));
  const seen = new Set<string>();
  const pack = tar.pack();
  const hash = createHash('sha256');
  let tarSize = 0;
  let entries = 0;
  const sink = createWriteStream(outFile);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      tarSize += chunk.length;
      cb(null, chunk);
    },
  });
  // No signal here: an abort destroys `pack` (below), which ends this pipeline too.
  const written = pipeline(pack, counter, sink);
  written.catch(() => undefined); // observed below; avoid an unhandled rejection if extraction fails first

  let read = 0;
  exported.on('data', (d: Buffer) => {
    read += d.length;
    opts.onBytes?.(read);
  });
  await new Promise<void>((resolve, reject) => {
    const extract = tar.extract();
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      exported.destroy();
      extract.destroy();
      pack.destroy(e as Error);
      reject(e);
    };
    const onAbort = () => fail(new Error('cancelled'));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    exported.on('error', fail);
    extract.on('error', fail);
    extract.on('finish', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    extract.on('entry', (h, entry, next) => {
      const path = normaliseContainerPath(h.name);
      if (!wanted.has(path) || seen.has(path) || !PASS_TYPES.has(h.type ?? 'file')) {
        entry.on('end', () => next());
        entry.resume();
        return;
      }
      seen.add(path);
      entries++;
      const isDir = h.type === 'directory';
      const header: tar.Header = {
        name: isDir ? `${path}/` : path,
        type: h.type === 'contiguous-file' ? 'file' : h.type,
        mode: h.mode, uid: h.uid, gid: h.gid, uname: h.uname, gname: h.gname, mtime: h.mtime,
        size: h.type === 'file' || h.type === 'contiguous-file' ? h.size : 0,
        linkname: h.type === 'link' ? normaliseContainerPath(h.linkname ?? '') : h.linkname,
        devmajor: h.devmajor, devminor: h.devminor,
      };
      const w = pack.entry(header, (err) => (err ? fail(err) : next()));
      // Both ends may be destroyed by `fail` mid-entry; their errors are already being reported.
      w.on('error', fail);
      entry.on('error', fail);
      entry.pipe(w as unknown as NodeJS.WritableStream);
    });
    exported.pipe(extract as unknown as NodeJS.WritableStream);
  });
  // Whiteouts last: an empty 0600 file named `.wh.<name>` next to the deleted path, as docker's own layers do.
  for (const c of changes) {
    if (c.kind !== 'D') continue;
    const slash = c.path.lastIndexOf('/');
    const name = slash < 0 ? `.wh.${c.path}` : `${c.path.slice(0, slash)}/.wh.${c.path.slice(slash + 1)}`;
    pack.entry({ name, type: 'file', size: 0, mode: 0o600, uid: 0, gid: 0, mtime: new Date() }, Buffer.alloc(0));
    entries++;
  }
  pack.finalize();
  await written;
  return { diffId: `sha256:${hash.digest('hex')}`, tarSize, entries, missing: [...wanted].filter((p) => !seen.has(p)) };
}
