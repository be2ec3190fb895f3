/**
 * A push-based tar header parser (ustar, GNU long names, PAX). Hand-written rather than tar-stream because:
 * - the outer archive is indexed by *seeking* over contents (only 512-byte headers are read, see `indexTarFile`);
 * - layer tars are parsed from decompressed chunks without creating a stream object per entry (most entries'
 *   contents are skipped), which is the hot loop of `strata inspect`;
 * - names are kept as bytes until decoded, so non-UTF-8 names survive (tar-stream decodes them lossily).
 */
import { ImageReadError } from './imageReadError';

export type TarTypeFlag = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'other';

export interface TarHeader {
  /**
   * Path bytes as stored (PAX `path` or GNU long name or prefix/name). A copy, except from a parser made with
   * `viewNames`: then `name` and `linkName` may be views into the pushed chunk or into a scratch buffer that the
   * next header overwrites, and the header object itself is reused for the next entry: valid only during `entry()`.
   */
  name: Uint8Array;
  linkName: Uint8Array;
  type: TarTypeFlag;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Offset of the entry's content in the tar stream. */
  dataOffset: number;
  /** PAX `SCHILY.xattr.*` / `LIBARCHIVE.xattr.*` records (extended attributes: capabilities, SELinux labels, …). */
  xattrs: TarXattr[] | null;
}

export interface TarXattr {
  name: string;
  /** The value's bytes (a copy: never a view into a stream chunk). */
  value: Uint8Array;
}

const BLOCK = 512;
/** PAX/GNU long-name payloads larger than this are refused (a 100k-deep path is ~200 KB). */
const MAX_META_BYTES = 4 * 1024 * 1024;

function parseNumber(buf: Uint8Array, off: number, len: number): number {
  // GNU base-256: top bit set on the first byte; value in the remaining bits (big-endian).
  if (buf[off]! & 0x80) {
    if (buf[off]! & 0x40) return -1; // negative: invalid for sizes/ids
    let v = buf[off]! & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + buf[off + i]!;
    return v;
  }
  let v = 0;
  let i = off;
  const end = off + len;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++; // leading spaces/NULs
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return -1;
    v = v * 8 + (c - 0x30);
  }
  return v;
}

function cstr(buf: Uint8Array, off: number, len: number): Uint8Array {
  let end = off;
  const max = off + len;
  while (end < max && buf[end] !== 0) end++;
  return buf.subarray(off, end);
}

/**
 * Names decoded without copying (`decodeHeader` with `copy` false, for a `viewNames` parser) are copied here and
 * given as one of these views, one per length: no view object per entry (those were a third of a cold open's
 * garbage, and each young-generation collection there took 5–10 ms). Valid until the next header is decoded.
 */
const nameScratch = new Uint8Array(100);
const nameViews: Uint8Array[] = Array.from({ length: 101 }, (_, n) => nameScratch.subarray(0, n));

/** The NUL-terminated name field at `buf[off]` (100 bytes at most), in the scratch buffer. */
function scratchName(buf: Uint8Array, off: number): Uint8Array {
  let n = 0;
  for (; n < 100; n++) {
    const c = buf[off + n]!;
    if (c === 0) break;
    nameScratch[n] = c;
  }
  return nameViews[n]!;
}

function isZeroBlock(buf: Uint8Array, off: number): boolean {
  if (buf[off] !== 0) return false; // a header's name starts with a non-NUL byte: the common case is one test
  for (let i = off + 1, end = off + BLOCK; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** 32-bit words over the last ArrayBuffer a header was checked in (windows and chunks reuse their buffer). */
let wordsOf: ArrayBufferLike | null = null;
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/** The header's byte sum, the checksum field counted as 8 spaces. */
export function headerSum(buf: Uint8Array, off: number): number {
  const at = buf.byteOffset + off;
  if ((at & 3) !== 0) {
    // two plain loops around the checksum field (no per-byte branch)
    let sum = 8 * 0x20;
    for (let i = off, end = off + 148; i < end; i++) sum += buf[i]!;
    for (let i = off + 156, end = off + BLOCK; i < end; i++) sum += buf[i]!;
    return sum;
  }
  // Aligned (the usual case): 32-bit words, as two 16-bit lanes of byte pairs (126 words of at most 2 × 255 per
  // lane cannot carry from one lane into the other). 63 loop steps instead of 504, which matters most before V8
  // has optimised this (a cold open runs much of its first layer interpreted).
  if (buf.buffer !== wordsOf) {
    wordsOf = buf.buffer;
    words = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
  }
  const k0 = at >>> 2;
  const acc = laneSum(words, k0 + 39, k0 + 128, laneSum(words, k0, k0 + 37, 0));
  return (acc & 0xffff) + (acc >>> 16) + 8 * 0x20;
}

/** Adds words [from, to) into `acc` as two 16-bit lanes of byte pairs; two words per step (half the loop overhead). */
function laneSum(w: Uint32Array<ArrayBufferLike>, from: number, to: number, acc: number): number {
  let k = from;
  for (; k + 1 < to; k += 2) {
    const x = w[k]!;
    const y = w[k + 1]!;
    acc = (acc + (x & 0xff00ff) + ((x >>> 8) & 0xff00ff) + (y & 0xff00ff) + ((y >>> 8) & 0xff00ff)) | 0;
  }
  if (k < to) {
    const x = w[k]!;
    acc = (acc + (x & 0xff00ff) + ((x >>> 8) & 0xff00ff)) | 0;
  }
  return acc;
}

function checksumOk(buf: Uint8Array, off: number): boolean {
  const stored = parseNumber(buf, off + 148, 8);
  return stored >= 0 && headerSum(buf, off) === stored;
}

/** Type flag byte → type; an array indexed by the byte (a keyed object lookup per entry measured slower). */
const TYPE_MAP: TarTypeFlag[] = new Array<TarTypeFlag>(256).fill('other');
TYPE_MAP[0] = TYPE_MAP[0x30] = TYPE_MAP[0x37] = 'file';
TYPE_MAP[0x31] = 'hardlink';
TYPE_MAP[0x32] = 'symlink';
TYPE_MAP[0x33] = 'char';
TYPE_MAP[0x34] = 'block';
TYPE_MAP[0x35] = 'dir';
TYPE_MAP[0x36] = 'fifo';

export interface PaxOverrides {
  path?: Uint8Array;
  linkpath?: Uint8Array;
  size?: number;
  uid?: number;
  gid?: number;
  xattrs?: TarXattr[];
}

const latin1 = new TextDecoder('latin1');
const NO_PAX: PaxOverrides = Object.freeze({});

export function parsePax(data: Uint8Array): PaxOverrides {
  const out: PaxOverrides = {};
  let i = 0;
  while (i < data.length) {
    let sp = i;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = Number(latin1.decode(data.subarray(i, sp)));
    if (!Number.isInteger(len) || len <= 0 || i + len > data.length) break;
    const rec = data.subarray(sp + 1, i + len - 1); // without trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq > 0) {
      const key = latin1.decode(rec.subarray(0, eq));
      const value = rec.subarray(eq + 1);
      if (key === 'path') out.path = value;
      else if (key === 'linkpath') out.linkpath = value;
      else if (key === 'size') out.size = Number(latin1.decode(value));
      else if (key === 'uid') out.uid = Number(latin1.decode(value));
      else if (key === 'gid') out.gid = Number(latin1.decode(value));
      else if (key.startsWith('SCHILY.xattr.') || key.startsWith('LIBARCHIVE.xattr.')) {
        (out.xattrs ??= []).push({ name: key.slice(key.indexOf('xattr.') + 6), value: value.slice() });
      }
    }
    i += len;
  }
  return out;
}

/** Shared by every entry without a link name (most of them): zero-length, so nothing can write into it. */
const NO_LINK = new Uint8Array(0);

/**
 * Decodes one 512-byte header at `buf[off]` (its type flag byte is `buf[off + 156]`). Returns null for a zero
 * block (end of archive). Throws ImageReadError for a block that is not a tar header. With `copy` false, `name`
 * and `linkName` may be views into `buf` or into a scratch buffer the next call overwrites (see TarParser's
 * `viewNames`). With `into`, that object is filled and returned instead of a new one.
 */
export function decodeHeader(buf: Uint8Array, off: number, what: string, copy = true, into?: TarHeader): TarHeader | null {
  if (isZeroBlock(buf, off)) return null;
  if (!checksumOk(buf, off)) throw new ImageReadError(what, 'not a tar archive (bad header checksum)');
  const typeByte = buf[off + 156]!;
  const m = off + 257;
  const ustar = buf[m] === 0x75 && buf[m + 1] === 0x73 && buf[m + 2] === 0x74 && buf[m + 3] === 0x61 && buf[m + 4] === 0x72;
  let name = copy ? cstr(buf, off, 100) : scratchName(buf, off);
  // an empty prefix (the usual case) is one byte test, not a view
  if (ustar && buf[m + 5] === 0 && buf[off + 345] !== 0) {
    // POSIX ustar: prefix field (GNU uses those bytes for atime/ctime instead, hence the magic check).
    const prefix = cstr(buf, off + 345, 155);
    if (prefix.length) {
      const joined = new Uint8Array(prefix.length + 1 + name.length);
      joined.set(prefix, 0);
      joined[prefix.length] = 0x2f;
      joined.set(name, prefix.length + 1);
      name = joined;
    }
  }
  const size = parseNumber(buf, off + 124, 12);
  const mode = parseNumber(buf, off + 100, 8);
  const uid = parseNumber(buf, off + 108, 8);
  const gid = parseNumber(buf, off + 116, 8);
  if (size < 0 || !Number.isSafeInteger(size)) throw new ImageReadError(what, 'tar header has an invalid size field');
  const h = into ?? newHeader();
  h.name = copy && name.buffer === buf.buffer ? name.slice() : name;
  h.linkName = buf[off + 157] === 0 ? NO_LINK : copy ? cstr(buf, off + 157, 100).slice() : cstr(buf, off + 157, 100);
  h.type = TYPE_MAP[typeByte]!;
  h.mode = Math.max(mode, 0);
  h.uid = Math.max(uid, 0);
  h.gid = Math.max(gid, 0);
  h.size = size;
  h.dataOffset = 0;
  h.xattrs = null;
  return h;
}

/** Every header object is made here, so all share one shape (one hidden class for the hot loop's field reads). */
function newHeader(): TarHeader {
  return { name: NO_LINK, linkName: NO_LINK, type: 'other', mode: 0, uid: 0, gid: 0, size: 0, dataOffset: 0, xattrs: null };
}

export interface TarParserSink {
  /** A real entry (meta headers are folded in). Return true to receive its content via onData. */
  entry(h: TarHeader): boolean;
  data?(chunk: Uint8Array): void;
  entryEnd?(): void;
}

/**
 * Streaming tar parser: feed chunks with `push`, then `end()`. Contents of entries the sink does not want are
 * skipped without copying. Meta entries (PAX 'x'/'g', GNU 'L'/'K') are buffered up to MAX_META_BYTES.
 */
export class TarParser {
  private pos = 0; // bytes consumed from the stream
  private hdr = new Uint8Array(BLOCK);
  private hdrFill = 0;
  private remaining = 0; // content bytes left in the current entry
  private padding = 0; // padding bytes after content
  private wantData = false;
  private meta: { kind: number; buf: Uint8Array; fill: number } | null = null;
  private pendingPax: PaxOverrides = {};
  private globalPax: PaxOverrides = {};
  private hasPendingPax = false;
  private hasGlobalPax = false;
  private longName: Uint8Array | null = null;
  private longLink: Uint8Array | null = null;
  private ended = false;
  private inEntry = false;

  /**
   * `viewNames`: the sink reads the header inside `entry()` and keeps no reference to it or to its byte arrays,
   * so names need not be copied out of the chunk and one header object serves every entry (allocations per entry
   * are the indexing hot loop's garbage-collection cost).
   */
  constructor(private readonly sink: TarParserSink, private readonly what: string, private readonly viewNames = false) {
    this.reused = viewNames ? newHeader() : undefined;
  }

  private readonly reused: TarHeader | undefined;

  get bytesConsumed(): number {
    return this.pos;
  }

  /** True once the end-of-archive zero block was seen. */
  get finished(): boolean {
    return this.ended;
  }

  /** Parses `chunk[0..length)` (a length, so a reader's window is pushed without a view object per read). */
  push(chunk: Uint8Array, length = chunk.length): void {
    let i = 0;
    const n = length;
    while (i < n) {
      if (this.ended) {
        this.pos += n - i; // trailing zero padding / junk after the end marker is ignored
        return;
      }
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        if (this.meta) {
          this.meta.buf.set(chunk.subarray(i, i + take), this.meta.fill);
          this.meta.fill += take;
        } else if (this.wantData) this.sink.data?.(chunk.subarray(i, i + take));
        this.remaining -= take;
        i += take;
        this.pos += take;
        if (this.remaining === 0) this.finishContent();
        continue;
      }
      if (this.padding > 0) {
        const take = Math.min(this.padding, n - i);
        this.padding -= take;
        i += take;
        this.pos += take;
        continue;
      }
      // header bytes
      const take = Math.min(BLOCK - this.hdrFill, n - i);
      if (this.hdrFill === 0 && take === BLOCK) {
        this.onHeader(chunk, i);
      } else {
        this.hdr.set(chunk.subarray(i, i + take), this.hdrFill);
        this.hdrFill += take;
        if (this.hdrFill === BLOCK) {
          this.hdrFill = 0;
          this.onHeader(this.hdr, 0);
        }
      }
      i += take;
      this.pos += take;
    }
  }

  /**
   * Bytes that can be skipped without reading them right now (the current entry's unwanted content and padding),
   * or 0 when the parser needs the next bytes (a header, or meta content it buffers).
   */
  get skippable(): number {
    if (this.ended || this.meta || (this.remaining > 0 && this.wantData)) return 0;
    return this.remaining + this.padding;
  }

  /** Advances over `n` ≤ skippable bytes as if they had been pushed (used when seeking over contents). */
  skip(n: number): void {
    const fromContent = Math.min(n, this.remaining);
    this.remaining -= fromContent;
    this.pos += fromContent;
    if (fromContent > 0 && this.remaining === 0) this.finishContent();
    const fromPad = Math.min(n - fromContent, this.padding);
    this.padding -= fromPad;
    this.pos += fromPad;
  }

  /** Call at end of input; throws if the archive was cut short. */
  end(): void {
    if (this.remaining > 0 || this.hdrFill > 0 || this.meta) {
      throw new ImageReadError(this.what, `truncated tar (ends inside an entry at byte ${this.pos})`);
    }
    // A missing end-of-archive marker is tolerated (many writers omit it), but a missing entry body is not.
  }

  private finishContent(): void {
    if (this.meta) {
      const { kind, buf } = this.meta;
      this.meta = null;
      if (kind === 0x78) {
        this.pendingPax = { ...this.pendingPax, ...parsePax(buf) };
        this.hasPendingPax = true;
      } else if (kind === 0x67) {
        this.globalPax = { ...this.globalPax, ...parsePax(buf) };
        this.hasGlobalPax = true;
      }
      else if (kind === 0x4c) this.longName = cstr(buf, 0, buf.length).slice();
      else if (kind === 0x4b) this.longLink = cstr(buf, 0, buf.length).slice();
    } else if (this.inEntry) {
      this.inEntry = false;
      if (this.wantData) this.sink.entryEnd?.();
    }
  }

  private onHeader(buf: Uint8Array, off: number): void {
    const raw = decodeHeader(buf, off, this.what, !this.viewNames, this.reused);
    if (!raw) {
      this.ended = true;
      return;
    }
    const typeByte = buf[off + 156]!;
    const dataOffset = this.pos + BLOCK;
    if (typeByte === 0x78 || typeByte === 0x67 || typeByte === 0x4c || typeByte === 0x4b) {
      if (raw.size > MAX_META_BYTES) {
        throw new ImageReadError(this.what, `tar extended header of ${raw.size} bytes is larger than the ${MAX_META_BYTES}-byte limit`);
      }
      this.meta = { kind: typeByte, buf: new Uint8Array(raw.size), fill: 0 };
      this.remaining = raw.size;
      this.padding = (BLOCK - (raw.size % BLOCK)) % BLOCK;
      if (raw.size === 0) this.finishContent();
      return;
    }
    const pax = this.hasGlobalPax || this.hasPendingPax ? { ...this.globalPax, ...this.pendingPax } : NO_PAX;
    if (this.hasPendingPax) {
      this.pendingPax = {};
      this.hasPendingPax = false;
    }
    const h: TarHeader = raw;
    h.dataOffset = dataOffset;
    if (this.longName) h.name = this.longName;
    if (this.longLink) h.linkName = this.longLink;
    this.longName = this.longLink = null;
    if (pax.path) h.name = pax.path;
    if (pax.linkpath) h.linkName = pax.linkpath;
    if (pax.size !== undefined && Number.isSafeInteger(pax.size) && pax.size >= 0) h.size = pax.size;
    if (pax.uid !== undefined && Number.isSafeInteger(pax.uid)) h.uid = pax.uid;
    if (pax.gid !== undefined && Number.isSafeInteger(pax.gid)) h.gid = pax.gid;
    if (pax.xattrs) h.xattrs = pax.xattrs;
    // Only regular files carry content; for others the size field is ignored except by broken writers
    // (hardlinks with size are skipped like GNU tar does: size 0).
    const contentSize = h.type === 'file' || h.type === 'other' ? h.size : 0;
    if (h.type !== 'file') h.size = h.type === 'other' ? h.size : 0;
    this.wantData = this.sink.entry(h);
    this.inEntry = true;
    this.remaining = contentSize;
    this.padding = (BLOCK - (contentSize % BLOCK)) % BLOCK;
    if (contentSize === 0) this.finishContent();
  }
}
