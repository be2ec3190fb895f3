import { DIGEST_BYTES } from './fileHasher';
import { fnv1aString } from '../util/fnv1a';

/**
 * The context index's entries as columns, about 100 bytes per entry with no JS object or string per entry:
 * a path is stored as its parent's entry number plus its name's UTF-8 bytes in one shared Buffer, lookups by path go
 * through an open-addressing table of entry numbers (Int32Array) keyed by a hash of the path, and the metadata sits in
 * typed arrays. Path strings are built one at a time (`pathOf`); only directories' paths are cached, until `dropScratch`.
 *
 * Entry numbers are never reused: a removed entry keeps its slot (flag `GONE`) until the next full scan builds a
 * new table. Parents always have smaller numbers than their children (the walk is breadth-first and a watcher's new
 * file is only added under a directory already in the table).
 */
const GONE = 0x80;

export class EntryTable {
  /** Entries ever added (ids 0 … count-1, removed ones included). */
  count = 0;
  /** Live entries. */
  live = 0;
  private cap = 0;
  parent = new Int32Array(0);
  private nameAt = new Int32Array(0);
  private nameLen = new Uint16Array(0);
  private hash = new Int32Array(0);
  type = new Uint8Array(0);
  flags = new Uint8Array(0);
  mode = new Uint16Array(0);
  /** size, mtimeMs, ino per entry. */
  nums = new Float64Array(0);
  digests = Buffer.alloc(0);
  private names = Buffer.alloc(0);
  private namesUsed = 0;
  /** Open addressing, linear probing: entry number + 1, 0 = empty, -1 = removed. Length a power of two. */
  private slots = new Int32Array(0);
  /** Paths of entries that are parents (directories: about 1 % of a typical context), computed on demand. */
  private readonly dirPaths = new Map<number, string>();

  constructor(cap = 0) {
    if (cap) this.grow(cap);
  }

  add(rel: string, parent: number, name: string, type: number): number {
    if (this.count === this.cap) this.grow(Math.max(1024, this.cap * 2));
    const i = this.count++;
    this.parent[i] = parent;
    const need = this.namesUsed + name.length * 3;
    if (need > this.names.length) {
      const b = Buffer.allocUnsafe(Math.max(need, this.names.length * 2, 16384));
      this.names.copy(b, 0, 0, this.namesUsed);
      this.names = b;
    }
    const len = this.names.write(name, this.namesUsed, 'utf8');
    if (len > 0xffff) throw new Error(`file name too long: ${name.slice(0, 80)}…`);
    this.nameAt[i] = this.namesUsed;
    this.nameLen[i] = len;
    this.namesUsed += len;
    this.hash[i] = fnv1aString(rel);
    this.type[i] = type;
    this.flags[i] = 0;
    this.live++;
    if (this.count * 2 > this.slots.length) this.rehash(); else this.place(i);
    return i;
  }

  remove(i: number): void {
    if (i < 0 || i >= this.count || (this.flags[i]! & GONE)) return;
    const mask = this.slots.length - 1;
    for (let k = this.hash[i]! & mask; this.slots[k] !== 0; k = (k + 1) & mask) {
      if (this.slots[k] === i + 1) { this.slots[k] = -1; break; }
    }
    this.flags[i] = GONE;
    this.type[i] = 0;
    this.dirPaths.delete(i);
    this.live--;
  }

  gone(i: number): boolean {
    return (this.flags[i]! & GONE) !== 0;
  }

  /** Entry number of a live path, or -1. */
  lookup(rel: string): number {
    if (this.slots.length === 0) return -1;
    const h = fnv1aString(rel);
    const mask = this.slots.length - 1;
    for (let k = h & mask; ; k = (k + 1) & mask) {
      const s = this.slots[k]!;
      if (s === 0) return -1;
      if (s > 0 && this.hash[s - 1] === h && this.pathOf(s - 1) === rel) return s - 1;
    }
  }

  name(i: number): string {
    return this.names.toString('utf8', this.nameAt[i]!, this.nameAt[i]! + this.nameLen[i]!);
  }

  /** The entry's relative slash path ('' = root). */
  pathOf(i: number): string {
    const p = this.parent[i]!;
    if (p < 0) return '';
    return p === 0 ? this.name(i) : `${this.dirPath(p)}/${this.name(i)}`;
  }

  /**
   * Orders two entries' names, each optionally followed by '/', as the JS strings would sort (UTF-16 code units),
   * from their UTF-8 bytes without making strings. Byte order is code point order, which differs from UTF-16 order
   * only between a character above U+FFFF (4 bytes, lead F0–F4; surrogates D800–DFFF in UTF-16) and one in
   * U+E000–U+FFFF (lead EE or EF): that case is inverted.
   */
  compareNames(a: number, aSlash: boolean, b: number, bSlash: boolean): number {
    const names = this.names;
    const pa = this.nameAt[a]!;
    const pb = this.nameAt[b]!;
    const la = this.nameLen[a]!;
    const lb = this.nameLen[b]!;
    for (let k = 0; ; k++) {
      const ca = k < la ? names[pa + k]! : aSlash && k === la ? 0x2f : -1;
      const cb = k < lb ? names[pb + k]! : bSlash && k === lb ? 0x2f : -1;
      if (ca === cb) { if (ca < 0) return 0; continue; }
      if (ca >= 0xf0 && (cb === 0xee || cb === 0xef)) return -1;
      if (cb >= 0xf0 && (ca === 0xee || ca === 0xef)) return 1;
      return ca - cb;
    }
  }

  /** UTF-8 byte length of the entry's path. */
  pathBytes(i: number): number {
    let n = -1;
    for (let k = i; k > 0; k = this.parent[k]!) n += this.nameLen[k]! + 1;
    return n < 0 ? 0 : n;
  }

  /**
   * Writes the entry's path as UTF-8 at `out[at]` (the caller makes room for `pathBytes(i)`) and returns where it
   * ends: the bytes `Buffer.from(pathOf(i))` would hold, without making the string. Written back to front from the
   * names, so no list of ancestors is needed.
   */
  writePath(i: number, out: Uint8Array, at: number): number {
    const end = at + this.pathBytes(i);
    const names = this.names;
    let e = end;
    for (let k = i; k > 0; k = this.parent[k]!) {
      const len = this.nameLen[k]!;
      const from = this.nameAt[k]!;
      e -= len;
      for (let b = 0; b < len; b++) out[e + b] = names[from + b]!;
      if (this.parent[k]! > 0) out[--e] = 0x2f; // '/'
    }
    return end;
  }

  private dirPath(p: number): string {
    let s = this.dirPaths.get(p);
    if (s === undefined) { s = this.pathOf(p); this.dirPaths.set(p, s); }
    return s;
  }

  /** Drops the cached directory paths (an idle index holds no path strings). */
  dropScratch(): void {
    this.dirPaths.clear();
  }

  /** Drops the growth slack after a walk. */
  trim(): void {
    if (this.cap > this.count + 64) this.grow(this.count + 64);
    if (this.names.length > this.namesUsed + 4096) {
      const b = Buffer.allocUnsafe(this.namesUsed + 4096);
      this.names.copy(b, 0, 0, this.namesUsed);
      this.names = b;
    }
  }

  /** Bytes held by the columns, the names and the lookup table (bench). */
  get bytes(): number {
    return this.cap * (4 + 4 + 2 + 4 + 1 + 1 + 2 + 24 + DIGEST_BYTES) + this.names.length + this.slots.byteLength;
  }

  private grow(cap: number): void {
    const g = <T extends Int32Array | Uint16Array | Uint8Array | Float64Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a.subarray(0, Math.min(a.length, n)));
      return b;
    };
    this.parent = g(this.parent, cap);
    this.nameAt = g(this.nameAt, cap);
    this.nameLen = g(this.nameLen, cap);
    this.hash = g(this.hash, cap);
    this.type = g(this.type, cap);
    this.flags = g(this.flags, cap);
    this.mode = g(this.mode, cap);
    this.nums = g(this.nums, cap * 3);
    const d = Buffer.alloc(cap * DIGEST_BYTES);
    this.digests.copy(d, 0, 0, Math.min(this.digests.length, d.length));
    this.digests = d;
    this.cap = cap;
  }

  private rehash(): void {
    let n = 2048;
    while (n < this.count * 4) n *= 2;
    this.slots = new Int32Array(n);
    for (let i = 0; i < this.count; i++) if (!(this.flags[i]! & GONE)) this.place(i);
  }

  private place(i: number): void {
    const mask = this.slots.length - 1;
    let k = this.hash[i]! & mask;
    while (this.slots[k] !== 0) k = (k + 1) & mask;
    this.slots[k] = i + 1;
  }
}
