import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, createReadStream, lstatSync, openSync, promises as fs, readdirSync, readlinkSync, readSync } from 'node:fs';
import * as path from 'node:path';

/** What the cache model reads from a build context: narrow, so tests use an in-memory fake. Paths are relative slash paths ('' = root). */
export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'device';

export interface ContextStat {
  type: EntryType;
  /** Permission bits incl. setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface ContextFs {
  list(rel: string): Promise<string[]>;
  stat(rel: string): Promise<ContextStat>;
  readlink(rel: string): Promise<string>;
  /** sha256 (hex) of a regular file's content, streamed; rejects with AbortError on abort. `size`: the lstat size. */
  hash(rel: string, signal?: AbortSignal, size?: number): Promise<string>;
  /** Small text file (e.g. .dockerignore), or null when absent. */
  readText(rel: string): Promise<string | null>;
}

/**
 * The real file system. Metadata calls and small-file reads are synchronous on purpose: through libuv's 4-thread pool
 * each costs a round trip that dominated the walk (10k files: ~1 s vs ~0.1 s); ContextIndex yields to the event
 * loop every few milliseconds, so the server stays responsive. Big files are streamed.
 */
export function nodeContextFs(root: string): ContextFs {
  const base = path.resolve(root);
  // Relative paths come from our own walk (clean, slash-separated): concatenation is enough and much cheaper.
  const abs = (rel: string) => (rel ? `${base}/${rel}` : base);
  return {
    list: async (rel) => readdirSync(abs(rel)),
    async stat(rel) {
      const st = lstatSync(abs(rel));
      const type: EntryType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink'
        : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : 'device';
      return { type, mode: st.mode & 0o7777, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
    },
    readlink: async (rel) => readlinkSync(abs(rel)),
    hash: async (rel, signal, size) => {
      signal?.throwIfAborted();
      if (size !== undefined && size <= SMALL_FILE) return hashSmallSync(abs(rel), size);
      return new Promise<string>((resolve, reject) => {
        const h = createHash('sha256');
        // O_NONBLOCK: if the entry was swapped for a FIFO since lstat, open must not block forever.
        const s = createReadStream(abs(rel), { highWaterMark: 1 << 20, signal, fd: openSync(abs(rel), fsConstants.O_RDONLY | fsConstants.O_NONBLOCK) });
        s.on('data', (b) => h.update(b));
        s.on('error', reject);
        s.on('end', () => resolve(h.digest('hex')));
      });
    },
    async readText(rel) {
      try { return await fs.readFile(abs(rel), 'utf8'); } catch { return null; }
    },
  };
}

/** Up to this size a file is read in one go into a reused buffer: a stream per small file costs more than the hash. */
const SMALL_FILE = 256 * 1024;
const buffer = Buffer.allocUnsafe(SMALL_FILE + 1);

function hashSmallSync(file: string, size: number): string {
  // O_NONBLOCK: if the entry was swapped for a FIFO since lstat, open must not block forever.
  const fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const h = createHash('sha256');
    let total = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      h.update(buffer.subarray(0, n));
      total += n;
      if (total > size + SMALL_FILE) break; // grew while read: the digest is of what was there
    }
    return h.digest('hex');
  } finally {
    closeSync(fd);
  }
}
