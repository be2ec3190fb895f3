/**
 * Access to the files of an image archive, whatever holds them: a tar file (indexed by reading only its 512-byte
 * headers and seeking over contents), a gzip-wrapped tar (indexed by one streaming pass; a blob is re-read by
 * decompressing again up to it, fine for the small archives that use this), or an OCI layout directory.
 * Nothing is extracted to disk.
 */
import { closeSync, createReadStream, openSync, promises as fsp, readSync, statSync, type Stats } from 'node:fs';
import { createGunzip } from 'node:zlib';
import * as path from 'node:path';
import { decodeHeader, parsePax, TarParser } from './tarParser';
import { ImageReadError } from './imageReadError';
import { decodeName } from './pathNames';

export interface ArchiveSource {
  readonly kind: 'tar' | 'gzip-tar' | 'dir';
  readonly label: string;
  has(name: string): boolean;
  /** Byte size of a file (after following archive symlinks), undefined if absent. */
  size(name: string): number | undefined;
  /** Every regular file name (for detection and error messages); may be empty for directories. */
  names(): string[];
  /** Whole file into memory, refusing more than `max` bytes. */
  readSmall(name: string, max: number): Promise<Buffer>;
  /** Where a member's bytes sit in a plain file (for seeking and for worker threads); null if compressed. */
  location(name: string): { file: string; offset: number; size: number } | null;
  /** Streams a file's bytes (optionally from `start`, at most `length` bytes). */
  stream(name: string, signal?: AbortSignal, start?: number, length?: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

const CHUNK = 1024 * 1024;

/** Normalises an archive member name: no `./` prefix, no leading `/`, no trailing `/`. */
export function normaliseMember(name: string): string {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.join('/');
}

interface Member {
  offset: number;
  size: number;
  link?: string;
}

/** The member a name leads to after following archive symlinks/hardlinks, with its final name. */
function resolveEntry(members: Map<string, Member>, name: string): { name: string; member: Member } | undefined {
  let m = members.get(name);
  let cur = name;
  for (let hops = 0; m?.link !== undefined; hops++) {
    if (hops > 16) return undefined; // symlink loop between archive members
    cur = m.link.startsWith('/') ? normaliseMember(m.link) : normaliseMember(path.posix.join(path.posix.dirname(cur), m.link));
    m = members.get(cur);
  }
  return m ? { name: cur, member: m } : undefined;
}

function resolveLink(members: Map<string, Member>, name: string): Member | undefined {
  return resolveEntry(members, name)?.member;
}

/** Bytes of a member of `size` bytes that a read of `length` (default: to the end) from `start` covers. */
function rangeLength(size: number, start: number, length: number | undefined): number {
  return Math.min(length ?? size, size - start);
}

/** A seekable tar file. */
export class TarFileSource implements ArchiveSource {
  readonly kind = 'tar' as const;
  private constructor(
    readonly label: string,
    private readonly file: string,
    private readonly fh: fsp.FileHandle,
    private readonly members: Map<string, Member>,
  ) {}

  static async open(file: string, label: string, fileSize: number): Promise<TarFileSource> {
    const fh = await fsp.open(file, 'r');
    try {
      const members = await indexTar(fh, fileSize, label);
      return new TarFileSource(label, file, fh, members);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  has(name: string): boolean {
    return resolveLink(this.members, name) !== undefined;
  }
  size(name: string): number | undefined {
    return resolveLink(this.members, name)?.size;
  }
  names(): string[] {
    return [...this.members.keys()];
  }
  location(name: string): { file: string; offset: number; size: number } | null {
    const m = resolveLink(this.members, name);
    return m ? { file: this.file, offset: m.offset, size: m.size } : null;
  }
  async readSmall(name: string, max: number): Promise<Buffer> {
    const m = resolveLink(this.members, name);
    if (!m) throw new ImageReadError(this.label, `missing ${name}`);
    if (m.size > max) throw new ImageReadError(this.label, `${name} is ${m.size} bytes, more than the ${max}-byte limit for metadata`);
    const buf = Buffer.alloc(m.size);
    const bytesRead = readFully(this.fh.fd, buf, m.offset);
    if (bytesRead !== m.size) throw new ImageReadError(this.label, `truncated archive (${name} is cut short)`);
    return buf;
  }
  async *stream(name: string, signal?: AbortSignal, start = 0, length?: number): AsyncIterable<Uint8Array> {
    const m = resolveLink(this.members, name);
    if (!m) throw new ImageReadError(this.label, `missing ${name}`);
    const len = rangeLength(m.size, start, length);
    if (len <= 0) return;
    const rs = createReadStream(this.file, { start: m.offset + start, end: m.offset + start + len - 1, highWaterMark: CHUNK, signal });
    let got = 0;
    for await (const chunk of rs) {
      got += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (got < len) throw new ImageReadError(this.label, `truncated archive (${name} is cut short)`);
  }
  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

/**
 * Reads `buf.length` bytes at `offset` (fewer only at the end of the file). Synchronous on purpose: metadata
 * reads are small and few, and each asynchronous one is a round trip through libuv's thread pool, which on a
 * busy machine cost more wall time than the reads (the outer index, manifest and config of an open).
 */
function readFully(fd: number, buf: Uint8Array, offset: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Reads only tar headers, seeking over contents (pread at each header offset). */
async function indexTar(fh: fsp.FileHandle, fileSize: number, label: string): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  // Meta entries (PAX, GNU long names) are small: read their content to fold the name override in.
  let offset = 0;
  // a Uint8Array like the layer reader's windows, so the header decoder sees one kind of array (no deopt)
  const block = new Uint8Array(512);
  let pendingName: Uint8Array | null = null;
  let pendingLink: Uint8Array | null = null;
  let count = 0;
  while (offset + 512 <= fileSize) {
    if (readFully(fh.fd, block, offset) < 512) break;
    const raw = decodeHeader(block, 0, label);
    if (!raw) break; // end-of-archive marker
    if (++count > 1_000_000) throw new ImageReadError(label, 'more than 1000000 files in the outer archive');
    if (count % 4096 === 0) await new Promise((r) => setImmediate(r)); // a server stays responsive on huge archives
    const typeByte = block[156]!;
    const dataOff = offset + 512;
    const next = dataOff + Math.ceil(raw.size / 512) * 512;
    if (dataOff + raw.size > fileSize) {
      throw new ImageReadError(label, `truncated archive: ${decodeName(raw.name).text} claims ${raw.size} bytes but only ${Math.max(0, fileSize - dataOff)} remain`);
    }
    if (typeByte === 0x78 || typeByte === 0x4c || typeByte === 0x4b) {
      if (raw.size > 4 * 1024 * 1024) throw new ImageReadError(label, 'oversized tar extended header');
      const meta = Buffer.alloc(raw.size);
      readFully(fh.fd, meta, dataOff);
      if (typeByte === 0x78) {
        const pax = parsePax(meta);
        if (pax.path) pendingName = pax.path;
        if (pax.linkpath) pendingLink = pax.linkpath;
      } else {
        const nul = meta.indexOf(0);
        const v = nul >= 0 ? meta.subarray(0, nul) : meta;
        if (typeByte === 0x4c) pendingName = v;
        else pendingLink = v;
      }
      offset = next;
      continue;
    }
    const name = normaliseMember(decodeName(pendingName ?? raw.name).text);
    const link = decodeName(pendingLink ?? raw.linkName).text;
    pendingName = pendingLink = null;
    if (raw.type === 'file' && name) members.set(name, { offset: dataOff, size: raw.size });
    else if ((raw.type === 'symlink' || raw.type === 'hardlink') && name) {
      // docker save links shared layers: `<id>/layer.tar -> ../<other>/layer.tar` (symlink) — hardlinks are
      // relative to the archive root, symlinks to the member's directory.
      const target = raw.type === 'hardlink' ? '/' + link : link;
      members.set(name, { offset: 0, size: 0, link: target });
    }
    offset = next;
  }
  if (members.size === 0) throw new ImageReadError(label, 'not an image archive (empty or not a tar file)');
  return members;
}

/** Members up to this size are kept from the indexing pass (manifests, configs, index.json, …). */
const SMALL_MEMBER = 1024 * 1024;
/** …up to this many bytes in all, so a hostile archive of many small files cannot fill memory. */
const SMALL_MEMBERS_TOTAL = 32 * 1024 * 1024;

/**
 * A tar wrapped in gzip (e.g. `docker save | gzip`). The indexing pass keeps small members (manifests, configs)
 * in memory, so planning the image costs no further decompression: without that, reading `manifest.json` (the
 * last member of a `docker save`) meant decompressing the whole archive again. Small layer blobs are served from
 * the same memory; bigger ones are streamed by decompressing up to them.
 */
export class GzipTarSource implements ArchiveSource {
  readonly kind = 'gzip-tar' as const;
  private constructor(
    readonly label: string,
    private readonly file: string,
    private readonly members: Map<string, Member>,
    private readonly small: Map<string, Buffer>,
  ) {}

  static async open(file: string, label: string, maxExpanded: number): Promise<GzipTarSource> {
    const members = new Map<string, Member>();
    const small = new Map<string, Buffer>();
    let smallTotal = 0;
    let current: { name: string; parts: Uint8Array[] } | null = null;
    let expanded = 0;
    const parser = new TarParser(
      {
        entry: (h) => {
          const name = normaliseMember(decodeName(h.name).text);
          if (h.type === 'file' && name) members.set(name, { offset: h.dataOffset, size: h.size });
          else if (h.type === 'symlink' && name) members.set(name, { offset: 0, size: 0, link: decodeName(h.linkName).text });
          else if (h.type === 'hardlink' && name) members.set(name, { offset: 0, size: 0, link: '/' + decodeName(h.linkName).text });
          small.delete(name); // a later member of the same name replaces the earlier one
          current = null;
          if (h.type === 'file' && name && h.size <= SMALL_MEMBER && smallTotal + h.size <= SMALL_MEMBERS_TOTAL) {
            smallTotal += h.size;
            current = { name, parts: [] };
            if (h.size === 0) small.set(name, Buffer.alloc(0));
            return h.size > 0;
          }
          return false;
        },
        // the chunk is the decompressor's output buffer: copy what we keep
        data: (chunk) => current?.parts.push(chunk.slice()),
        entryEnd: () => {
          if (current) small.set(current.name, Buffer.concat(current.parts));
          current = null;
        },
      },
      label,
    );
    try {
      for await (const chunk of createReadStream(file, { highWaterMark: CHUNK }).pipe(createGunzip({ chunkSize: CHUNK }))) {
        expanded += (chunk as Buffer).length;
        if (expanded > maxExpanded) throw new ImageReadError(label, `expands to more than ${maxExpanded} bytes (limit)`);
        parser.push(chunk as Buffer);
        if (parser.finished) break;
      }
      parser.end();
    } catch (e) {
      if (e instanceof ImageReadError) throw e;
      throw new ImageReadError(label, `corrupt gzip data (${(e as Error).message})`);
    }
    if (members.size === 0) throw new ImageReadError(label, 'not an image archive (empty tar inside gzip)');
    return new GzipTarSource(label, file, members, small);
  }

  has(name: string): boolean {
    return resolveLink(this.members, name) !== undefined;
  }
  size(name: string): number | undefined {
    return resolveLink(this.members, name)?.size;
  }
  names(): string[] {
    return [...this.members.keys()];
  }
  location(): null {
    return null;
  }
  async readSmall(name: string, max: number): Promise<Buffer> {
    const r = resolveEntry(this.members, name);
    if (!r) throw new ImageReadError(this.label, `missing ${name}`);
    if (r.member.size > max) throw new ImageReadError(this.label, `${name} is ${r.member.size} bytes, more than the ${max}-byte limit for metadata`);
    const kept = this.small.get(r.name);
    if (kept) return kept;
    const parts: Uint8Array[] = [];
    for await (const c of this.stream(name)) parts.push(c);
    return Buffer.concat(parts);
  }
  async *stream(name: string, signal?: AbortSignal, start = 0, length?: number): AsyncIterable<Uint8Array> {
    const r = resolveEntry(this.members, name);
    if (!r) throw new ImageReadError(this.label, `missing ${name}`);
    const m = r.member;
    const len = rangeLength(m.size, start, length);
    if (len <= 0) return;
    const kept = this.small.get(r.name);
    if (kept) {
      yield kept.subarray(start, start + len);
      return;
    }
    const from = m.offset + start;
    const to = from + len;
    let pos = 0;
    const gz = createReadStream(this.file, { highWaterMark: CHUNK, signal }).pipe(createGunzip({ chunkSize: CHUNK }));
    try {
      for await (const chunk of gz) {
        const c = chunk as Buffer;
        const s = Math.max(from - pos, 0);
        const e = Math.min(to - pos, c.length);
        if (e > s) yield c.subarray(s, e);
        pos += c.length;
        if (pos >= to) break;
      }
    } finally {
      gz.destroy();
    }
  }
  async close(): Promise<void> {}
}

/** An OCI image layout directory. Only names built from validated digests or fixed names are opened. */
export class DirSource implements ArchiveSource {
  readonly kind = 'dir' as const;
  constructor(readonly label: string, private readonly root: string) {}

  private resolve(name: string): string {
    const n = normaliseMember(name);
    if (n !== name || n.split('/').includes('..')) throw new ImageReadError(this.label, `refusing path ${name}`);
    return path.join(this.root, n);
  }
  private statOf(name: string): Stats | undefined {
    try {
      const st = statSync(this.resolve(name));
      return st.isFile() ? st : undefined;
    } catch {
      return undefined;
    }
  }
  has(name: string): boolean {
    return this.statOf(name) !== undefined;
  }
  size(name: string): number | undefined {
    return this.statOf(name)?.size;
  }
  names(): string[] {
    return ['oci-layout', 'index.json', 'manifest.json'].filter((n) => this.has(n));
  }
  location(name: string): { file: string; offset: number; size: number } | null {
    const size = this.size(name);
    return size === undefined ? null : { file: this.resolve(name), offset: 0, size };
  }
  async readSmall(name: string, max: number): Promise<Buffer> {
    const size = this.size(name);
    if (size === undefined) throw new ImageReadError(this.label, `missing ${name}`);
    if (size > max) throw new ImageReadError(this.label, `${name} is ${size} bytes, more than the ${max}-byte limit for metadata`);
    return fsp.readFile(this.resolve(name));
  }
  async *stream(name: string, signal?: AbortSignal, start = 0, length?: number): AsyncIterable<Uint8Array> {
    const size = this.size(name);
    if (size === undefined) throw new ImageReadError(this.label, `missing ${name}`);
    const len = rangeLength(size, start, length);
    if (len <= 0) return;
    yield* createReadStream(this.resolve(name), { start, end: start + len - 1, highWaterMark: CHUNK, signal }) as AsyncIterable<Buffer>;
  }
  async close(): Promise<void> {}
}

/** Opens whatever `file` is: a directory (OCI layout), a gzip-wrapped tar, or a tar. */
export async function openArchiveSource(file: string, maxExpanded: number): Promise<ArchiveSource> {
  const label = file;
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw new ImageReadError(label, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message);
  }
  if (st.isDirectory()) return new DirSource(label, file);
  if (!st.isFile()) throw new ImageReadError(label, 'not a regular file or directory');
  if (st.size < 512) {
    if (st.size === 0) throw new ImageReadError(label, 'empty file');
  }
  const head = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    readFully(fd, head, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return GzipTarSource.open(file, label, maxExpanded);
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    throw new ImageReadError(label, 'a zstd-compressed file; decompress it first (zstd -d) — only tar, gzip-wrapped tar and OCI layout directories are image archives');
  }
  if (st.size < 512) throw new ImageReadError(label, 'not an image archive (too short to be a tar file)');
  return TarFileSource.open(file, label, st.size);
}
