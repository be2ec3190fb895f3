import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ContextFs, ContextStat } from './contextFs';
import { DockerIgnore, cleanPath, globToRegExp, hasWildcard } from './dockerignore';

/**
 * The build context as BuildKit would send it: every entry not excluded by .dockerignore, with lstat metadata and
 * (lazily) content digests. Digests are cached by path+size+mtime+inode, so rescans rehash only what changed; the
 * editor calls `refresh(paths)` from its file watcher and nothing else is touched.
 */
export interface IndexEntry {
  stat: ContextStat;
  link?: string;
  /** Content digest (regular files), filled on demand. */
  digest?: string;
  /** Why this entry's content cannot be known (unreadable, vanished, too large, special file). */
  problem?: string;
}

export interface Selection {
  digest: string;
  files: Record<string, string>;
  /** Sources that matched nothing. */
  missing: string[];
  problem?: string;
}

export interface IndexOptions {
  /** Files larger than this are not hashed: steps selecting them predict `unknown`. */
  maxFileBytes?: number;
  /** Parallel hashes/stats. */
  concurrency?: number;
  /** Largest context walked (entries); beyond it predictions are `unknown` (a Dockerfile in a home directory…). */
  maxEntries?: number;
}

export const DEFAULT_MAX_ENTRIES = 500_000;

/** Longest stretch of synchronous file work before yielding to the event loop. */
const YIELD_MS = 8;

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

export class ContextIndex {
  private entries = new Map<string, IndexEntry>();
  private sorted: string[] | null = null;
  /** Excluded paths where the walk stopped (excluded dirs count once). */
  ignoredRoots: string[] = [];
  ignore: DockerIgnore = new DockerIgnore('');
  ignoreText = '';
  /** Problems of the walk itself (unreadable directories). */
  private readonly maxFileBytes: number;
  private readonly concurrency: number;
  private readonly maxEntries: number;
  hashedCount = 0;
  /** Selection digests by source list, dropped when a path under their roots changes (incremental predictions). */
  private readonly memo = new Map<string, { roots: string[]; result: Selection }>();
  private lastYield = 0;

  constructor(private readonly fs: ContextFs, opts: IndexOptions = {}) {
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.concurrency = opts.concurrency ?? 32;
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  get size(): number { return this.entries.size; }
  get(rel: string): IndexEntry | undefined { return this.entries.get(rel); }

  /** Full walk; keeps digests of entries whose size/mtime/inode did not change. */
  async scan(signal?: AbortSignal): Promise<void> {
    const text = (await this.fs.readText('.dockerignore')) ?? '';
    const ignoreChanged = text !== this.ignoreText;
    this.ignoreText = text;
    this.ignore = new DockerIgnore(text);
    const old = this.entries;
    const next = new Map<string, IndexEntry>();
    const ignoredRoots: string[] = [];
    const provisional = new Set<string>();
    const root = await this.fs.stat('').catch(() => null);
    if (!root || root.type !== 'dir') throw new Error('the build context is not a readable directory');
    next.set('', { stat: root });
    let queue: string[] = [''];
    while (queue.length > 0) {
      signal?.throwIfAborted();
      const nextQueue: string[] = [];
      await this.pool(queue, async (dir) => {
        let names: string[];
        try {
          names = await this.fs.list(dir);
        } catch (e) {
          const entry = next.get(dir);
          if (entry) entry.problem = `${dir || 'the context'} cannot be listed (${errCode(e)})`;
          return;
        }
        for (const name of names) {
          const rel = dir ? `${dir}/${name}` : name;
          const excluded = this.ignore.excludes(rel);
          let st: ContextStat;
          try {
            st = await this.fs.stat(rel);
          } catch (e) {
            if (errCode(e) === 'ENOENT') continue; // vanished between list and stat: it is not there
            if (!excluded) next.set(rel, { stat: { type: 'file', mode: 0, size: 0, mtimeMs: 0, ino: 0 }, problem: `${rel} cannot be read (${errCode(e)})` });
            continue;
          }
          if (excluded) {
            ignoredRoots.push(rel);
            if (st.type === 'dir' && this.ignore.mayIncludeBelow(rel)) {
              // An exception may re-include something below: walk it; the dir itself is kept only if it does
              // (the sender creates parents of what it sends).
              next.set(rel, { stat: st });
              provisional.add(rel);
              nextQueue.push(rel);
            }
            continue;
          }
          const prev = old.get(rel);
          const entry: IndexEntry = { stat: st };
          if (prev && prev.digest && !ignoreChanged && sameFile(prev.stat, st)) entry.digest = prev.digest;
          if (st.type === 'symlink') {
            try { entry.link = await this.fs.readlink(rel); } catch (e) { entry.problem = `${rel}: symlink cannot be read (${errCode(e)})`; }
          } else if (st.type === 'fifo' || st.type === 'socket' || st.type === 'device') {
            entry.problem = `${rel} is a ${st.type}; docker build cannot send it`;
          }
          next.set(rel, entry);
          if (st.type === 'dir') nextQueue.push(rel);
        }
      });
      queue = nextQueue;
      if (next.size > this.maxEntries) throw new Error(`more than ${this.maxEntries} entries; not hashed (is the context folder right?)`);
    }
    // Excluded dirs walked for exceptions stay only when something below them was re-included.
    if (provisional.size) {
      const keep = new Set<string>();
      for (const k of next.keys()) {
        for (let i = k.lastIndexOf('/'); i > 0; i = k.lastIndexOf('/', i - 1)) {
          const parent = k.slice(0, i);
          if (provisional.has(parent) && !provisional.has(k)) keep.add(parent);
        }
      }
      for (const d of provisional) if (!keep.has(d)) next.delete(d);
    }
    this.entries = next;
    this.sorted = null;
    this.memo.clear();
    this.ignoredRoots = ignoredRoots.sort();
  }

  /**
   * Incremental update from a file watcher: re-stats only the given paths (a directory is rescanned below).
   * Returns false when a full scan is needed instead (.dockerignore changed).
   */
  async refresh(paths: string[], signal?: AbortSignal): Promise<boolean> {
    for (const p of paths) {
      const rel = cleanPath(p) === '.' ? '' : cleanPath(p);
      if (rel === '.dockerignore') return false;
      this.forget(rel);
      signal?.throwIfAborted();
      let st: ContextStat | null = null;
      try { st = await this.fs.stat(rel); } catch { st = null; }
      if (!st || this.ignore.excludes(rel)) {
        this.removeTree(rel);
        continue;
      }
      const prev = this.entries.get(rel);
      if (!prev) this.sorted = null;
      const entry: IndexEntry = { stat: st };
      if (prev?.digest && sameFile(prev.stat, st)) entry.digest = prev.digest;
      if (st.type === 'symlink') entry.link = await this.fs.readlink(rel).catch(() => undefined);
      else if (st.type !== 'file' && st.type !== 'dir') entry.problem = `${rel} is a ${st.type}; docker build cannot send it`;
      this.entries.set(rel, entry);
      if (st.type === 'dir' && prev?.stat.type !== 'dir') return false;
      // Make sure the parents exist in the index (a new file in a new dir).
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      if (!this.entries.has(parent)) return false;
    }
    return true;
  }

  private removeTree(rel: string): void {
    if (!this.entries.delete(rel)) return;
    for (const k of this.paths()) if (k.startsWith(rel + '/')) this.entries.delete(k);
    this.sorted = null;
  }

  /** Sorted entry paths (root excluded). */
  paths(): string[] {
    if (!this.sorted) this.sorted = [...this.entries.keys()].filter((k) => k !== '').sort();
    return this.sorted;
  }

  /**
   * The entries a COPY/ADD source selects, as BuildKit's copy resolves it: a path (its subtree when a dir) or a
   * Go filepath.Match pattern per segment. `missing` lists sources that match nothing (the build would fail).
   */
  select(sources: string[]): { paths: string[]; missing: string[] } {
    const all = this.paths();
    const picked = new Set<string>();
    const missing: string[] = [];
    for (const src of sources) {
      const clean = cleanPath(src);
      let roots: string[];
      if (clean === '.') roots = [''];
      else if (hasWildcard(clean)) {
        const segs = clean.split('/');
        const res = segs.map(globToRegExp);
        roots = all.filter((p) => {
          const ps = p.split('/');
          return ps.length === segs.length && ps.every((s, i) => res[i]!.test(s));
        });
      } else roots = this.entries.has(clean) ? [clean] : [];
      if (roots.length === 0) { missing.push(src); continue; }
      for (const r of roots) {
        if (r === '') { for (const p of all) picked.add(p); continue; }
        picked.add(r);
        if (this.entries.get(r)?.stat.type === 'dir') for (const p of subtree(all, r)) picked.add(p);
      }
    }
    return { paths: [...picked].sort(), missing };
  }

  /** Content digests for the given paths (hashing what is not cached), bounded parallelism, cancellable. */
  async ensureDigests(paths: string[], signal?: AbortSignal): Promise<void> {
    const todo = paths.filter((p) => {
      const e = this.entries.get(p);
      return e && e.stat.type === 'file' && !e.digest && !e.problem;
    });
    await this.pool(todo, async (p) => {
      const e = this.entries.get(p)!;
      if (e.stat.size > this.maxFileBytes) {
        e.problem = `${p} is ${e.stat.size} bytes, over the ${this.maxFileBytes}-byte hashing limit`;
        return;
      }
      try {
        e.digest = await this.fs.hash(p, signal, e.stat.size);
        this.hashedCount++;
      } catch (err) {
        if (signal?.aborted) throw err;
        e.problem = errCode(err) === 'ENOENT' ? `${p} vanished while it was being read` : `${p} cannot be read (${errCode(err)})`;
      }
    }, signal);
  }

  private forget(rel: string): void {
    for (const [k, m] of this.memo) {
      if (m.roots.some((r) => r === '' || r === rel || rel.startsWith(r + '/') || r.startsWith(rel + '/'))) this.memo.delete(k);
    }
  }

  /**
   * What a COPY/ADD's sources contribute to its cache key: a digest over the selected entries (path, type, mode,
   * content or link target), the per-entry keys, and the first problem. Memoised until a path below it changes.
   */
  async digestSelection(sources: string[], signal?: AbortSignal): Promise<Selection> {
    const key = JSON.stringify(sources);
    const hit = this.memo.get(key);
    if (hit) return hit.result;
    const sel = this.select(sources);
    await this.ensureDigests(sel.paths, signal);
    const files: Record<string, string> = {};
    const h = createHash('sha256');
    let problem: string | undefined;
    for (const p of sel.paths) {
      const k = this.entryKey(p);
      if (k === null) {
        problem ??= this.problemOf(p) ?? `${p} cannot be read`;
        continue;
      }
      files[p] = k;
      h.update(`${p}\0${k}\n`);
    }
    const result: Selection = { digest: h.digest('hex'), files, missing: sel.missing, ...(problem ? { problem } : {}) };
    const roots = sources.map((src) => {
      const segs = cleanPath(src).split('/');
      const fixed = segs.findIndex(hasWildcard);
      const r = (fixed < 0 ? segs : segs.slice(0, fixed)).join('/');
      return r === '.' ? '' : r;
    });
    this.memo.set(key, { roots, result });
    return result;
  }

  /** The digest line for one entry: content and metadata that BuildKit's contenthash covers (not mtimes). */
  entryKey(p: string): string | null {
    const e = this.entries.get(p);
    if (!e || e.problem) return null;
    const mode = e.stat.mode.toString(8);
    switch (e.stat.type) {
      case 'file': return e.digest ? `file:${mode}:${e.digest}` : null;
      case 'dir': return `dir:${mode}`;
      case 'symlink': return `symlink:${mode}:${e.link ?? ''}`;
      default: return null;
    }
  }

  problemOf(p: string): string | undefined {
    return this.entries.get(p)?.problem;
  }

  private async pool<T>(items: T[], fn: (t: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        signal?.throwIfAborted();
        // Sync-backed file systems resolve at once: give the event loop (LSP requests, cancellation) a turn.
        if (performance.now() - this.lastYield > YIELD_MS) {
          this.lastYield = performance.now();
          await new Promise((r) => setImmediate(r));
          signal?.throwIfAborted();
          if (next >= items.length) break; // another worker took the rest meanwhile
        }
        await fn(items[next++]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
  }
}

function subtree(sorted: string[], dir: string): string[] {
  const prefix = dir + '/';
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < prefix) lo = mid + 1; else hi = mid;
  }
  const out: string[] = [];
  for (let i = lo; i < sorted.length && sorted[i]!.startsWith(prefix); i++) out.push(sorted[i]!);
  return out;
}

function sameFile(a: ContextStat, b: ContextStat): boolean {
  return a.type === b.type && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.mode === b.mode;
}

export function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);
}
