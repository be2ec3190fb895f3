import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ContextFs, ContextStat, EntryType } from './contextFs';
import type { HashResults } from './contextHashPool';
import { DockerIgnore, cleanPath, hasWildcard } from './dockerignore';
import { EntryTable } from './entryTable';
import { DIGEST_BYTES, HashStatus, STAT_SLOTS, TypeCode } from './fileHasher';
import { PathOrder } from './pathOrder';
import { selectInTree, type EntryTree } from './selectSources';

/**
 * The build context as BuildKit would send it: every entry not excluded by .dockerignore, with lstat metadata and
 * (lazily) content digests.
 *
 * Storage is columnar so memory stays flat with context size (entryTable.ts: about 100 bytes per entry, no JS object
 * or string per entry, paths as parent + name); the path order is kept as entry numbers (pathOrder.ts), and path
 * strings are built one at a time, only for the files sent to the hashing workers. Links and problems live in sparse
 * maps. Per COPY/ADD only the combined digest of its selection is kept (memoised), never a per-file map.
 *
 * The walk lists directories only; regular files get their stat from the hashing worker's fstat when first hashed.
 * Digests are reused while size+mtime+inode+mode stay the same: after a rescan they are re-verified with one lstat
 * (in the workers), and the editor's file watcher calls `refresh(paths)` so that only those paths are touched.
 */
export interface Selection {
  digest: string;
  /** Selected entries that entered the digest. */
  count: number;
  /** Sources that matched nothing. */
  missing: string[];
  problem?: string;
}

export interface IndexOptions {
  /** Files larger than this are not hashed: steps selecting them predict `unknown`. */
  maxFileBytes?: number;
  /** Largest context walked (entries); beyond it predictions are `unknown` (a Dockerfile in a home directory…). */
  maxEntries?: number;
  /** Hashing progress: files hashed or verified so far out of those this request needs. */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_MAX_ENTRIES = 500_000;
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** Longest stretch of synchronous walking before yielding to the event loop. */
const YIELD_MS = 8;

const F_STAT = 1; // stat columns valid
const F_DIGEST = 2; // digest valid for that stat
const F_CHECKED = 4; // stat confirmed since the last scan: the digest is used without another lstat
const F_PROVISIONAL = 8; // excluded dir walked for `!` exceptions, kept only if something below is

/** Reused by every digestSelection (synchronous between its first and last write). */
const LINES = Buffer.allocUnsafe(1 << 16);
const HEX = Buffer.from('0123456789abcdef');

const TYPES: EntryType[] = ['file', 'file', 'dir', 'symlink', 'fifo', 'socket', 'device'];
const CODE: Record<EntryType, number> = TypeCode;

/** Path strings (sorted, and by entry number) are dropped this long after the last request that used them. */
const SCRATCH_MS = 2000;

export class ContextIndex {
  /** The entries: paths as parent + name, metadata and digests in typed arrays (entryTable.ts). */
  private t = new EntryTable();
  private readonly links = new Map<number, string>();
  /** Why an entry's content cannot be known (unreadable, vanished, too large, special file). */
  private readonly problems = new Map<number, string>();
  /** Live entries (root excluded) in path order; kept until entries are added or removed. */
  private ord: PathOrder | null = null;
  /** Selection reads the table through this (no path strings). */
  private readonly tree: EntryTree;
  private scratchTimer: NodeJS.Timeout | undefined;
  /** Excluded paths where the walk stopped (excluded dirs count once). */
  ignoredRoots: string[] = [];
  ignore: DockerIgnore = new DockerIgnore('');
  ignoreText = '';
  private readonly maxFileBytes: number;
  private readonly maxEntries: number;
  private readonly onProgress?: (done: number, total: number) => void;
  /** Files whose content was read and hashed (not those verified by lstat). */
  hashedCount = 0;
  /** Last hashing request: files done / needed (for a status bar). */
  progress = { done: 0, total: 0 };
  /** Selection digests by source list, dropped when a path under their roots changes (incremental predictions). */
  private readonly memo = new Map<string, { roots: string[]; result: Selection }>();
  private lastYield = 0;

  constructor(private readonly fs: ContextFs, opts: IndexOptions = {}) {
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.onProgress = opts.onProgress;
    this.tree = {
      order: () => this.order(),
      lookup: (rel) => this.t.lookup(rel),
      isDir: (id) => this.t.type[id] === TypeCode.dir,
      name: (id) => this.t.name(id),
      parent: (id) => this.t.parent[id]!,
    };
  }

  /** Live entries, root included. */
  get size(): number { return this.t.live; }

  /** Bytes held by the entry columns, names and lookup table, and the sorted order (bench). */
  get bytes(): number { return this.t.bytes + (this.ord?.bytes ?? 0); }

  /** The entry's metadata (tests, diagnostics); stat fields are zero for a file not yet hashed. */
  get(rel: string): { type: EntryType; stat?: ContextStat; digest?: string; link?: string; problem?: string } | undefined {
    const i = this.t.lookup(rel);
    if (i < 0) return undefined;
    return {
      type: TYPES[this.t.type[i]!]!,
      ...(this.t.flags[i]! & F_STAT ? { stat: this.statOf(i) } : {}),
      ...(this.t.flags[i]! & F_DIGEST ? { digest: this.hexDigest(i) } : {}),
      ...(this.links.has(i) ? { link: this.links.get(i) } : {}),
      ...(this.problems.has(i) ? { problem: this.problems.get(i) } : {}),
    };
  }

  private add(rel: string, parent: number, name: string, type: EntryType): number {
    this.ord = null;
    return this.t.add(rel, parent, name, CODE[type]);
  }

  private setStat(i: number, st: ContextStat): void {
    this.t.type[i] = CODE[st.type];
    this.t.mode[i] = st.mode;
    this.t.nums[i * 3] = st.size;
    this.t.nums[i * 3 + 1] = st.mtimeMs;
    this.t.nums[i * 3 + 2] = st.ino;
    this.t.flags[i]! |= F_STAT;
  }

  private statOf(i: number): ContextStat {
    return { type: TYPES[this.t.type[i]!]!, mode: this.t.mode[i]!, size: this.t.nums[i * 3]!, mtimeMs: this.t.nums[i * 3 + 1]!, ino: this.t.nums[i * 3 + 2]! };
  }

  private sameStat(i: number, st: ContextStat): boolean {
    return (this.t.flags[i]! & F_STAT) !== 0 && this.t.type[i] === CODE[st.type] && this.t.mode[i] === st.mode
      && this.t.nums[i * 3] === st.size && this.t.nums[i * 3 + 1] === st.mtimeMs && this.t.nums[i * 3 + 2] === st.ino;
  }

  private hexDigest(i: number): string {
    return this.t.digests.toString('hex', i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
  }

  private async maybeYield(signal?: AbortSignal): Promise<void> {
    if (performance.now() - this.lastYield <= YIELD_MS) return;
    await new Promise((r) => setImmediate(r));
    this.lastYield = performance.now();
    signal?.throwIfAborted();
  }

  /** Full walk; keeps digests of files whose lstat turns out unchanged (verified when next needed). */
  async scan(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const text = (await this.fs.readText('.dockerignore')) ?? '';
    this.ignoreText = text;
    this.ignore = new DockerIgnore(text);
    this.progress = { done: 0, total: 0 };
    const old = this.t;
    this.reset(Math.max(1024, old.count));
    const root = await this.fs.stat('').catch(() => null);
    if (!root || root.type !== 'dir') throw new Error('the build context is not a readable directory');
    this.setStat(this.add('', -1, '', 'dir'), root);
    this.fs.warmUp?.(); // start the hashing workers while the walk runs
    const ignoredRoots: string[] = [];
    try {
      if (await this.walk(old, ignoredRoots, signal)) this.dropProvisional();
    } catch (e) {
      // A walk that failed (too many entries, aborted) leaves an empty index: nothing half-walked gets hashed.
      this.reset(0);
      throw e;
    }
    this.t.trim();
    this.ignoredRoots = ignoredRoots.sort();
  }

  private reset(cap: number): void {
    this.t = new EntryTable(cap);
    this.links.clear();
    this.problems.clear();
    this.ord = null;
    this.memo.clear();
  }

  /** Breadth-first walk below the root; returns whether excluded dirs were walked provisionally. */
  private async walk(old: EntryTable, ignoredRoots: string[], signal: AbortSignal | undefined): Promise<boolean> {
    let provisional = false;
    const noPatterns = this.ignore.patterns.length === 0;
    this.lastYield = performance.now();
    for (let q = 0; q < this.t.count; q++) {
      // Entries are appended as found, so walking the entry list in order is a breadth-first walk.
      if (this.t.type[q] !== TypeCode.dir || this.t.gone(q)) continue;
      await this.maybeYield(signal);
      const dir = this.t.pathOf(q);
      let list;
      try {
        list = await this.fs.list(dir);
      } catch (e) {
        this.problems.set(q, `${dir || 'the context'} cannot be listed (${errCode(e)})`);
        continue;
      }
      for (const d of list) {
        const rel = dir ? `${dir}/${d.name}` : d.name;
        const excluded = !noPatterns && this.ignore.excludes(rel);
        let st: ContextStat | null = null;
        // Regular files are not stat'ed here: the hashing worker's fstat gives their metadata.
        if (d.type !== 'file' || excluded) {
          try {
            st = await this.fs.stat(rel);
          } catch (e) {
            if (errCode(e) === 'ENOENT') continue; // vanished between list and stat: it is not there
            if (!excluded) this.problems.set(this.add(rel, q, d.name, 'file'), `${rel} cannot be read (${errCode(e)})`);
            continue;
          }
        }
        if (excluded) {
          ignoredRoots.push(rel);
          if (st!.type === 'dir' && this.ignore.mayIncludeBelow(rel)) {
            // An exception may re-include something below: walk it; the dir itself is kept only if it does
            // (the sender creates parents of what it sends).
            const i = this.add(rel, q, d.name, 'dir');
            this.setStat(i, st!);
            this.t.flags[i]! |= F_PROVISIONAL;
            provisional = true;
          }
          continue;
        }
        const i = this.add(rel, q, d.name, st ? st.type : 'file');
        if (st) this.setStat(i, st);
        else {
          // Carry over a digest from the previous scan; the next hash request verifies it with an lstat.
          const o = old.count > 0 ? old.lookup(rel) : -1;
          if (o >= 0 && (old.flags[o]! & F_DIGEST) && old.type[o] === TypeCode.file) {
            this.t.type[i] = TypeCode.file;
            this.t.mode[i] = old.mode[o]!;
            this.t.nums.set(old.nums.subarray(o * 3, o * 3 + 3), i * 3);
            this.t.digests.set(old.digests.subarray(o * DIGEST_BYTES, (o + 1) * DIGEST_BYTES), i * DIGEST_BYTES);
            this.t.flags[i] = F_STAT | F_DIGEST;
          }
        }
        if (st?.type === 'symlink') {
          try { this.links.set(i, await this.fs.readlink(rel)); } catch (e) { this.problems.set(i, `${rel}: symlink cannot be read (${errCode(e)})`); }
        } else if (st && st.type !== 'dir' && st.type !== 'file') {
          this.problems.set(i, `${rel} is a ${st.type}; docker build cannot send it`);
        }
      }
      if (this.t.live > this.maxEntries) throw new Error(`more than ${this.maxEntries} entries; not hashed (is the context folder right?)`);
    }
    return provisional;
  }

  /** Excluded dirs walked for exceptions stay only when something below them was re-included. */
  private dropProvisional(): void {
    // Kept: a provisional dir with a kept (non-provisional) entry below it, and that dir's provisional ancestors.
    const n = this.t.count;
    const keep = new Uint8Array(n);
    for (let i = 1; i < n; i++) {
      if (this.t.gone(i) || (this.t.flags[i]! & F_PROVISIONAL)) continue;
      for (let p = this.t.parent[i]!; p > 0 && !keep[p]; p = this.t.parent[p]!) keep[p] = 1;
    }
    for (let i = 1; i < n; i++) {
      if (this.t.gone(i)) continue;
      if ((this.t.flags[i]! & F_PROVISIONAL) && !keep[i]) this.remove(i);
      else this.t.flags[i]! &= ~F_PROVISIONAL;
    }
  }

  private remove(i: number): void {
    if (this.t.gone(i)) return;
    this.t.remove(i);
    this.links.delete(i);
    this.problems.delete(i);
    this.ord = null;
  }

  /**
   * Incremental update from a file watcher: re-stats only the given paths (a directory is rescanned below).
   * Returns false when a full scan is needed instead (.dockerignore changed, a new directory).
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
      let i = this.t.lookup(rel);
      const wasDir = i >= 0 && this.t.type[i] === TypeCode.dir;
      if (i < 0) {
        // A new entry goes under its parent; a new file in a new dir needs a full scan.
        const slash = rel.lastIndexOf('/');
        const parent = this.t.lookup(slash < 0 ? '' : rel.slice(0, slash));
        if (parent < 0 || this.t.type[parent] !== TypeCode.dir) return false;
        i = this.add(rel, parent, rel.slice(slash + 1), st.type);
      }
      const keep = (this.t.flags[i]! & F_DIGEST) !== 0 && this.sameStat(i, st);
      this.t.flags[i]! &= ~(F_DIGEST | F_CHECKED);
      this.setStat(i, st);
      if (keep) this.t.flags[i]! |= F_DIGEST | F_CHECKED;
      this.links.delete(i);
      this.problems.delete(i);
      if (st.type === 'symlink') {
        const link = await this.fs.readlink(rel).catch(() => undefined);
        if (link !== undefined) this.links.set(i, link); else this.problems.set(i, `${rel}: symlink cannot be read`);
      } else if (st.type !== 'file' && st.type !== 'dir') this.problems.set(i, `${rel} is a ${st.type}; docker build cannot send it`);
      if (st.type === 'dir' && !wasDir) return false;
    }
    return true;
  }

  private removeTree(rel: string): void {
    const i = this.t.lookup(rel);
    if (i < 0) return;
    const ord = this.order();
    const [lo, hi] = ord.range(i);
    const below = Array.from(ord.ids.subarray(lo, hi));
    this.remove(i);
    for (const k of below) this.remove(k);
  }

  /** Entry numbers in path order (root excluded), rebuilt after additions/removals. */
  private order(): PathOrder {
    this.holdScratch();
    return (this.ord ??= PathOrder.build(this.t));
  }

  /** Keeps the directory path cache while requests come in; an idle index drops it (rebuilt in milliseconds). */
  private holdScratch(): void {
    if (this.scratchTimer) { this.scratchTimer.refresh(); return; }
    this.scratchTimer = setTimeout(() => this.releaseScratch(), SCRATCH_MS);
    this.scratchTimer.unref();
  }

  /** Drops the cached directory paths now (the bench measures the idle index; tests check nothing depends on them). */
  releaseScratch(): void {
    if (this.scratchTimer) clearTimeout(this.scratchTimer);
    this.scratchTimer = undefined;
    this.t.dropScratch();
  }

  /** Sorted entry paths (root excluded); built on each call (tests, diagnostics). */
  paths(): string[] {
    return Array.from(this.order().ids, (i) => this.t.pathOf(i));
  }

  /**
   * The entries a COPY/ADD source selects, as BuildKit's copy resolves it: a path (its subtree when a dir) or a
   * Go filepath.Match pattern per segment. `missing` lists sources that match nothing (the build would fail).
   */
  select(sources: string[]): { paths: string[]; missing: string[] } {
    const { positions, missing } = selectInTree(this.tree, sources);
    const ids = this.order().ids;
    return { paths: Array.from(positions, (k) => this.t.pathOf(ids[k]!)), missing };
  }

  /** Content digests for the selected entries (hashing what is not cached), in the workers, cancellable. */
  private async ensureDigests(idsToCheck: ArrayLike<number>, signal?: AbortSignal): Promise<void> {
    const todo = new Int32Array(idsToCheck.length);
    let n = 0;
    let knownBytes: number | undefined = 0;
    for (let k = 0; k < idsToCheck.length; k++) {
      const i = idsToCheck[k]!;
      if (this.t.type[i] !== TypeCode.file || this.problems.has(i)) continue;
      const f = this.t.flags[i]!;
      if ((f & F_DIGEST) && (f & F_CHECKED)) continue;
      if ((f & F_STAT) && !(f & F_DIGEST) && this.t.nums[i * 3]! > this.maxFileBytes) {
        this.problems.set(i, this.tooLarge(i));
        continue;
      }
      todo[n++] = i;
      if (knownBytes !== undefined) knownBytes = f & F_STAT ? knownBytes + this.t.nums[i * 3]! : undefined;
    }
    if (n === 0) return;
    this.progress = { done: 0, total: n };
    const slow: Promise<void>[] = [];
    await this.fs.hashFiles({
      count: n,
      // Built per batch as it is sent, as bytes written from the names: no list of every path while a large context
      // is hashed, and no path string per file on this thread.
      relBytes: (k) => this.t.pathBytes(todo[k]!),
      writeRel: (k, out, at) => this.t.writePath(todo[k]!, out, at),
      prev: (k, into, at) => {
        // Only a digest that may still be valid is worth an lstat first; else hash outright (fstat gives the stat).
        const i = todo[k]!;
        if (!(this.t.flags[i]! & F_DIGEST)) return false;
        into[at] = this.t.type[i]!;
        into[at + 1] = this.t.mode[i]!;
        into[at + 2] = this.t.nums[i * 3]!;
        into[at + 3] = this.t.nums[i * 3 + 1]!;
        into[at + 4] = this.t.nums[i * 3 + 2]!;
        return true;
      },
      maxFileBytes: this.maxFileBytes, knownBytes, signal,
      // Applied as each batch arrives; what was done before an abort is kept: the next request continues from there.
      onBatch: (from, res) => {
        for (let k = 0; k < res.length; k++) {
          if (res.status[k] === HashStatus.cancelled) continue;
          const p = this.apply(todo[from + k]!, res, k);
          if (p) slow.push(p);
        }
      },
      onProgress: (done) => { this.progress = { done, total: n }; this.onProgress?.(done, n); },
    });
    await Promise.all(slow);
    signal?.throwIfAborted();
  }

  /** Records one file's hash result; returns a promise only when the entry must be re-classified (rare). */
  private apply(i: number, res: HashResults, k: number): Promise<void> | undefined {
    const status = res.status[k];
    if (status === HashStatus.error) {
      const rel = this.t.pathOf(i);
      const code = res.errors.get(k) ?? 'EIO';
      this.t.flags[i]! &= ~(F_DIGEST | F_CHECKED);
      if (code === 'ELOOP' || code === 'ENXIO' || code === 'ENOTDIR') return this.reclassify(i, rel, code);
      this.problems.set(i, code === 'ENOENT' ? `${rel} vanished while it was being read` : `${rel} cannot be read (${code})`);
      return undefined;
    }
    const s = k * STAT_SLOTS;
    const keep = this.t.flags[i]! & (F_DIGEST | F_CHECKED);
    this.t.type[i] = res.stats[s]!;
    this.t.mode[i] = res.stats[s + 1]!;
    this.t.nums.set(res.stats.subarray(s + 2, s + 5), i * 3);
    this.t.flags[i] = F_STAT;
    if (status === HashStatus.same) { this.t.flags[i]! |= keep | F_CHECKED; return undefined; }
    if (status === HashStatus.ok) {
      this.t.digests.set(res.digests.subarray(k * DIGEST_BYTES, (k + 1) * DIGEST_BYTES), i * DIGEST_BYTES);
      this.t.flags[i]! |= F_DIGEST | F_CHECKED;
      this.hashedCount++;
    } else if (status === HashStatus.tooLarge) {
      this.problems.set(i, this.tooLarge(i));
    } else {
      const type = TYPES[this.t.type[i]!]!;
      const rel = this.t.pathOf(i);
      this.problems.set(i, type === 'fifo' || type === 'socket' || type === 'device'
        ? `${rel} is a ${type}; docker build cannot send it` : `${rel} changed (now a ${type}) while it was being read`);
    }
    return undefined;
  }

  /** A file replaced since the walk (by a symlink, a socket…): classified as the walk would have. */
  private async reclassify(i: number, rel: string, code: string): Promise<void> {
    const st = await this.fs.stat(rel).catch(() => null);
    if (st && st.type === 'symlink') {
      this.setStat(i, st);
      const link = await this.fs.readlink(rel).catch(() => undefined);
      if (link !== undefined) { this.links.set(i, link); return; }
    }
    if (st && st.type !== 'file' && st.type !== 'dir') { this.setStat(i, st); this.problems.set(i, `${rel} is a ${st.type}; docker build cannot send it`); return; }
    this.problems.set(i, `${rel} cannot be read (${code})`);
  }

  private tooLarge(i: number): string {
    return `${this.t.pathOf(i)} is ${this.t.nums[i * 3]} bytes, over the ${this.maxFileBytes}-byte hashing limit`;
  }

  private forget(rel: string): void {
    for (const [k, m] of this.memo) {
      if (m.roots.some((r) => r === '' || r === rel || rel.startsWith(r + '/') || r.startsWith(rel + '/'))) this.memo.delete(k);
    }
  }

  /**
   * Hashes, in one request, everything the given COPY/ADD source lists select (so both workers share the whole
   * job instead of one step at a time). Later `digestSelection` calls find the digests cached.
   */
  async prepare(sourceLists: string[][], signal?: AbortSignal): Promise<void> {
    // One mask over the path order: a file several steps select is hashed once.
    const ids = this.order().ids;
    const picked = new Uint8Array(ids.length);
    for (const sources of sourceLists) {
      if (this.memo.has(JSON.stringify(sources))) continue;
      for (const pos of selectInTree(this.tree, sources).positions) picked[pos] = 1;
    }
    // A typed array, not a growing number[]: its copies would be promoted, counted as survivors by V8, and grow the
    // young generation with the context.
    let n = 0;
    for (let pos = 0; pos < picked.length; pos++) n += picked[pos]!;
    const todo = new Int32Array(n);
    for (let pos = 0, k = 0; pos < picked.length; pos++) if (picked[pos]) todo[k++] = ids[pos]!;
    await this.ensureDigests(todo, signal);
  }

  /**
   * What a COPY/ADD's sources contribute to its cache key: a digest over the selected entries (path, type, mode,
   * content or link target), how many there are, and the first problem. Memoised until a path below it changes.
   */
  async digestSelection(sources: string[], signal?: AbortSignal): Promise<Selection> {
    const key = JSON.stringify(sources);
    const hit = this.memo.get(key);
    if (hit) return hit.result;
    const sel = selectInTree(this.tree, sources);
    const ids = this.order().ids;
    await this.ensureDigests(sel.positions.map((pos) => ids[pos]!), signal);
    const h = createHash('sha256');
    let problem: string | undefined;
    let count = 0;
    // The lines `<path>\0<key>\n` are written as UTF-8 straight from the names into one buffer, hashed per ~64 kB:
    // one hash update per entry costs more than the hashing, and a string per entry made the young heap grow with
    // the context. The bytes are exactly those of the strings (keyOf), so older build records stay comparable.
    let buf = LINES;
    let at = 0;
    for (const pos of sel.positions) {
      const i = ids[pos]!;
      const type = this.t.type[i]!;
      if (this.problems.has(i) || (type === TypeCode.file ? !(this.t.flags[i]! & F_DIGEST) : type !== TypeCode.dir && type !== TypeCode.symlink)) {
        problem ??= this.problems.get(i) ?? `${this.t.pathOf(i)} cannot be read`;
        continue;
      }
      count++;
      const link = type === TypeCode.symlink ? this.links.get(i) ?? '' : '';
      const need = this.t.pathBytes(i) + 96 + link.length * 3;
      if (at + need > buf.length) {
        h.update(buf.subarray(0, at));
        at = 0;
        if (need > buf.length) buf = Buffer.allocUnsafe(need);
      }
      at = this.t.writePath(i, buf, at);
      buf[at++] = 0;
      at = this.writeKey(i, type, link, buf, at);
      buf[at++] = 0x0a;
    }
    h.update(buf.subarray(0, at));
    const result: Selection = { digest: h.digest('hex'), count, missing: sel.missing, ...(problem ? { problem } : {}) };
    const roots = sources.map((src) => {
      const segs = cleanPath(src).split('/');
      const fixed = segs.findIndex(hasWildcard);
      const r = (fixed < 0 ? segs : segs.slice(0, fixed)).join('/');
      return r === '.' ? '' : r;
    });
    this.memo.set(key, { roots, result });
    return result;
  }

  /**
   * Per-entry keys of a selection (path → key), for the build record's manifest and for naming the changed files of
   * a missed step. Built on demand only (predictions keep just the selection digests), from the digests already
   * computed by `digestSelection`; entries without one are left out.
   */
  selectionKeys(sources: readonly string[], into: Record<string, string> = {}): Record<string, string> {
    const sel = selectInTree(this.tree, sources);
    const ids = this.order().ids;
    for (const pos of sel.positions) {
      const k = this.keyOf(ids[pos]!);
      if (k !== null) into[this.t.pathOf(ids[pos]!)] = k;
    }
    return into;
  }

  /** The digest line for one entry: content and metadata that BuildKit's contenthash covers (not mtimes). */
  entryKey(p: string): string | null {
    const i = this.t.lookup(p);
    return i < 0 ? null : this.keyOf(i);
  }

  /** Writes keyOf(i)'s bytes (the caller checked it has one) at `out[at]`; returns where they end. */
  private writeKey(i: number, type: number, link: string, out: Buffer, at: number): number {
    const prefix = type === TypeCode.file ? 'file:' : type === TypeCode.dir ? 'dir:' : 'symlink:';
    for (let k = 0; k < prefix.length; k++) out[at++] = prefix.charCodeAt(k);
    // The mode in octal without leading zeros, as toString(8) writes it.
    const mode = this.t.mode[i]!;
    let digits = 1;
    while (digits < 6 && mode >= 8 ** digits) digits++;
    for (let k = digits - 1; k >= 0; k--) out[at++] = 0x30 + ((mode >> (3 * k)) & 7);
    if (type === TypeCode.dir) return at;
    out[at++] = 0x3a; // ':'
    if (type === TypeCode.symlink) return at + out.write(link, at, 'utf8');
    const d = this.t.digests;
    for (let b = i * DIGEST_BYTES, end = b + DIGEST_BYTES; b < end; b++) {
      out[at++] = HEX[d[b]! >> 4]!;
      out[at++] = HEX[d[b]! & 15]!;
    }
    return at;
  }

  private keyOf(i: number): string | null {
    if (this.problems.has(i)) return null;
    const mode = this.t.mode[i]!.toString(8);
    switch (this.t.type[i]) {
      case TypeCode.file: return this.t.flags[i]! & F_DIGEST ? `file:${mode}:${this.hexDigest(i)}` : null;
      case TypeCode.dir: return `dir:${mode}`;
      case TypeCode.symlink: return `symlink:${mode}:${this.links.get(i) ?? ''}`;
      default: return null;
    }
  }
}

export function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);
}
