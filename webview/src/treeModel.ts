/**
 * The file tree as the webview sees it: a sparse, paged tree. Each expanded directory knows its child count (from
 * the first page) and holds only the pages fetched so far; rows are addressed by their index in the flattened view
 * (expanded directories inline their children), computed from per-directory row counts — never by materialising a
 * flat array, so a 100,000-entry directory costs 100,000 rows of *arithmetic*, not of memory.
 *
 * Pure logic (no DOM): unit-tested in Node.
 */
import type { DirectoryEntry, DirectoryPage } from '../../server/src/image/imageModel';

export class DirNode {
  /** Children in this view; null until the first page arrives. */
  total: number | null = null;
  readonly pages = new Map<number, DirectoryEntry[]>();
  /** Expanded child directories, by child index. */
  readonly children = new Map<number, DirNode>();
  /** Expanded child indices, ascending (kept in step with `children`). */
  sortedChildren: number[] = [];
  /** Rows below this node's own row while expanded (its children and their expanded subtrees). */
  rows = 1;

  constructor(
    readonly path: string,
    readonly depth: number,
    readonly parent: DirNode | null,
    readonly indexInParent: number,
  ) {}
}

export type Row =
  | { kind: 'entry'; dir: DirNode; index: number; depth: number; entry: DirectoryEntry | undefined; expanded: boolean }
  /** A directory whose first page has not arrived yet. */
  | { kind: 'loading'; dir: DirNode; depth: number };

export interface PageRequest { dir: string; offset: number; limit: number }

export interface TreeModelOptions {
  pageSize?: number;
  /** Most pages kept; the least recently used pages outside the visible window are dropped beyond it. */
  maxPages?: number;
  /** Most directories expanded by "expand all". */
  maxExpandAll?: number;
}

export class TreeModel {
  readonly pageSize: number;
  readonly maxPages: number;
  readonly maxExpandAll: number;
  root = new DirNode('', -1, null, -1);
  /** Paths the user expanded; survives view changes and reloads (re-applied as pages arrive). */
  readonly expandedPaths = new Set<string>();
  private nodes = new Map<string, DirNode>([['', this.root]]);
  private readonly pending = new Set<string>();
  private readonly lastUse = new Map<string, number>();
  private useClock = 0;
  private pageCount = 0;
  private expandAll = false;

  constructor(options: TreeModelOptions = {}) {
    this.pageSize = options.pageSize ?? 200;
    this.maxPages = options.maxPages ?? 400;
    this.maxExpandAll = options.maxExpandAll ?? 2000;
  }

  /** Forget all data (the view changed) but keep which paths are expanded. */
  reset(): void {
    this.root = new DirNode('', -1, null, -1);
    this.nodes = new Map([['', this.root]]);
    this.pending.clear();
    this.lastUse.clear();
    this.pageCount = 0;
  }

  rowCount(): number {
    return this.root.total === null ? 1 : this.root.rows;
  }

  /** The row at flattened index i (null past the end). */
  rowAt(i: number): Row | null {
    if (i < 0) return null;
    let node = this.root;
    for (;;) {
      const total = node.total;
      if (total === null) return i === 0 ? { kind: 'loading', dir: node, depth: node.depth + 1 } : null;
      let extra = 0;
      let descended = false;
      for (const c of node.sortedChildren) {
        const pos = c + extra;
        if (i < pos) break;
        const child = node.children.get(c)!;
        if (i === pos) return this.entryRow(node, c, true);
        const below = this.childRows(child);
        if (i <= pos + below) {
          i -= pos + 1;
          node = child;
          descended = true;
          break;
        }
        extra += below;
      }
      if (descended) continue;
      const idx = i - extra;
      if (idx >= total) return null;
      return this.entryRow(node, idx, node.children.has(idx));
    }
  }

  private entryRow(dir: DirNode, index: number, expanded: boolean): Row {
    return { kind: 'entry', dir, index, depth: dir.depth + 1, entry: this.entry(dir, index), expanded };
  }

  /** Rows under an expanded child (a not-yet-loaded child shows one "loading" row). */
  private childRows(child: DirNode): number {
    return child.total === null ? 1 : child.rows;
  }

  entry(dir: DirNode, index: number): DirectoryEntry | undefined {
    const p = Math.floor(index / this.pageSize);
    const page = dir.pages.get(p);
    if (page) this.lastUse.set(pageKey(dir.path, p), ++this.useClock);
    return page?.[index - p * this.pageSize];
  }

  /** Flattened index of child `index` of `dir`. */
  rowIndexOf(dir: DirNode, index: number): number {
    let r = dir === this.root ? 0 : this.rowIndexOf(dir.parent!, dir.indexInParent) + 1;
    for (const c of dir.sortedChildren) {
      if (c >= index) break;
      r += this.childRows(dir.children.get(c)!);
    }
    return r + index;
  }

  /** Row index of a loaded path (null if it is not currently in a loaded page of an expanded dir). */
  findRow(path: string): number | null {
    const slash = path.lastIndexOf('/');
    const dir = this.nodes.get(slash < 0 ? '' : path.slice(0, slash));
    if (!dir) return null;
    for (const [p, entries] of dir.pages) {
      const i = entries.findIndex((e) => e.path === path);
      if (i >= 0) return this.rowIndexOf(dir, p * this.pageSize + i);
    }
    return null;
  }

  /** Pages (and first pages of expanded dirs) needed to show rows first..last; each is asked for once. */
  missingPages(first: number, last: number): PageRequest[] {
    const out: PageRequest[] = [];
    const want = (dir: DirNode, page: number) => {
      const key = pageKey(dir.path, page);
      this.lastUse.set(key, ++this.useClock);
      if (dir.pages.has(page) || this.pending.has(key)) return;
      this.pending.add(key);
      out.push({ dir: dir.path, offset: page * this.pageSize, limit: this.pageSize });
    };
    for (let i = Math.max(0, first); i <= last; i++) {
      const row = this.rowAt(i);
      if (!row) break;
      if (row.kind === 'loading') want(row.dir, 0);
      else if (!row.entry) want(row.dir, Math.floor(row.index / this.pageSize));
    }
    return out;
  }

  /** A request failed or was dropped: allow asking again. */
  forgetPending(req: PageRequest): void {
    this.pending.delete(pageKey(req.dir, Math.floor(req.offset / this.pageSize)));
  }

  /** Stores a page; returns false if its directory is no longer expanded (a stale reply). */
  setPage(page: DirectoryPage, offset: number): boolean {
    const dir = this.nodes.get(page.dir);
    const p = Math.floor(offset / this.pageSize);
    this.pending.delete(pageKey(page.dir, p));
    if (!dir) return false;
    if (!dir.pages.has(p)) this.pageCount++;
    dir.pages.set(p, page.entries);
    this.lastUse.set(pageKey(dir.path, p), ++this.useClock);
    const totalChanged = dir.total !== page.total;
    dir.total = page.total;
    page.entries.forEach((e, i) => {
      const index = p * this.pageSize + i;
      if (e.type !== 'dir' || dir.children.has(index)) return;
      if (this.expandedPaths.has(e.path) || (this.expandAll && e.childCount > 0 && this.nodes.size <= this.maxExpandAll)) {
        this.expandedPaths.add(e.path);
        this.addChild(dir, index, e.path);
      }
    });
    if (totalChanged) this.recount(dir);
    return true;
  }

  private addChild(dir: DirNode, index: number, path: string): DirNode {
    const child = new DirNode(path, dir.depth + 1, dir, index);
    dir.children.set(index, child);
    dir.sortedChildren = [...dir.children.keys()].sort((a, b) => a - b);
    this.nodes.set(path, child);
    this.recount(dir);
    return child;
  }

  /** Recomputes row counts from `dir` up to the root. */
  private recount(dir: DirNode | null): void {
    for (let d = dir; d; d = d.parent) {
      let rows = d.total ?? 1;
      for (const c of d.children.values()) rows += this.childRows(c);
      d.rows = rows;
    }
  }

  isExpanded(row: Row): boolean {
    return row.kind === 'entry' && row.dir.children.has(row.index);
  }

  expand(row: Row): boolean {
    if (row.kind !== 'entry' || !row.entry || row.entry.type !== 'dir' || row.dir.children.has(row.index)) return false;
    this.expandedPaths.add(row.entry.path);
    this.addChild(row.dir, row.index, row.entry.path);
    return true;
  }

  collapse(row: Row): boolean {
    if (row.kind !== 'entry') return false;
    const child = row.dir.children.get(row.index);
    if (!child) return false;
    this.dropSubtree(child);
    row.dir.children.delete(row.index);
    row.dir.sortedChildren = row.dir.sortedChildren.filter((c) => c !== row.index);
    this.recount(row.dir);
    return true;
  }

  private dropSubtree(node: DirNode): void {
    this.expandedPaths.delete(node.path);
    this.nodes.delete(node.path);
    this.pageCount -= node.pages.size;
    for (const c of node.children.values()) this.dropSubtree(c);
  }

  /** Expands every loaded directory, and those that load later, up to maxExpandAll directories. */
  expandEverything(): void {
    this.expandAll = true;
    const walk = (dir: DirNode) => {
      for (const [p, entries] of dir.pages) {
        entries.forEach((e, i) => {
          const index = p * this.pageSize + i;
          if (e.type === 'dir' && e.childCount > 0 && !dir.children.has(index) && this.nodes.size <= this.maxExpandAll) {
            this.expandedPaths.add(e.path);
            this.addChild(dir, index, e.path);
          }
        });
      }
      for (const c of [...dir.children.values()]) walk(c);
    };
    walk(this.root);
  }

  collapseEverything(): void {
    this.expandAll = false;
    this.expandedPaths.clear();
    for (const c of this.root.children.values()) this.dropSubtree(c);
    this.root.children.clear();
    this.root.sortedChildren = [];
    this.nodes = new Map([['', this.root]]);
    this.recount(this.root);
  }

  /** Drops least-recently-used pages beyond maxPages (never those of rows first..last). */
  evict(first: number, last: number): number {
    if (this.pageCount <= this.maxPages) return 0;
    const keep = new Set<string>();
    for (let i = Math.max(0, first); i <= last; i++) {
      const row = this.rowAt(i);
      if (!row) break;
      if (row.kind === 'entry') keep.add(pageKey(row.dir.path, Math.floor(row.index / this.pageSize)));
    }
    const candidates: Array<[number, DirNode, number]> = [];
    for (const node of this.nodes.values()) {
      for (const p of node.pages.keys()) {
        const key = pageKey(node.path, p);
        if (!keep.has(key)) candidates.push([this.lastUse.get(key) ?? 0, node, p]);
      }
    }
    candidates.sort((a, b) => a[0] - b[0]);
    let dropped = 0;
    for (const [, node, p] of candidates) {
      if (this.pageCount <= this.maxPages) break;
      node.pages.delete(p);
      this.lastUse.delete(pageKey(node.path, p));
      this.pageCount--;
      dropped++;
    }
    return dropped;
  }

  loadedPages(): number {
    return this.pageCount;
  }
}

function pageKey(dir: string, page: number): string {
  return `${page}\0${dir}`;
}
