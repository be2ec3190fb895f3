/**
 * Views over an ImageTree: the merged (union) filesystem after layer N, one layer's own tree, and the changes of a
 * range of layers; plus paged directory listings and the contract's per-layer change list.
 *
 * Union semantics (overlay2/AUFS): layers stack, the upper entry for a path wins; a whiteout hides the path; an
 * opaque marker on D hides everything below D from lower layers (entries of its own layer stay); a non-directory
 * replacing D (or a whiteout of D) hides D's lower contents. This is computed with a "threshold" per directory:
 * the lowest layer whose entries below it are still visible.
 */
import type {
  ChangeKind, ChangePage, ContractEntryType, DirectoryEntry, DirectoryPage, EntryKindBadge, LayerChange, ListOptions,
  PageOptions, ViewMode,
} from './imageModel';
import {
  F_IMPLIED, F_OPAQUE, F_RAW, F_WHITEOUT, ImageTree, T_DIR, T_FILE, TYPE_NAMES,
} from './imageTree';
import { ImageReadError } from './imageReadError';

/** State of every node in one view, as typed arrays indexed by node id. */
export interface ViewState {
  /** Entry shown for the node, -1 if absent. Root (node 0) is always present (entry -2 if no layer has one). */
  vis: Int32Array;
  /** Regular file bytes at or below the node in this view. */
  size: Float64Array;
  childCount: Int32Array;
  /** Node carries an opaque marker in this view's layer(s). */
  opaque: Uint8Array;
  /** For range views: badge per node (index into BADGES), 255 = not part of the range. */
  badge: Uint8Array | null;
}

const BADGES: EntryKindBadge[] = ['added', 'modified', 'deleted', 'opaque', 'unchanged'];
const B_ADDED = 0;
const B_MODIFIED = 1;
const B_DELETED = 2;
const B_UNCHANGED = 4;
const B_NONE = 255;

/** Computes views on demand and caches the last few (keyed by tree generation). */
export class TreeViews {
  private cache = new Map<string, ViewState>();
  private cacheGen = -1;
  /** Per entry: 1 if its bytes are wasted in the final image (set by the summary). */
  wastedEntry: Uint8Array | null = null;
  /** Per node: 1 if some wasted copy is at or below it. */
  wastedNode: Uint8Array | null = null;

  constructor(readonly tree: ImageTree) {}

  private cached(key: string, make: () => ViewState): ViewState {
    if (this.cacheGen !== this.tree.generation) {
      this.cache.clear();
      this.cacheGen = this.tree.generation;
    }
    let v = this.cache.get(key);
    if (!v) {
      v = make();
      if (this.cache.size >= 6) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, v);
    }
    return v;
  }

  /** Threshold contribution of node's own entries up to layer n (for its children). */
  private events(node: number, n: number, t: number): number {
    const { tree } = this;
    for (let e = tree.nHead.data[node]!; e >= 0; e = tree.eNext.data[e]!) {
      const l = tree.eLayer.data[e]!;
      if (l > n) continue;
      if (l < t) break;
      const f = tree.eFlags.data[e]!;
      if (f & F_OPAQUE) t = Math.max(t, l);
      else if (f & F_WHITEOUT || tree.eType.data[e] !== T_DIR) t = Math.max(t, l + 1);
    }
    return t;
  }

  /** The entry visible for `node` at layer n given its parent's threshold, or -1. */
  visibleEntry(node: number, n: number, t: number): number {
    const { tree } = this;
    for (let e = tree.nHead.data[node]!; e >= 0; e = tree.eNext.data[e]!) {
      const l = tree.eLayer.data[e]!;
      if (l > n) continue;
      if (l < t) return -1;
      const f = tree.eFlags.data[e]!;
      if (f & F_OPAQUE) continue;
      return f & F_WHITEOUT ? -1 : e;
    }
    return -1;
  }

  /**
   * The entry `merged(n).vis` holds for one node (-1: not visible), found by walking down its path alone: for a
   * few nodes far cheaper than computing the whole view. Same rules as `computeMerged`: every ancestor must be
   * visible as a directory, each passing its threshold down.
   */
  visibleAt(n: number, node: number): number {
    const { tree } = this;
    if (node === 0) return n < 0 ? -2 : this.merged(n).vis[0]!;
    const path: number[] = [];
    for (let a = node; a > 0; a = tree.nParent.data[a]!) path.push(a);
    let t = this.events(0, n, 0);
    for (let i = path.length - 1; ; i--) {
      const a = path[i]!;
      const e = this.visibleEntry(a, n, t);
      if (e < 0 || i === 0) return e;
      if (tree.eType.data[e] !== T_DIR) return -1;
      t = this.events(a, n, t);
    }
  }

  /** The union filesystem after layers 0..n (n = -1: empty). */
  merged(n: number): ViewState {
    return this.cached(`m${n}`, () => this.computeMerged(n));
  }

  private computeMerged(n: number): ViewState {
    const { tree } = this;
    const N = tree.nodeCount;
    const vis = new Int32Array(N).fill(-1);
    const size = new Float64Array(N);
    const childCount = new Int32Array(N);
    const opaque = new Uint8Array(N);
    vis[0] = -2;
    if (n < 0) return { vis, size, childCount, opaque, badge: null };
    const rootHead = this.visibleEntry(0, n, 0);
    if (rootHead >= 0) vis[0] = rootHead;
    const dirs: number[] = [0];
    const thresholds: number[] = [this.events(0, n, 0)];
    const fsz = tree.eSize.data;
    const types = tree.eType.data;
    for (let i = 0; i < dirs.length; i++) {
      const d = dirs[i]!;
      const t = thresholds[i]!;
      if (t > 0 && this.hasOpaqueAt(d, n)) opaque[d] = 1;
      for (let c = tree.nFirstChild.data[d]!; c >= 0; c = tree.nNextSibling.data[c]!) {
        const e = this.visibleEntry(c, n, t);
        if (e < 0) continue;
        vis[c] = e;
        childCount[d]!++;
        const ty = types[e]!;
        if (ty === T_DIR) {
          dirs.push(c);
          thresholds.push(this.events(c, n, t));
        } else if (ty === T_FILE) {
          size[c] = fsz[e]!;
          size[d]! += fsz[e]!;
        }
      }
    }
    // dirs are in breadth-first order: walking it backwards adds each directory's total to its parent after
    // everything below it is summed.
    const parent = tree.nParent.data;
    for (let i = dirs.length - 1; i > 0; i--) {
      const d = dirs[i]!;
      size[parent[d]!]! += size[d]!;
    }
    return { vis, size, childCount, opaque, badge: null };
  }

  private hasOpaqueAt(node: number, n: number): boolean {
    const { tree } = this;
    for (let e = tree.nHead.data[node]!; e >= 0; e = tree.eNext.data[e]!) {
      if (tree.eLayer.data[e]! <= n && tree.eFlags.data[e]! & F_OPAQUE) return true;
    }
    return false;
  }

  /** One layer's own tree (its entries, implied parent dirs, whiteouts as entries). */
  layer(l: number): ViewState {
    return this.cached(`l${l}`, () => {
      const { tree } = this;
      const N = tree.nodeCount;
      const vis = new Int32Array(N).fill(-1);
      const size = new Float64Array(N);
      const childCount = new Int32Array(N);
      const opaque = new Uint8Array(N);
      vis[0] = -2;
      const list = tree.layerEntries[l]!;
      const parent = tree.nParent.data;
      for (let i = 0; i < list.length; i++) {
        const e = list.data[i]!;
        const node = tree.eNode.data[e]!;
        if (tree.eFlags.data[e]! & F_OPAQUE) {
          opaque[node] = 1;
          continue;
        }
        vis[node] = e;
        if (node > 0) childCount[parent[node]!]!++;
        if (tree.eType.data[e] === T_FILE && !(tree.eFlags.data[e]! & F_WHITEOUT)) addUp(parent, size, node, tree.eSize.data[e]!);
      }
      return { vis, size, childCount, opaque, badge: null };
    });
  }

  /** What layers a..n changed, compared with the merged tree below a. */
  range(a: number, n: number): ViewState {
    return this.cached(`r${a}:${n}`, () => {
      const { tree } = this;
      const N = tree.nodeCount;
      const before = this.merged(a - 1);
      const after = this.merged(n);
      const vis = new Int32Array(N).fill(-1);
      const size = new Float64Array(N);
      const childCount = new Int32Array(N);
      const opaque = new Uint8Array(N);
      const badge = new Uint8Array(N).fill(B_NONE);
      vis[0] = -2;
      badge[0] = B_MODIFIED;
      const parent = tree.nParent.data;
      const touched = new Uint8Array(N);
      for (let l = a; l <= n; l++) {
        const list = tree.layerEntries[l]!;
        for (let i = 0; i < list.length; i++) {
          const e = list.data[i]!;
          const node = tree.eNode.data[e]!;
          if (tree.eFlags.data[e]! & F_OPAQUE) opaque[node] = 1;
          touched[node] = 1;
        }
      }
      for (let node = 1; node < N; node++) {
        if (!touched[node]) continue;
        const b = before.vis[node]!;
        const av = after.vis[node]!;
        if (b < 0 && av < 0) continue;
        let k: number;
        if (av < 0) k = B_DELETED;
        else if (b < 0) k = B_ADDED;
        else k = tree.eLayer.data[av]! >= a ? B_MODIFIED : B_UNCHANGED;
        if (k === B_UNCHANGED && tree.eType.data[av] === T_DIR) k = B_MODIFIED; // something below it changed
        badge[node] = k;
        vis[node] = av >= 0 ? av : b;
        childCount[parent[node]!]!++;
        if (av >= 0 && tree.eType.data[av] === T_FILE && tree.eLayer.data[av]! >= a) addUp(parent, size, node, tree.eSize.data[av]!);
      }
      return { vis, size, childCount, opaque, badge };
    });
  }

  view(mode: ViewMode, layerIndex: number, rangeStart = 0): ViewState {
    if (mode === 'merged') return this.merged(layerIndex);
    if (mode === 'layer') return this.layer(layerIndex);
    return this.range(Math.max(0, Math.min(rangeStart, layerIndex)), layerIndex);
  }

  /** Badge of `node` in a view (relative to the tree below the viewed layer / range). */
  private badgeOf(mode: ViewMode, layerIndex: number, state: ViewState, node: number): EntryKindBadge {
    if (state.badge) return BADGES[state.badge[node]!] ?? 'unchanged';
    const e = state.vis[node]!;
    if (e < 0) return 'unchanged';
    const { tree } = this;
    if (tree.eFlags.data[e]! & F_WHITEOUT) return 'deleted';
    if (mode === 'merged' && tree.eLayer.data[e] !== layerIndex) return 'unchanged';
    const below = this.merged(layerIndex - 1);
    return node === 0 || below.vis[node]! >= 0 ? 'modified' : 'added';
  }

  entryOf(mode: ViewMode, layerIndex: number, state: ViewState, node: number): DirectoryEntry {
    const { tree } = this;
    let e = state.vis[node]!;
    const kind = this.badgeOf(mode, layerIndex, state, node);
    let size = state.size[node]!;
    const isWhiteout = e >= 0 && (tree.eFlags.data[e]! & F_WHITEOUT) !== 0;
    // A deleted entry shows what it removed (type, size, mode of the lower copy).
    if (kind === 'deleted' && mode !== 'range') {
      const below = this.merged(layerIndex - 1);
      const prev = below.vis[node]!;
      size = prev >= 0 ? below.size[node]! : 0;
      if (prev >= 0) e = prev;
    }
    const name = tree.nodeName(node);
    const type = e >= 0 ? TYPE_NAMES[tree.eType.data[e]!]! : 'dir';
    return {
      name,
      path: tree.nodePath(node),
      type,
      size,
      mode: e >= 0 ? tree.eMode.data[e]! : 0o755,
      uid: e >= 0 ? tree.eUid.data[e]! : 0,
      gid: e >= 0 ? tree.eGid.data[e]! : 0,
      linkTarget: e >= 0 ? tree.linkTarget(e) : null,
      kind,
      whiteoutName: isWhiteout ? `.wh.${name}` : null,
      opaque: state.opaque[node] === 1,
      wasted: this.wastedNode ? this.wastedNode[node] === 1 : false,
      childCount: type === 'dir' ? state.childCount[node]! : 0,
      layerIndex: e >= 0 ? tree.eLayer.data[e]! : layerIndex,
      rawName: e >= 0 && (tree.eFlags.data[e]! & F_RAW) !== 0,
      ...(e >= 0 && tree.xattrs.has(e) ? { xattrs: tree.entryXattrs(e) } : {}),
    };
  }

  listDirectory(mode: ViewMode, layerIndex: number, dir: string, options: ListOptions = {}): DirectoryPage {
    const { tree } = this;
    this.checkLayer(layerIndex);
    const state = this.view(mode, layerIndex, options.rangeStart);
    const dirPath = normaliseQueryPath(dir);
    const node = tree.lookup(dirPath);
    if (node < 0 || (node > 0 && state.vis[node]! < 0)) throw new ImageReadError(dirPath || '/', `no such directory in this view`);
    if (node > 0 && tree.eType.data[state.vis[node]!] !== T_DIR) throw new ImageReadError(dirPath, `not a directory (${TYPE_NAMES[tree.eType.data[state.vis[node]!]!]})`);
    const filter = options.filter?.toLowerCase();
    const kinds = options.kinds ? new Set(options.kinds) : null;
    let rows: DirectoryEntry[] = [];
    for (let c = tree.nFirstChild.data[node]!; c >= 0; c = tree.nNextSibling.data[c]!) {
      if (state.vis[c]! < 0) continue;
      if (state.badge && state.badge[c] === B_NONE) continue;
      const entry = this.entryOf(mode, layerIndex, state, c);
      if (kinds && !kinds.has(entry.kind)) continue;
      if (options.wastedOnly && !entry.wasted) continue;
      if (filter && !entry.path.toLowerCase().includes(filter) && !(entry.type === 'dir' && this.subtreeMatches(state, c, filter))) continue;
      rows.push(entry);
    }
    rows = sortEntries(rows, options.sort ?? 'name', options.descending ?? false);
    const offset = Math.max(0, options.offset ?? 0);
    const limit = Math.max(0, options.limit ?? 1000);
    return { dir: dirPath, total: rows.length, offset, entries: rows.slice(offset, offset + limit) };
  }

  private subtreeMatches(state: ViewState, node: number, filter: string): boolean {
    const { tree } = this;
    const stack = [node];
    let visited = 0;
    while (stack.length) {
      const d = stack.pop()!;
      for (let c = tree.nFirstChild.data[d]!; c >= 0; c = tree.nNextSibling.data[c]!) {
        if (state.vis[c]! < 0) continue;
        if (++visited > 200_000) return true; // keep a filter on a huge tree interactive; show the dir
        if (tree.nodeName(c).toLowerCase().includes(filter) || tree.nodePath(c).toLowerCase().includes(filter)) return true;
        stack.push(c);
      }
    }
    return false;
  }

  stat(mode: ViewMode, layerIndex: number, path: string, rangeStart = 0): DirectoryEntry | null {
    this.checkLayer(layerIndex);
    const state = this.view(mode, layerIndex, rangeStart);
    const node = this.tree.lookup(normaliseQueryPath(path));
    if (node < 0 || (node > 0 && state.vis[node]! < 0)) return null;
    return this.entryOf(mode, layerIndex, state, node);
  }

  private checkLayer(layerIndex: number): void {
    if (!Number.isInteger(layerIndex) || layerIndex < 0 || layerIndex >= this.tree.layerCount) {
      throw new ImageReadError(`layer ${layerIndex}`, `no such layer (the image has ${this.tree.layerCount})`);
    }
  }

  /** The contract's change list for one layer: tar order, implied dirs left out. */
  layerChanges(layerIndex: number, page: PageOptions = {}): ChangePage {
    const { tree } = this;
    this.checkLayer(layerIndex);
    const list = tree.layerEntries[layerIndex]!;
    const below = this.merged(layerIndex - 1);
    const offset = Math.max(0, page.offset ?? 0);
    const limit = page.limit ?? Number.POSITIVE_INFINITY;
    const changes: LayerChange[] = [];
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const e = list.data[i]!;
      const f = tree.eFlags.data[e]!;
      if (f & F_IMPLIED) continue;
      const idx = total++;
      if (idx < offset || changes.length >= limit) continue;
      changes.push(this.change(e, below));
    }
    return { total, offset, changes };
  }

  private change(e: number, below: ViewState): LayerChange {
    const { tree } = this;
    const node = tree.eNode.data[e]!;
    const f = tree.eFlags.data[e]!;
    const path = tree.nodePath(node);
    const prev = below.vis[node]!;
    let kind: ChangeKind;
    let size = tree.eSize.data[e]!;
    let type = TYPE_NAMES[tree.eType.data[e]!]!;
    let whiteoutPath: string | null = null;
    if (f & F_OPAQUE) {
      kind = 'opaque';
      size = below.size[node]!;
      type = 'dir';
      whiteoutPath = path ? `${path}/.wh..wh..opq` : '.wh..wh..opq';
    } else if (f & F_WHITEOUT) {
      kind = 'deleted';
      size = prev >= 0 ? below.size[node]! : 0;
      type = prev >= 0 ? TYPE_NAMES[tree.eType.data[prev]!]! : 'file';
      const parentPath = tree.nodePath(tree.nParent.data[node]!);
      whiteoutPath = `${parentPath ? parentPath + '/' : ''}.wh.${tree.nodeName(node)}`;
    } else {
      kind = node === 0 || prev >= 0 ? 'modified' : 'added';
    }
    return {
      path, kind, type, size,
      mode: tree.eMode.data[e]!, uid: tree.eUid.data[e]!, gid: tree.eGid.data[e]!,
      linkTarget: tree.linkTarget(e), whiteoutPath, rawName: (f & F_RAW) !== 0, xattrs: tree.entryXattrs(e),
    };
  }
}

function addUp(parent: Int32Array, size: Float64Array, node: number, bytes: number): void {
  if (bytes === 0) return;
  for (let n = node; n >= 0; n = parent[n]!) size[n]! += bytes;
}

export function contractType(t: string): ContractEntryType {
  return t === 'file' || t === 'dir' || t === 'symlink' || t === 'hardlink' ? t : 'other';
}

export function normaliseQueryPath(p: string): string {
  return p.split('/').filter((s) => s !== '' && s !== '.').join('/');
}

function sortEntries(rows: DirectoryEntry[], key: string, desc: boolean): DirectoryEntry[] {
  const byName = (a: DirectoryEntry, b: DirectoryEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const cmp =
    key === 'size' ? (a: DirectoryEntry, b: DirectoryEntry) => a.size - b.size || byName(a, b)
      : key === 'kind' ? (a: DirectoryEntry, b: DirectoryEntry) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : byName(a, b))
        : key === 'type' ? (a: DirectoryEntry, b: DirectoryEntry) => (a.type < b.type ? -1 : a.type > b.type ? 1 : byName(a, b))
          : byName;
  rows.sort(desc ? (a, b) => cmp(b, a) : cmp);
  return rows;
}
