import { promises as fs, lstatSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { contextHashPool, hashContextFiles, type HashRequest } from './contextHashPool';

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

/** A directory entry; `type` from the directory itself (d_type), null when the file system does not say. */
export interface DirEntry { name: string; type: EntryType | null }

export interface ContextFs {
  list(rel: string): Promise<DirEntry[]>;
  stat(rel: string): Promise<ContextStat>;
  readlink(rel: string): Promise<string>;
  /**
   * Content digests (sha256) of regular files, with the stat each was read under, one result slot per file, reported
   * per batch (`req.onBatch`), off the calling thread where possible. Per-file failures are results, not rejections;
   * on abort it resolves early with the rest unreported.
   */
  hashFiles(req: HashRequest): Promise<void>;
  /** Hint that hashing will follow soon (starts worker threads). */
  warmUp?(): void;
  /** Small text file (e.g. .dockerignore), or null when absent. */
  readText(rel: string): Promise<string | null>;
}

/**
 * The real file system. Listing and metadata are synchronous on purpose: through libuv's 4-thread pool each call
 * costs a round trip that dominated the walk; the walk lists directories only (regular files get their stat from
 * the hashing worker's fstat) and ContextIndex yields to the event loop every few milliseconds. Hashing runs in
 * worker threads (contextHashPool.ts).
 */
export function nodeContextFs(root: string): ContextFs {
  const base = path.resolve(root);
  // Relative paths come from our own walk (clean, slash-separated): concatenation is enough and much cheaper.
  const abs = (rel: string) => (rel ? `${base}/${rel}` : base);
  return {
    list: async (rel) => readdirSync(abs(rel), { withFileTypes: true }).map((d) => ({ name: d.name, type: direntType(d) })),
    async stat(rel) {
      const st = lstatSync(abs(rel));
      const type: EntryType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink'
        : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : 'device';
      return { type, mode: st.mode & 0o7777, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
    },
    readlink: async (rel) => readlinkSync(abs(rel)),
    hashFiles: (req) => hashContextFiles(base, req),
    warmUp: () => contextHashPool().warmUp(),
    async readText(rel) {
      try { return await fs.readFile(abs(rel), 'utf8'); } catch { return null; }
    },
  };
}

function direntType(d: Dirent): EntryType | null {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  if (d.isCharacterDevice() || d.isBlockDevice()) return 'device';
  return null;
}
