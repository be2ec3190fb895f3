/**
 * Image-wide figures: wasted bytes (ours, each hidden copy once), dive's efficiency score and dive's wasted bytes.
 *
 * wastedBytes (contract): Σ sizes of regular-file copies written by some layer that the final image does not show —
 * replaced by a later layer, deleted by a whiteout, hidden by an opaque directory or by a non-directory replacing
 * a parent. The surviving copy is never counted (dive counts it too: wagoodman/dive#684).
 *
 * efficiency (dive's formula): for each layer, each *leaf* of that layer's tree contributes its size to its path;
 * a whiteout contributes the size it removes (contract; dive itself counts 0 for a removed file and the subtree
 * size for a removed directory), an opaque marker the bytes it hides. efficiency = Σ over paths of the smallest
 * contribution ÷ Σ of all contributions (1 when nothing). dive's wasted bytes = Σ contributions of paths seen in
 * two or more layers. `diveEfficiency`/`diveWastedBytes` reproduce dive's implementation exactly (removed files
 * count 0), so figures can be checked against dive's own (its test image: 0.9844212134184309 and 32025).
 */
import type { ImageSummary, WastedPath } from './imageModel';
import { F_IMPLIED, F_OPAQUE, F_WHITEOUT, T_DIR, T_FILE } from './imageTree';
import type { TreeViews } from './treeViews';

export function computeSummary(views: TreeViews, topWasted = 20): ImageSummary {
  const { tree } = views;
  const top = tree.layerCount - 1;
  const final = views.merged(top);
  const N = tree.nodeCount;
  const E = tree.entryCount;
  const wastedEntry = new Uint8Array(E);
  const wastedNode = new Uint8Array(N);
  const byPath = new Map<number, WastedPath>();
  let wastedBytes = 0;
  const parent = tree.nParent.data;

  for (let e = 0; e < E; e++) {
    if (tree.eType.data[e] !== T_FILE || tree.eFlags.data[e]! & (F_WHITEOUT | F_OPAQUE | F_IMPLIED)) continue;
    const size = tree.eSize.data[e]!;
    const node = tree.eNode.data[e]!;
    if (final.vis[node] === e || size === 0) continue;
    const layer = tree.eLayer.data[e]!;
    const hidden = hiddenBy(views, node, e, layer);
    wastedEntry[e] = 1;
    wastedBytes += size;
    for (let n = node; n >= 0 && !wastedNode[n]; n = parent[n]!) wastedNode[n] = 1;
    const w = byPath.get(node);
    if (w) {
      w.size += size;
      w.writtenBy.push(layer);
      if (hidden.layer > w.hiddenBy) {
        w.hiddenBy = hidden.layer;
        w.how = hidden.how;
      }
    } else byPath.set(node, { path: tree.nodePath(node), size, writtenBy: [layer], hiddenBy: hidden.layer, how: hidden.how });
  }
  views.wastedEntry = wastedEntry;
  views.wastedNode = wastedNode;
  for (const w of byPath.values()) w.writtenBy.sort((a, b) => a - b);
  const topList = [...byPath.values()].sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1)).slice(0, topWasted);

  const ours = diveEfficiency(views, false);
  const dive = diveEfficiency(views, true);
  let totalSize = 0;
  let userSize = 0;
  for (let l = 0; l <= top; l++) {
    totalSize += tree.layerContentSize[l]!;
    if (l > 0) userSize += tree.layerContentSize[l]!;
  }
  return {
    totalSize,
    storedSize: 0,
    userSize,
    wastedBytes,
    userWastedPercent: userSize > 0 ? wastedBytes / userSize : 0,
    diveWastedBytes: dive.wasted,
    efficiency: ours.efficiency,
    diveEfficiency: dive.efficiency,
    entryCount: tree.explicitEntryCount,
    topWasted: topList,
  };
}

/** The lowest layer above `layer` that hides entry e at `node`, and how. */
function hiddenBy(views: TreeViews, node: number, e: number, layer: number): { layer: number; how: WastedPath['how'] } {
  const { tree } = views;
  let best = { layer: tree.layerCount, how: 'replaced' as WastedPath['how'] };
  // the next entry above e at the same path
  for (let x = tree.nHead.data[node]!; x >= 0 && x !== e; x = tree.eNext.data[x]!) {
    const l = tree.eLayer.data[x]!;
    if (l <= layer || tree.eFlags.data[x]! & F_OPAQUE) continue;
    if (l < best.layer) best = { layer: l, how: tree.eFlags.data[x]! & F_WHITEOUT ? 'deleted' : 'replaced' };
  }
  // an ancestor deleted, made opaque, or replaced by a non-directory
  for (let a = tree.nParent.data[node]!; a >= 0; a = tree.nParent.data[a]!) {
    for (let x = tree.nHead.data[a]!; x >= 0; x = tree.eNext.data[x]!) {
      const l = tree.eLayer.data[x]!;
      if (l <= layer) break;
      if (l >= best.layer) continue;
      const f = tree.eFlags.data[x]!;
      if (f & F_OPAQUE) best = { layer: l, how: 'opaque' };
      else if (f & F_WHITEOUT) best = { layer: l, how: 'deleted' };
      else if (tree.eType.data[x] !== T_DIR) best = { layer: l, how: 'parent-replaced' };
    }
  }
  if (best.layer === tree.layerCount) best.layer = tree.layerCount - 1;
  return best;
}

/** `asDive`: count a removed *file* as 0 like dive's implementation does (the contract counts what it removes). */
function diveEfficiency(views: TreeViews, asDive: boolean): { efficiency: number; wasted: number } {
  const { tree } = views;
  const N = tree.nodeCount;
  const minSize = new Float64Array(N).fill(-1);
  const sum = new Float64Array(N);
  const count = new Uint16Array(N);
  const opaqueStats = new Map<number, { min: number; sum: number; count: number }>();
  const hasChild = new Uint8Array(N);
  const parent = tree.nParent.data;
  const add = (node: number, size: number) => {
    if (minSize[node]! < 0 || size < minSize[node]!) minSize[node] = size;
    sum[node]! += size;
    count[node] = Math.min(count[node]! + 1, 65535);
  };
  for (let l = 0; l < tree.layerCount; l++) {
    const list = tree.layerEntries[l]!;
    for (let i = 0; i < list.length; i++) {
      const e = list.data[i]!;
      const node = tree.eNode.data[e]!;
      if (tree.eFlags.data[e]! & F_OPAQUE) hasChild[node] = 1; // the marker is a child entry of its directory
      else if (node > 0) hasChild[parent[node]!] = 1;
    }
    let below: ReturnType<TreeViews['merged']> | null = null;
    for (let i = 0; i < list.length; i++) {
      const e = list.data[i]!;
      const node = tree.eNode.data[e]!;
      const f = tree.eFlags.data[e]!;
      if (f & F_OPAQUE) {
        below ??= views.merged(l - 1);
        const size = below.size[node]!;
        const s = opaqueStats.get(node) ?? { min: -1, sum: 0, count: 0 };
        if (s.min < 0 || size < s.min) s.min = size;
        s.sum += size;
        s.count++;
        opaqueStats.set(node, s);
        continue;
      }
      if (hasChild[node]) continue; // not a leaf in this layer's tree
      let size = 0;
      if (f & F_WHITEOUT) {
        below ??= views.merged(l - 1);
        const prev = below.vis[node]!;
        size = prev < 0 || (asDive && tree.eType.data[prev] !== T_DIR) ? 0 : below.size[node]!;
      } else if (tree.eType.data[e] === T_FILE) size = tree.eSize.data[e]!;
      add(node, size);
    }
    for (let i = 0; i < list.length; i++) {
      const node = tree.eNode.data[list.data[i]!]!;
      hasChild[node] = 0;
      if (node > 0) hasChild[parent[node]!] = 0;
    }
  }
  let minTotal = 0;
  let allTotal = 0;
  let wasted = 0;
  for (let n = 0; n < N; n++) {
    if (count[n] === 0) continue;
    minTotal += minSize[n]!;
    allTotal += sum[n]!;
    if (count[n]! >= 2) wasted += sum[n]!;
  }
  for (const s of opaqueStats.values()) {
    minTotal += s.min;
    allTotal += s.sum;
    if (s.count >= 2) wasted += s.sum;
  }
  return { efficiency: allTotal === 0 ? 1 : minTotal / allTotal, wasted };
}
