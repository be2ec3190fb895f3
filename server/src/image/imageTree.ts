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
import { FNV_OFFSET, FNV_PRIME, fnv1aString } from '../util/fnv1a';
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

function sameAscii(name: string, b: Uint8Array, s: number, e: number): boolean {
  if (name.length !== e - s) return false;
  for (let k = 0; k < name.length; k++) if (name.charCodeAt(k) !== b[s + k]) return false;
  return true;
}

/** Node's native latin1 slice where there is one (for ASCII bytes the same string as UTF-8 decoding, faster). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, s: number, e: number) => string }).latin1Slice;
const latin1 = new TextDecoder('latin1');

function asciiString(b: Uint8Array, s: number, e: number): string {
  return latin1Slice ? latin1Slice.call(b, s, e) : latin1.decode(b.subarray(s, e));
}

/** How warnings name an entry. */
function entryText(h: TarHeader): string {
  return clip(decodeName(h.name).text);
}

/** `placeAscii` returns this for a name it leaves to `placeSlow`. */
const NOT_PLACED = -2;
/** Deeper or longer names take the slow path (they are rare; the fast path's scratch arrays stay small). */
const MAX_FAST_DEPTH = 64;
const MAX_FAST_NAME = 4096;

/** The ancestors of the previous fast-path entry of a layer: their segments' bytes and bounds, and their nodes. */
interface AsciiAncestors {
  bytes: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
  nodes: Int32Array;
  depth: number;
}

/** Initial segment-table size (a power of two; the child table starts 4× that). */
const TABLE_SLOTS = 1024;

/** Most warnings kept per layer (the rest are counted). */
const MAX_WARNINGS = 50;

export interface TreeLimits {
  maxEntries: number;
  maxPathDepth: number;
}

export class ImageTree {
  readonly segNames: string[] = [];
  /**
   * Segment interning: open-addressing table of segment ids keyed by FNV-1a over the name's UTF-16 code units. For
   * an ASCII name that equals the hash of its bytes, so a tar header's name bytes are looked up without decoding
   * them (a string is made only for a segment seen for the first time).
   */
  private segSlots = new Int32Array(TABLE_SLOTS).fill(-1);
  /** Each segment's hash, so growing the table does not hash every name again. */
  private readonly segHashes = new GrowInt32();
  /**
   * Child index: open-addressing hash table of node ids keyed by (parent, segment) — the node itself stores both,
   * so a slot is 4 bytes and a lookup allocates nothing (a Map keyed by parent·2^26+segment had to box every key
   * beyond 2^31 as a heap number: ~2 lookups per tar entry, a visible share of an open's time and garbage).
   */
  private childSlots = new Int32Array(4 * TABLE_SLOTS).fill(-1);
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
  /**
   * Per layer, the entries that became whiteouts (in that order, an entry again if it became one again; a later
   * duplicate entry may have replaced one: check its flags). Layers have few, so imageReader's check of every
   * whiteout need not scan every entry: that scan was hot enough for V8 to compile it during every cold open.
   */
  readonly layerWhiteouts: number[][];
  readonly layerWarnings: string[][];
  readonly layerWarningCount: number[];
  readonly layerContentSize: number[];
  readonly layerDone: boolean[];
  /** Bumped whenever entries change, so view caches know to recompute. */
  generation = 0;
  private explicitCount = 0;
  private readonly absoluteWarned: boolean[] = [];
  private readonly lastAncestors: ({ segs: string[]; nodes: number[] } | undefined)[] = [];
  /** The ASCII fast path's ancestor cache per layer (see `placeAscii`). */
  private readonly asciiAncestors: (AsciiAncestors | undefined)[] = [];
  /** Segment bounds of the name being placed by `placeAscii` (scratch, reused). */
  private readonly segStart = new Int32Array(MAX_FAST_DEPTH);
  private readonly segEnd = new Int32Array(MAX_FAST_DEPTH);
  /** What `placeSlow` decided besides the node (scratch, so placing allocates no result object). */
  private placedType = 0;
  private placedFlags = 0;
  /** Names deeper than this take the slow path (which refuses those deeper than the limit, with a warning). */
  private readonly fastDepth: number;

  /**
   * `tableSlots`: the initial size of the segment table (the child table starts 4× that). Only the JIT warm-up
   * (layerReader's warmUpTreeRead) starts them small, so that its few entries grow both tables once.
   */
  constructor(readonly layerCount: number, private readonly limits: TreeLimits, tableSlots = TABLE_SLOTS) {
    if (layerCount > 65535) throw new ImageReadError('image', `${layerCount} layers (at most 65535 are supported)`);
    if (tableSlots !== TABLE_SLOTS) {
      this.segSlots = new Int32Array(tableSlots).fill(-1);
      this.childSlots = new Int32Array(4 * tableSlots).fill(-1);
    }
    this.layerEntries = Array.from({ length: layerCount }, () => new GrowInt32(64));
    this.layerWhiteouts = Array.from({ length: layerCount }, () => []);
    this.layerWarnings = Array.from({ length: layerCount }, () => []);
    this.layerWarningCount = new Array(layerCount).fill(0);
    this.layerContentSize = new Array(layerCount).fill(0);
    this.layerDone = new Array(layerCount).fill(false);
    this.fastDepth = Math.min(MAX_FAST_DEPTH, limits.maxPathDepth);
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

  /**
   * The node columns (and, in `newEntry`, the entry columns) always hold the same count with the same capacity:
   * one capacity check, then plain stores. A `push` call per column was a large share of an entry's cost while an
   * open's code still runs in the interpreter (most of a cold open's first layer).
   */
  private newNode(parent: number, seg: number): number {
    const id = this.nParent.length;
    if (id === this.nParent.data.length) for (const c of [this.nParent, this.nSeg, this.nFirstChild, this.nNextSibling, this.nHead]) c.reserve(id + 1);
    this.nParent.data[id] = parent;
    this.nSeg.data[id] = seg;
    this.nFirstChild.data[id] = -1;
    this.nHead.data[id] = -1;
    if (parent >= 0) {
      this.nNextSibling.data[id] = this.nFirstChild.data[parent]!;
      this.nFirstChild.data[parent] = id;
    } else this.nNextSibling.data[id] = -1;
    this.nParent.length = this.nSeg.length = this.nFirstChild.length = this.nNextSibling.length = this.nHead.length = id + 1;
    return id;
  }

  /** Segment id of `name`, -1 if absent and `create` is false. */
  private segId(name: string, create: boolean): number {
    const slots = this.segSlots;
    const mask = slots.length - 1;
    const h = fnv1aString(name);
    let i = h & mask;
    for (let id = slots[i]!; id >= 0; id = slots[i]!) {
      if (this.segNames[id] === name) return id;
      i = (i + 1) & mask;
    }
    return create ? this.newSeg(name, h, i) : -1;
  }

  /** Segment id of the ASCII bytes `b[s, e)`, created if absent. */
  private segIdAscii(b: Uint8Array, s: number, e: number): number {
    const slots = this.segSlots;
    const mask = slots.length - 1;
    let h = FNV_OFFSET;
    for (let k = s; k < e; k++) h = Math.imul(h ^ b[k]!, FNV_PRIME);
    let i = h & mask;
    for (let id = slots[i]!; id >= 0; id = slots[i]!) {
      if (sameAscii(this.segNames[id]!, b, s, e)) return id;
      i = (i + 1) & mask;
    }
    return this.newSeg(asciiString(b, s, e), h, i);
  }

  private newSeg(name: string, hash: number, slot: number): number {
    const id = this.segNames.push(name) - 1;
    this.segHashes.push(hash);
    this.segSlots[slot] = id;
    if (this.segNames.length * 2 > this.segSlots.length) this.growSegSlots();
    return id;
  }

  /**
   * Doubles the segment table (kept at most half full) and re-inserts every segment. Its own method, like
   * growChildSlots: a rare call is not inlined, so the optimised code of every caller stays smaller (V8 compiles
   * those during a cold open, on threads that take turns with the main thread on a 2-core machine).
   */
  private growSegSlots(): void {
    const slots = new Int32Array(this.segSlots.length * 2).fill(-1);
    const mask = slots.length - 1;
    const hashes = this.segHashes.data;
    for (let j = 0; j < this.segNames.length; j++) {
      let i = hashes[j]! & mask;
      while (slots[i]! >= 0) i = (i + 1) & mask;
      slots[i] = j;
    }
    this.segSlots = slots;
  }

  /** The child node `name` of `parent`; -1 if absent and `create` is false. */
  child(parent: number, name: string, create: boolean): number {
    const seg = this.segId(name, create);
    return seg < 0 ? -1 : this.childOf(parent, seg, create);
  }

  /** The child node with segment `seg` of `parent`; -1 if absent and `create` is false. */
  private childOf(parent: number, seg: number, create: boolean): number {
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
    const e = this.eNode.length;
    if (e === this.eNode.data.length) {
      for (const c of [this.eNode, this.eLayer, this.eType, this.eFlags, this.eMode, this.eUid, this.eGid, this.eSize, this.eDataOffset, this.eLink, this.eNext]) c.reserve(e + 1);
    }
    this.eNode.data[e] = node;
    this.eLayer.data[e] = layer;
    this.eType.data[e] = type;
    this.eFlags.data[e] = flags;
    this.eMode.data[e] = type === T_DIR ? 0o755 : 0;
    this.eUid.data[e] = 0;
    this.eGid.data[e] = 0;
    this.eSize.data[e] = 0;
    this.eDataOffset.data[e] = 0;
    this.eLink.data[e] = -1;
    this.eNode.length = this.eLayer.length = this.eType.length = this.eFlags.length = this.eMode.length = this.eUid.length =
      this.eGid.length = this.eSize.length = this.eDataOffset.length = this.eLink.length = this.eNext.length = e + 1;
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
    let type = TYPE_CODES[h.type] ?? T_FILE;
    let flags = h.xattrs ? F_XATTR : 0;
    let node = this.placeAscii(layer, h.name);
    if (node === NOT_PLACED) {
      node = this.placeSlow(layer, h, type);
      if (node < 0) return;
      type = this.placedType;
      flags |= this.placedFlags;
    } else if (node < 0) return;
    let e = this.entryInLayer(node, layer, (flags & F_OPAQUE) !== 0);
    if (e >= 0) {
      const old = this.eFlags.data[e]!;
      if (old & F_IMPLIED) {
        if (type !== T_DIR || flags & F_WHITEOUT) this.warn(layer, `${entryText(h)}: replaces a directory this layer already has entries below`);
      } else if (!(flags & F_OPAQUE)) {
        this.warn(layer, `${entryText(h)}: duplicate entry in one layer; the later one wins`);
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
    if (flags & F_WHITEOUT) {
      this.layerWhiteouts[layer]!.push(e);
      return;
    }
    if (h.xattrs) this.xattrs.set(e, h.xattrs.map(toXattr));
    else if (this.xattrs.size > 0) this.xattrs.delete(e); // a duplicate entry without them replaces one with them
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

  /**
   * The fast path for the common name: ASCII, no `..`, not a whiteout, not absolute before this layer's warning
   * about it, under MAX_FAST_DEPTH segments. Finds the entry's node (adding implied parent directories) straight
   * from the header's bytes: no string per entry (only for segments seen for the first time), no array. Returns
   * NOT_PLACED for any other name (`placeSlow` handles it, with the same result), -1 when the entry is skipped.
   */
  private placeAscii(layer: number, name: Uint8Array): number {
    const n = name.length;
    if (n === 0 || n > MAX_FAST_NAME || (name[0] === 0x2f && !this.absoluteWarned[layer])) return NOT_PLACED;
    let cache = this.asciiAncestors[layer];
    if (cache !== undefined && cache.depth > 0) {
      const node = this.placeInCachedDir(cache, name);
      if (node >= 0) return node;
    }
    const starts = this.segStart;
    const ends = this.segEnd;
    let depth = 0;
    let s = 0;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? name[i]! : 0x2f;
      if (c >= 0x80) return NOT_PLACED;
      if (c !== 0x2f) continue;
      const len = i - s;
      if (len > 0 && !(len === 1 && name[s] === 0x2e)) {
        if ((len === 2 && name[s] === 0x2e && name[s + 1] === 0x2e) || depth === this.fastDepth) return NOT_PLACED;
        starts[depth] = s;
        ends[depth++] = i;
      }
      s = i + 1;
    }
    if (depth === 0) return NOT_PLACED;
    const b0 = starts[depth - 1]!;
    if (name[b0] === 0x2e && name[b0 + 1] === 0x77 && name[b0 + 2] === 0x68 && name[b0 + 3] === 0x2e) return NOT_PLACED; // .wh.
    // Ancestors: those of the previous fast-path entry of this layer whose segments are the same are reused.
    if (!cache) this.asciiAncestors[layer] = cache = { bytes: new Uint8Array(256), starts: new Int32Array(MAX_FAST_DEPTH), ends: new Int32Array(MAX_FAST_DEPTH), nodes: new Int32Array(MAX_FAST_DEPTH), depth: 0 };
    const dirs = depth - 1;
    let k = 0;
    const cb = cache.bytes;
    while (k < dirs && k < cache.depth) {
      const cs = cache.starts[k]!;
      const len = ends[k]! - starts[k]!;
      if (cache.ends[k]! - cs !== len) break;
      let j = 0;
      const off = starts[k]!;
      while (j < len && cb[cs + j] === name[off + j]) j++;
      if (j < len) break;
      k++;
    }
    let node = k > 0 ? cache.nodes[k - 1]! : 0;
    if (k < dirs) {
      // a new directory: remember this entry's ancestors (and their bytes) for the next entry
      // whole arrays are copied below (only the ancestors' part is used): a view per copy was garbage per directory
      if (n > cb.length) cache.bytes = new Uint8Array(Math.max(n, cb.length * 2));
      cache.depth = 0;
      for (let a = k; a < dirs; a++) {
        node = this.childOf(node, this.segIdAscii(name, starts[a]!, ends[a]!), true);
        if (!this.ancestorOk(layer, node, name)) return -1;
        cache.nodes[a] = node;
      }
      cache.bytes.set(name);
      cache.starts.set(starts);
      cache.ends.set(ends);
      cache.depth = dirs;
      this.lastAncestors[layer] = undefined; // the slow path's cache may now be stale
    }
    return this.childOf(node, this.segIdAscii(name, b0, ends[depth - 1]!), true);
  }

  /**
   * Most entries are in the directory of the previous one: when the name is that directory's bytes, a slash and
   * one plain segment (ASCII, not starting with a dot, optionally a trailing slash), its node is found from that
   * segment alone; else NOT_PLACED (the full scan decides). Its own small function, so V8 optimises it early.
   */
  private placeInCachedDir(cache: AsciiAncestors, name: Uint8Array): number {
    const n = name.length;
    const p = cache.ends[cache.depth - 1]!;
    if (n <= p + 1 || name[p] !== 0x2f) return NOT_PLACED;
    const cb = cache.bytes;
    for (let i = 0; i < p; i++) if (cb[i] !== name[i]) return NOT_PLACED;
    const s = p + 1;
    const e = name[n - 1] === 0x2f ? n - 1 : n;
    if (e <= s || name[s] === 0x2e) return NOT_PLACED;
    for (let j = s; j < e; j++) if (name[j] === 0x2f || name[j]! >= 0x80) return NOT_PLACED;
    return this.childOf(cache.nodes[cache.depth - 1]!, this.segIdAscii(name, s, e), true);
  }

  /**
   * Any name (`placeAscii` declined it): decoded (non-UTF-8 bytes escaped), split, whiteouts and opaque markers
   * recognised. Returns the node, or -1 when the entry is skipped; the entry's type and flags go to `placedType`
   * and `placedFlags`.
   */
  private placeSlow(layer: number, h: TarHeader, headerType: number): number {
    const dn = decodeName(h.name);
    const sp = splitEntryPath(dn.text, this.limits.maxPathDepth);
    if (!sp.ok) {
      this.warn(layer, `${clip(dn.text)}: ${sp.why}; skipped`);
      return -1;
    }
    const segs = sp.segments;
    if (sp.absolute && segs.length > 0 && !this.absoluteWarned[layer]) {
      this.absoluteWarned[layer] = true;
      this.warn(layer, `${clip(dn.text)}: absolute paths in this layer, read as relative to the image root`);
    }
    let flags = dn.raw ? F_RAW : 0;
    let type = headerType;
    let depth = segs.length;
    if (depth > 0) {
      const base = segs[depth - 1]!;
      if (base.startsWith('.wh.')) {
        if (base === '.wh..wh..opq') {
          depth--;
          flags |= F_OPAQUE;
          type = T_DIR;
        } else if (base.startsWith('.wh..wh.')) {
          return -1; // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs), not part of the image's filesystem
        } else if (base.length === 4) {
          this.warn(layer, `${clip(dn.text)}: whiteout without a name; skipped`);
          return -1;
        } else {
          segs[depth - 1] = base.slice(4);
          flags |= F_WHITEOUT;
        }
      }
    }
    if (depth === 0 && !(flags & F_OPAQUE)) return -1; // the root itself ("./"): always a directory
    this.placedType = type;
    this.placedFlags = flags;
    // Parent directories: implied entries where the layer has none. Tar entries come grouped by directory, so the
    // ancestors of the previous entry of this layer (already checked and present in it) are reused.
    const fast = this.asciiAncestors[layer];
    if (fast) fast.depth = 0; // the fast path's cache may now be stale
    let node = 0;
    const cache = (this.lastAncestors[layer] ??= { segs: [], nodes: [] });
    let i = 0;
    while (i < depth - 1 && i < cache.segs.length && cache.segs[i] === segs[i]) node = cache.nodes[i++]!;
    cache.segs.length = cache.nodes.length = i;
    for (; i < depth - 1; i++) {
      node = this.child(node, segs[i]!, true);
      cache.segs.push(segs[i]!);
      cache.nodes.push(node);
      if (!this.ancestorOk(layer, node, h.name)) {
        cache.segs.length = cache.nodes.length = 0;
        return -1;
      }
    }
    return depth > 0 ? this.child(node, segs[depth - 1]!, true) : node;
  }

  /**
   * An ancestor directory of an entry of `layer`: gets an implied entry if the layer has none; false (with a
   * warning, the entry is skipped) if this layer made it something else than a directory, or a whiteout.
   */
  private ancestorOk(layer: number, node: number, name: Uint8Array): boolean {
    const pe = this.entryInLayer(node, layer);
    if (pe < 0) {
      this.newEntry(node, layer, T_DIR, F_IMPLIED);
      return true;
    }
    if (this.eType.data[pe] === T_DIR && !(this.eFlags.data[pe]! & F_WHITEOUT)) return true;
    this.warn(layer, `${clip(decodeName(name).text)}: below ${this.nodePath(node)}, which this layer made a ${this.eFlags.data[pe]! & F_WHITEOUT ? 'whiteout' : TYPE_NAMES[this.eType.data[pe]!]}; skipped`);
    const fast = this.asciiAncestors[layer];
    if (fast) fast.depth = 0;
    return false;
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
      this.eFlags, this.eMode, this.eUid, this.eGid, this.eSize, this.eDataOffset, this.eLink, this.eNext, this.segHashes, ...this.layerEntries]) a.trim();
    this.lastAncestors.length = 0;
    this.asciiAncestors.length = 0;
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
    bytes += this.childSlots.byteLength + this.segSlots.byteLength + this.segHashes.data.byteLength;
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
