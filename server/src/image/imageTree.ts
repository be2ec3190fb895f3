/**
 * The in-memory index of one image's layers: every tar entry of every layer, stored column-wise in typed arrays,
 * with paths as nodes of one trie of interned segments (a path is stored once however many layers touch it).
 *
 * Per node, the entries of all layers that touch it form a chain ordered from the top layer down, so
 * "what does layer N show at this path" is a short walk. Whiteouts (`D/.wh.N`) are entries on node `D/N` with
 * F_WHITEOUT; opaque markers (`D/.wh..wh..opq`) are entries on node `D` with F_OPAQUE. Directories a layer implies
 * (it has `a/b/c` but no `a/b` entry) get F_IMPLIED entries, so every layer is a complete tree by itself.
 * Layers may be added concurrently and out of order; chains stay sorted by layer.
 */
import { GrowFloat64, GrowInt32, GrowUint16, GrowUint32, GrowUint8 } from './growArrays';
import { ImageReadError } from './imageReadError';
import type { EntryType, Xattr } from './imageModel';
import { decodeName, splitEntryPath } from './pathNames';
import type { TarHeader, TarXattr } from './tarParser';

export const T_FILE = 0;
export const T_DIR = 1;
export const T_SYMLINK = 2;
export const T_HARDLINK = 3;
export const T_CHAR = 4;
export const T_BLOCK = 5;
export const T_FIFO = 6;
export const TYPE_NAMES: EntryType[] = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo'];

export const F_WHITEOUT = 1;
export const F_OPAQUE = 2;
export const F_IMPLIED = 4;
export const F_RAW = 8;
export const F_XATTR = 16;

const TYPE_CODES: Record<string, number> = {
  file: T_FILE, other: T_FILE, dir: T_DIR, symlink: T_SYMLINK, hardlink: T_HARDLINK, char: T_CHAR, block: T_BLOCK, fifo: T_FIFO,
};

function childHash(parent: number, seg: number): number {
  return (Math.imul(parent, 0x9e3779b1) ^ Math.imul(seg + 0x7f4a7c15, 0x85ebca77)) >>> 7;
}

/** Most warnings kept per layer (the rest are counted). */
const MAX_WARNINGS = 50;

export interface TreeLimits {
  maxEntries: number;
  maxPathDepth: number;
}

export class ImageTree {
  readonly segNames: string[] = [];
  private readonly segIds = new Map<string, number>();
  /**
   * Child index: open-addressing hash table of node ids keyed by (parent, segment) — the node itself stores both,
   * so a slot is 4 bytes and a lookup allocates nothing (a Map keyed by parent·2^26+segment had to box every key
   * beyond 2^31 as a heap number: ~2 lookups per tar entry, a visible share of an open's time and garbage).
   */
  private childSlots = new Int32Array(4096).fill(-1);
  private childCount = 0;

  // nodes (node 0 is the root)
  readonly nParent = new GrowInt32();
  readonly nSeg = new GrowInt32();
  readonly nFirstChild = new GrowInt32();
  readonly nNextSibling = new GrowInt32();
  readonly nHead = new GrowInt32();

  // entries
  readonly eNode = new GrowInt32();
  readonly eLayer = new GrowUint16();
  readonly eType = new GrowUint8();
  readonly eFlags = new GrowUint8();
  readonly eMode = new GrowUint32();
  readonly eUid = new GrowUint32();
  readonly eGid = new GrowUint32();
  readonly eSize = new GrowFloat64();
  /** Offset of the file's content in the layer's uncompressed tar (for reading one file back). */
  readonly eDataOffset = new GrowFloat64();
  readonly eLink = new GrowInt32();
  readonly eNext = new GrowInt32();
  readonly links: string[] = [];
  /** Extended attributes by entry: sparse (few entries have any), so a map instead of a column. */
  readonly xattrs = new Map<number, Xattr[]>();

  readonly layerEntries: GrowInt32[];
  readonly layerWarnings: string[][];
  readonly layerWarningCount: number[];
  readonly layerContentSize: number[];
  readonly layerDone: boolean[];
  /** Bumped whenever entries change, so view caches know to recompute. */
  generation = 0;
  private explicitCount = 0;
  private readonly absoluteWarned: boolean[] = [];
  private readonly lastAncestors: ({ segs: string[]; nodes: number[] } | undefined)[] = [];

  constructor(readonly layerCount: number, private readonly limits: TreeLimits) {
    if (layerCount > 65535) throw new ImageReadError('image', `${layerCount} layers (at most 65535 are supported)`);
    this.layerEntries = Array.from({ length: layerCount }, () => new GrowInt32(64));
    this.layerWarnings = Array.from({ length: layerCount }, () => []);
    this.layerWarningCount = new Array(layerCount).fill(0);
    this.layerContentSize = new Array(layerCount).fill(0);
    this.layerDone = new Array(layerCount).fill(false);
    this.newNode(-1, -1);
  }

  get nodeCount(): number {
    return this.nParent.length;
  }
  get entryCount(): number {
    return this.eNode.length;
  }
  /** Entries that came from tar headers (not implied directories). */
  get explicitEntryCount(): number {
    return this.explicitCount;
  }

  warn(layer: number, message: string): void {
    this.layerWarningCount[layer]!++;
    const list = this.layerWarnings[layer]!;
    if (list.length < MAX_WARNINGS) list.push(message);
    else if (list.length === MAX_WARNINGS) list.push('(more warnings not shown)');
  }

  private newNode(parent: number, seg: number): number {
    const id = this.nParent.push(parent);
    this.nSeg.push(seg);
    this.nFirstChild.push(-1);
    this.nNextSibling.push(-1);
    this.nHead.push(-1);
    if (parent >= 0) {
      this.nNextSibling.data[id] = this.nFirstChild.data[parent]!;
      this.nFirstChild.data[parent] = id;
    }
    return id;
  }

  private segId(name: string): number {
    let id = this.segIds.get(name);
    if (id === undefined) {
      id = this.segNames.length;
      this.segNames.push(name);
      this.segIds.set(name, id);
    }
    return id;
  }

  /** The child node `name` of `parent`; -1 if absent and `create` is false. */
  child(parent: number, name: string, create: boolean): number {
    const seg = create ? this.segId(name) : this.segIds.get(name);
    if (seg === undefined) return -1;
    const slots = this.childSlots;
    const mask = slots.length - 1;
    const nParent = this.nParent.data;
    const nSeg = this.nSeg.data;
    let i = childHash(parent, seg) & mask;
    for (let id = slots[i]!; id >= 0; id = slots[i]!) {
      if (nParent[id] === parent && nSeg[id] === seg) return id;
      i = (i + 1) & mask;
    }
    if (!create) return -1;
    const id = this.newNode(parent, seg);
    slots[i] = id;
    if (++this.childCount * 2 > slots.length) this.growChildSlots();
    return id;
  }

  /** Doubles the child table (kept at most half full) and re-inserts every node but the root. */
  private growChildSlots(): void {
    const slots = new Int32Array(this.childSlots.length * 2).fill(-1);
    const mask = slots.length - 1;
    const nParent = this.nParent.data;
    const nSeg = this.nSeg.data;
    for (let id = 1; id < this.nParent.length; id++) {
      let i = childHash(nParent[id]!, nSeg[id]!) & mask;
      while (slots[i]! >= 0) i = (i + 1) & mask;
      slots[i] = id;
    }
    this.childSlots = slots;
  }

  /** Node of a normalised path ('' = root), or -1. */
  lookup(path: string): number {
    if (path === '') return 0;
    let node = 0;
    for (const seg of path.split('/')) {
      if (seg === '') continue;
      node = this.child(node, seg, false);
      if (node < 0) return -1;
    }
    return node;
  }

  nodeName(node: number): string {
    const s = this.nSeg.data[node]!;
    return s < 0 ? '' : this.segNames[s]!;
  }

  nodePath(node: number): string {
    const parts: string[] = [];
    for (let n = node; n > 0; n = this.nParent.data[n]!) parts.push(this.segNames[this.nSeg.data[n]!]!);
    return parts.reverse().join('/');
  }

  /** This layer's entry for `node` (opaque markers only if `opaque`), or -1. */
  entryInLayer(node: number, layer: number, opaque = false): number {
    for (let e = this.nHead.data[node]!; e >= 0; e = this.eNext.data[e]!) {
      const l = this.eLayer.data[e]!;
      if (l < layer) return -1;
      if (l === layer && ((this.eFlags.data[e]! & F_OPAQUE) !== 0) === opaque) return e;
    }
    return -1;
  }

  private newEntry(node: number, layer: number, type: number, flags: number): number {
    if (this.eNode.length >= this.limits.maxEntries) {
      throw new ImageReadError(`layer ${layer}`, `more than ${this.limits.maxEntries} entries in the image (limit; raise it with --max-entries)`);
    }
    const e = this.eNode.push(node);
    this.eLayer.push(layer);
    this.eType.push(type);
    this.eFlags.push(flags);
    this.eMode.push(type === T_DIR ? 0o755 : 0);
    this.eUid.push(0);
    this.eGid.push(0);
    this.eSize.push(0);
    this.eDataOffset.push(0);
    this.eLink.push(-1);
    this.eNext.push(-1);
    // Insert into the node's chain, kept in descending layer order.
    const head = this.nHead.data[node]!;
    if (head < 0 || this.eLayer.data[head]! <= layer) {
      this.eNext.data[e] = head;
      this.nHead.data[node] = e;
    } else {
      let prev = head;
      while (this.eNext.data[prev]! >= 0 && this.eLayer.data[this.eNext.data[prev]!]! > layer) prev = this.eNext.data[prev]!;
      this.eNext.data[e] = this.eNext.data[prev]!;
      this.eNext.data[prev] = e;
    }
    this.layerEntries[layer]!.push(e);
    return e;
  }

  /** Adds one tar entry of `layer`. Problems with single entries become layer warnings, never exceptions. */
  addEntry(layer: number, h: TarHeader): void {
    this.generation++;
    const dn = decodeName(h.name);
    const sp = splitEntryPath(dn.text, this.limits.maxPathDepth);
    if (!sp.ok) {
      this.warn(layer, `${clip(dn.text)}: ${sp.why}; skipped`);
      return;
    }
    const segs = sp.segments;
    if (sp.absolute && segs.length > 0 && !this.absoluteWarned[layer]) {
      this.absoluteWarned[layer] = true;
      this.warn(layer, `${clip(dn.text)}: absolute paths in this layer, read as relative to the image root`);
    }
    let flags = dn.raw ? F_RAW : 0;
    if (h.xattrs) flags |= F_XATTR;
    let type = TYPE_CODES[h.type] ?? T_FILE;
    let depth = segs.length;
    if (depth > 0) {
      const base = segs[depth - 1]!;
      if (base.startsWith('.wh.')) {
        if (base === '.wh..wh..opq') {
          depth--;
          flags |= F_OPAQUE;
          type = T_DIR;
        } else if (base.startsWith('.wh..wh.')) {
          return; // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs), not part of the image's filesystem
        } else if (base.length === 4) {
          this.warn(layer, `${clip(dn.text)}: whiteout without a name; skipped`);
          return;
        } else {
          segs[depth - 1] = base.slice(4);
          flags |= F_WHITEOUT;
        }
      }
    }
    if (depth === 0 && !(flags & F_OPAQUE)) return; // the root itself ("./"): always a directory
    // Parent directories: implied entries where the layer has none. Tar entries come grouped by directory, so the
    // ancestors of the previous entry of this layer (already checked and present in it) are reused.
    let node = 0;
    const cache = (this.lastAncestors[layer] ??= { segs: [], nodes: [] });
    let i = 0;
    while (i < depth - 1 && i < cache.segs.length && cache.segs[i] === segs[i]) node = cache.nodes[i++]!;
    cache.segs.length = cache.nodes.length = i;
    for (; i < depth - 1; i++) {
      node = this.child(node, segs[i]!, true);
      cache.segs.push(segs[i]!);
      cache.nodes.push(node);
      const pe = this.entryInLayer(node, layer);
      if (pe < 0) {
        this.newEntry(node, layer, T_DIR, F_IMPLIED);
      } else if (this.eType.data[pe] !== T_DIR || this.eFlags.data[pe]! & F_WHITEOUT) {
        this.warn(layer, `${clip(dn.text)}: below ${this.nodePath(node)}, which this layer made a ${this.eFlags.data[pe]! & F_WHITEOUT ? 'whiteout' : TYPE_NAMES[this.eType.data[pe]!]}; skipped`);
        cache.segs.length = cache.nodes.length = 0;
        return;
      }
    }
    if (depth > 0) node = this.child(node, segs[depth - 1]!, true);
    let e = this.entryInLayer(node, layer, (flags & F_OPAQUE) !== 0);
    if (e >= 0) {
      const old = this.eFlags.data[e]!;
      if (old & F_IMPLIED) {
        if (type !== T_DIR || flags & F_WHITEOUT) this.warn(layer, `${clip(dn.text)}: replaces a directory this layer already has entries below`);
      } else if (!(flags & F_OPAQUE)) {
        this.warn(layer, `${clip(dn.text)}: duplicate entry in one layer; the later one wins`);
        if (this.eType.data[e] === T_FILE) this.layerContentSize[layer]! -= this.eSize.data[e]!;
      }
      this.eType.data[e] = type;
      this.eFlags.data[e] = flags;
      if (old & F_IMPLIED) this.explicitCount++;
    } else {
      e = this.newEntry(node, layer, type, flags);
      this.explicitCount++;
    }
    if (flags & F_OPAQUE) {
      // The marker makes its directory part of this layer even if the tar has no entry for it.
      if (node > 0 && this.entryInLayer(node, layer) < 0) this.newEntry(node, layer, T_DIR, F_IMPLIED);
      return;
    }
    if (flags & F_WHITEOUT) return;
    if (h.xattrs) this.xattrs.set(e, h.xattrs.map(toXattr));
    else this.xattrs.delete(e); // a duplicate entry without them replaces one with them
    this.eMode.data[e] = h.mode & 0o7777;
    this.eUid.data[e] = h.uid >>> 0;
    this.eGid.data[e] = h.gid >>> 0;
    const size = type === T_FILE ? h.size : 0;
    this.eSize.data[e] = size;
    this.eDataOffset.data[e] = h.dataOffset;
    this.layerContentSize[layer]! += size;
    if (type === T_SYMLINK || type === T_HARDLINK) {
      let target = decodeName(h.linkName).text;
      if (type === T_HARDLINK) target = target.split('/').filter((s) => s !== '' && s !== '.').join('/');
      this.eLink.data[e] = this.links.push(target) - 1;
    }
  }

  /** Called when a layer is completely read. */
  finishLayer(layer: number): void {
    this.layerDone[layer] = true;
    this.layerEntries[layer]!.trim();
    this.generation++;
  }

  /** Drops the spare capacity of every column once all layers are read (up to half the index's memory). */
  trimAll(): void {
    for (const a of [this.nParent, this.nSeg, this.nFirstChild, this.nNextSibling, this.nHead, this.eNode, this.eLayer, this.eType,
      this.eFlags, this.eMode, this.eUid, this.eGid, this.eSize, this.eDataOffset, this.eLink, this.eNext, ...this.layerEntries]) a.trim();
    this.lastAncestors.length = 0;
  }

  /** True when layers 0..n are all read (merged views up to n are complete). */
  doneThrough(n: number): boolean {
    for (let l = 0; l <= n; l++) if (!this.layerDone[l]) return false;
    return true;
  }

  entryXattrs(e: number): Xattr[] {
    return (e >= 0 && this.xattrs.get(e)) || [];
  }

  linkTarget(e: number): string | null {
    const l = this.eLink.data[e]!;
    return l < 0 ? null : this.links[l]!;
  }

  /** Approximate bytes held by the index (typed arrays + interned strings + maps), for the bytes/entry figure. */
  memoryEstimate(): number {
    const arrays = [this.nParent, this.nSeg, this.nFirstChild, this.nNextSibling, this.nHead, this.eNode, this.eLayer, this.eType,
      this.eFlags, this.eMode, this.eUid, this.eGid, this.eSize, this.eDataOffset, this.eLink, this.eNext, ...this.layerEntries];
    let bytes = arrays.reduce((s, a) => s + a.data.byteLength, 0);
    for (const s of this.segNames) bytes += 16 + s.length;
    for (const s of this.links) bytes += 16 + s.length;
    for (const list of this.xattrs.values()) for (const x of list) bytes += 64 + x.name.length + x.value.length;
    bytes += this.childSlots.byteLength + this.segIds.size * 40; // rough V8 hash-map cost per entry
    return bytes;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function toXattr(x: TarXattr): Xattr {
  if (!x.value.includes(0)) {
    try {
      return { name: x.name, value: utf8.decode(x.value), encoding: 'utf8' };
    } catch {
      // binary value (e.g. security.capability): base64 below
    }
  }
  return { name: x.name, value: Buffer.from(x.value).toString('base64'), encoding: 'base64' };
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 120)}…(${s.length} chars)` : s;
}
