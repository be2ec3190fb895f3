/**
 * Small config files (.strata.json/.yaml, .hadolint.yaml, .dockerignore) read through a cache that is checked with
 * one stat per read: the LSP asks for them on every diagnostics run, and a stat of an unchanged (or missing) file is
 * far cheaper than reading and re-parsing it. A change to a file is seen on the very next read, as without the cache.
 */
import { readFileSync, statSync, promises as fsp } from 'node:fs';
import { MAX_CONTEXT_FILE_BYTES } from './fsContextReader';

export interface FileStat { size: number; mtimeMs: number; ctimeMs: number; ino: number; isFile(): boolean }

/** The two file-system calls the cache makes (node's by default; tests wrap them to count reads). */
export interface StampFs {
  stat(p: string): FileStat | undefined;
  readFile(p: string): string;
}

/** The same two calls, asynchronous: used to re-check cached files off the LSP thread (see `readAsync`). */
export interface AsyncStampFs {
  stat(p: string): Promise<FileStat | undefined>;
  readFile(p: string): Promise<string>;
}

const nodeFs: StampFs = {
  stat: (p) => statSync(p, { throwIfNoEntry: false }),
  readFile: (p) => readFileSync(p, 'utf8'),
};

const nodeAsyncFs: AsyncStampFs = {
  stat: (p) => fsp.stat(p).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw e;
  }),
  readFile: (p) => fsp.readFile(p, 'utf8'),
};

/**
 * A file modified this close to the moment it was read may be modified again without any visible change in its
 * stamp (file systems with coarse timestamps, e.g. 2 s on FAT): such a read is not trusted and the file is re-read.
 */
const RACY_MS = 2000;
/** Paths kept: one per config-file name per folder of an open Dockerfile and its parents, so a handful in practice. */
const MAX_ENTRIES = 4096;

export class FileStampCache {
  private readonly entries = new Map<string, { stamp: string; text: string; readAt: number }>();

  constructor(private readonly fs: StampFs = nodeFs, private readonly asyncFs: AsyncStampFs = nodeAsyncFs) {}

  /** The file's text, or undefined when it is absent, not a regular file, too large or unreadable. */
  read(file: string): string | undefined {
    let st: FileStat | undefined;
    try { st = this.fs.stat(file); } catch { st = undefined; }
    const hit = this.cached(file, st);
    if (hit !== false) return hit;
    const readAt = Date.now();
    let text: string;
    try { text = this.fs.readFile(file); } catch { this.entries.delete(file); return undefined; }
    return this.store(file, st!, text, readAt);
  }

  /** `read` without blocking the thread: same answers, same cache (the LSP re-checks its cached settings with it). */
  async readAsync(file: string): Promise<string | undefined> {
    let st: FileStat | undefined;
    try { st = await this.asyncFs.stat(file); } catch { st = undefined; }
    const hit = this.cached(file, st);
    if (hit !== false) return hit;
    const readAt = Date.now();
    let text: string;
    try { text = await this.asyncFs.readFile(file); } catch { this.entries.delete(file); return undefined; }
    return this.store(file, st!, text, readAt);
  }

  /** What the stat alone tells: undefined (no usable file), the cached text, or false (read the file). */
  private cached(file: string, st: FileStat | undefined): string | undefined | false {
    if (!st || !st.isFile() || st.size > MAX_CONTEXT_FILE_BYTES) {
      this.entries.delete(file);
      return undefined;
    }
    const hit = this.entries.get(file);
    if (hit && hit.stamp === stampOf(st) && st.mtimeMs < hit.readAt - RACY_MS) return hit.text;
    return false;
  }

  private store(file: string, st: FileStat, text: string, readAt: number): string {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(file, { stamp: stampOf(st), text, readAt });
    return text;
  }
}

/** ctime and inode too: a same-size rewrite that restores mtime, or a save by rename, still changes the stamp. */
function stampOf(st: FileStat): string {
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
}
