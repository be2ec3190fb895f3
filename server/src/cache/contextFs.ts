import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
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
  /** sha256 (hex) of a regular file's content, streamed; rejects with AbortError on abort. */
  hash(rel: string, signal?: AbortSignal): Promise<string>;
  /** Small text file (e.g. .dockerignore), or null when absent. */
  readText(rel: string): Promise<string | null>;
}

export function nodeContextFs(root: string): ContextFs {
  const abs = (rel: string) => (rel ? path.join(root, rel) : root);
  return {
    list: (rel) => fs.readdir(abs(rel)),
    async stat(rel) {
      const st = await fs.lstat(abs(rel));
      const type: EntryType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink'
        : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : 'device';
      return { type, mode: st.mode & 0o7777, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
    },
    readlink: (rel) => fs.readlink(abs(rel)),
    hash: (rel, signal) => new Promise<string>((resolve, reject) => {
      const h = createHash('sha256');
      // O_NONBLOCK-free open of a regular file we lstat'ed; a file swapped for a FIFO meanwhile would block, so
      // callers only hash entries that were regular files and the stream honours the abort signal.
      const s = createReadStream(abs(rel), { highWaterMark: 1 << 20, signal });
      s.on('data', (b) => h.update(b));
      s.on('error', reject);
      s.on('end', () => resolve(h.digest('hex')));
    }),
    async readText(rel) {
      try { return await fs.readFile(abs(rel), 'utf8'); } catch { return null; }
    },
  };
}
