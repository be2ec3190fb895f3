import { cleanPath, globToRegExp, hasWildcard } from './dockerignore';
import type { PathOrder } from './pathOrder';

/**
 * Which entries COPY/ADD sources select, as BuildKit's copy resolves them: a path (its whole subtree when it is a
 * directory) or a Go filepath.Match pattern per segment. Works on any sorted path list (the live index, or the
 * manifest of a build record), so both sides of a diff select alike. Returns sorted positions into `sorted` and the
 * sources that matched nothing.
 */
export function selectSorted(sorted: readonly string[], isDir: (pos: number) => boolean, sources: readonly string[]): { positions: number[]; missing: string[] } {
  const picked = new Uint8Array(sorted.length);
  const missing: string[] = [];
  const pickRoot = (pos: number) => {
    picked[pos] = 1;
    if (isDir(pos)) {
      const [lo, hi] = subtreeRange(sorted, sorted[pos]!);
      picked.fill(1, lo, hi);
    }
  };
  for (const src of sources) {
    const clean = cleanPath(src);
    if (clean === '.') { picked.fill(1); continue; }
    let found = false;
    if (hasWildcard(clean)) {
      const segs = clean.split('/');
      const res = segs.map(globToRegExp);
      for (let k = 0; k < sorted.length; k++) {
        const ps = sorted[k]!.split('/');
        if (ps.length === segs.length && ps.every((s, j) => res[j]!.test(s))) { found = true; pickRoot(k); }
      }
    } else {
      const pos = lowerBound(sorted, clean);
      if (sorted[pos] === clean) { found = true; pickRoot(pos); }
    }
    if (!found) missing.push(src);
  }
  const positions: number[] = [];
  for (let k = 0; k < picked.length; k++) if (picked[k]) positions.push(k);
  return { positions, missing };
}

/** The entry tree `selectInTree` reads: the index's table and its path order (no path strings). */
export interface EntryTree {
  order(): PathOrder;
  /** Entry number of a path, -1 when absent. */
  lookup(rel: string): number;
  isDir(id: number): boolean;
  name(id: number): string;
  parent(id: number): number;
}

/**
 * `selectSorted`'s selection on the live index without a sorted list of path strings: a path is looked up, a pattern
 * is matched one segment per level of the tree (only the names of the candidates' children are decoded). Returns the
 * selected positions in path order (`tree.order`) and the sources that matched nothing.
 */
export function selectInTree(tree: EntryTree, sources: readonly string[]): { positions: Int32Array; missing: string[] } {
  const order = tree.order();
  const ids = order.ids;
  const picked = new Uint8Array(order.length);
  const missing: string[] = [];
  const pickRoot = (id: number) => {
    const pos = order.position(id);
    if (pos < 0) return;
    picked[pos] = 1;
    if (tree.isDir(id)) { const [lo, hi] = order.range(id); picked.fill(1, lo, hi); }
  };
  for (const src of sources) {
    const clean = cleanPath(src);
    if (clean === '.') { picked.fill(1); continue; }
    let found = false;
    if (hasWildcard(clean)) {
      const res = clean.split('/').map(globToRegExp);
      let level = [0];
      for (const re of res) {
        const next: number[] = [];
        for (const dir of level) {
          // A directory's children are among the positions below it (all of them for the root).
          const [lo, hi] = dir === 0 ? [0, ids.length] : order.range(dir);
          for (let p = lo; p < hi; p++) {
            const id = ids[p]!;
            if (tree.parent(id) === dir && re.test(tree.name(id))) next.push(id);
          }
        }
        level = next;
      }
      for (const id of level) { found = true; pickRoot(id); }
    } else {
      const id = tree.lookup(clean);
      if (id > 0) { found = true; pickRoot(id); }
    }
    if (!found) missing.push(src);
  }
  let n = 0;
  for (let k = 0; k < picked.length; k++) n += picked[k]!;
  const positions = new Int32Array(n);
  for (let k = 0, j = 0; k < picked.length; k++) if (picked[k]) positions[j++] = k;
  return { positions, missing };
}

/** [lo, hi) of the sorted positions strictly below `dir`. */
function subtreeRange(sorted: readonly string[], dir: string): [number, number] {
  // '0' is the character after '/': everything starting with `dir/` sorts in [dir/, dir0).
  return [lowerBound(sorted, dir + '/'), lowerBound(sorted, dir + '0')];
}

/** First position in `sorted` whose path is not before `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < key) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** The per-entry keys a source list selects from a manifest (path → key; directories' keys start with `dir:`). */
export function selectFromManifest(manifest: Record<string, string>, sources: readonly string[]): Record<string, string> {
  const sorted = Object.keys(manifest).sort();
  const out: Record<string, string> = {};
  for (const pos of selectSorted(sorted, (k) => manifest[sorted[k]!]!.startsWith('dir:'), sources).positions) out[sorted[pos]!] = manifest[sorted[pos]!]!;
  return out;
}
