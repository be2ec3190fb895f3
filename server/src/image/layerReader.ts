/**
 * Reads one layer blob: detects its compression by magic bytes, decompresses while streaming, verifies the blob
 * digest and the diffId (sha256 of the uncompressed tar) on the fly, enforces the expansion limit, and feeds
 * every tar header into the ImageTree. Contents are never stored; nothing touches the disk.
 *
 * zstd: Node 20 has no zlib zstd. We spawn Debian's `zstd -dc` when it is on PATH (native speed, and it runs in
 * another process, so layers decompress in parallel with our parsing), else fall back to the pure-JS `fzstd`.
 * `STRATA_ZSTD=fzstd|zstd` forces one (the benchmark measures both).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, promises as fsp, readSync } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import type { ArchiveSource } from './archiveSource';
import { hashFileRange, readLayerInWorker, workerStreamHash, workersAvailable } from './imageWorkerPool';
import type { LayerCompression } from './imageModel';
import { ImageReadError } from './imageReadError';
import type { ImageTree } from './imageTree';
import type { LayerPlan } from './manifestReader';
import { TarParser, type TarParserSink } from './tarParser';

const GZ_CHUNK = 256 * 1024;

/** Shared across the layers of one open: the decompression-bomb budget. */
export interface ExpansionBudget {
  used: number;
  max: number;
}

export function detectCompression(head: Uint8Array): LayerCompression | 'bzip2' | 'xz' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a) return 'xz';
  return 'none';
}

let zstdBinary: string | null | undefined;
/** Path of a usable `zstd` executable, or null. */
export function findZstd(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.STRATA_ZSTD === 'fzstd') return null;
  if (zstdBinary === undefined) {
    const r = spawnSync('zstd', ['--version'], { stdio: 'ignore' });
    zstdBinary = r.status === 0 ? 'zstd' : null;
  }
  return zstdBinary;
}

/** Pulls the first chunk so compression can be detected, then yields everything. */
async function peek(src: AsyncIterable<Uint8Array>): Promise<{ head: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const it = src[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? new Uint8Array(0) : first.value;
  async function* rest(): AsyncIterable<Uint8Array> {
    if (head.length) yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  return { head, rest: rest() };
}

async function* tapHash(src: AsyncIterable<Uint8Array>, hash: Hash | null, counter: { n: number }): AsyncIterable<Uint8Array> {
  for await (const c of src) {
    hash?.update(c);
    counter.n += c.length;
    yield c;
  }
}

function gunzip(src: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const gz = createGunzip({ chunkSize: GZ_CHUNK });
  return pipeline(Readable.from(src, { objectMode: false }), gz, () => undefined) as unknown as AsyncIterable<Uint8Array>;
}

async function* fzstdStream(src: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const out: Uint8Array[] = [];
  const d = new ZstdDecompress((chunk) => {
    out.push(chunk);
  });
  for await (const c of src) {
    d.push(c);
    while (out.length) yield out.shift()!;
  }
  d.push(new Uint8Array(0), true);
  while (out.length) yield out.shift()!;
}

async function* zstdProcess(src: AsyncIterable<Uint8Array>, bin: string): AsyncIterable<Uint8Array> {
  const child = spawn(bin, ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 500) stderr += d.toString();
  });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  let feedError: unknown;
  const feed = (async () => {
    try {
      for await (const c of src) {
        if (!child.stdin.write(c)) await new Promise((r) => child.stdin.once('drain', r));
      }
    } catch (e) {
      feedError = e;
    } finally {
      child.stdin.end();
    }
  })();
  child.stdin.on('error', () => undefined); // EPIPE when zstd stops early on corrupt input: reported via exit code
  try {
    for await (const c of child.stdout) yield c as Buffer;
    await feed;
    if (feedError) throw feedError;
    const code = await exited;
    if (code !== 0) throw new Error(stderr.trim().split('\n').pop() || `zstd exited with ${code}`);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** Decompressed bytes of a blob (by magic bytes), with the compressed bytes hashed into `blobHash`. */
export async function decompressedStream(
  raw: AsyncIterable<Uint8Array>,
  blobHash: Hash | null,
  counter: { n: number },
): Promise<{ compression: LayerCompression; stream: AsyncIterable<Uint8Array> }> {
  const { head, rest } = await peek(raw);
  const kind = detectCompression(head);
  const tapped = tapHash(rest, blobHash, counter);
  if (kind === 'bzip2' || kind === 'xz') throw new Error(`${kind}-compressed layers are not supported (only gzip, zstd and uncompressed tar)`);
  if (kind === 'gzip') return { compression: kind, stream: gunzip(tapped) };
  if (kind === 'zstd') {
    const bin = findZstd();
    return { compression: kind, stream: bin ? zstdProcess(tapped, bin) : fzstdStream(tapped) };
  }
  return { compression: 'none', stream: tapped };
}

export interface LayerReadResult {
  compression: LayerCompression;
  uncompressedSize: number;
  entries: number;
}

export interface LayerReadOptions {
  verify: boolean;
  budget: ExpansionBudget;
  signal?: AbortSignal;
  onBytes?: (compressedBytesRead: number) => void;
}

async function readHead(file: string, offset: number, n: number): Promise<Uint8Array> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const WINDOW = 64 * 1024;

/**
 * An uncompressed layer in a plain file: index it by reading only headers (seeking over file contents, like
 * `tar -t`), while a worker thread hashes the whole blob for verification in parallel.
 */
async function readUncompressedBySeeking(
  loc: { file: string; offset: number; size: number }, plan: LayerPlan, index: number, tree: ImageTree, opts: LayerReadOptions, what: string,
): Promise<LayerReadResult> {
  let entries = 0;
  const parser = new TarParser({ entry: (h) => { entries++; tree.addEntry(index, h); return false; } }, what);
  opts.budget.used += loc.size;
  if (opts.budget.used > opts.budget.max) {
    throw new ImageReadError(what, `expands past the ${opts.budget.max}-byte limit for the image (decompression bomb?; raise it with --max-bytes)`);
  }
  const [diffAlg, diffHex] = plan.diffId.split(':');
  const [blobAlg, blobHex] = plan.blobDigest ? plan.blobDigest.split(':') : [];
  const hashing = opts.verify ? hashFileRange(loc.file, loc.offset, loc.size, diffAlg ?? 'sha256') : null;
  hashing?.catch(() => undefined); // awaited below; avoid an unhandled rejection if the scan throws first
  // Synchronous preads: thousands of small reads through libuv's pool cost more in latency than the reads
  // themselves; the loop yields to the event loop every few hundred reads so a server stays responsive.
  const fd = openSync(loc.file, 'r');
  try {
    const win = new Uint8Array(WINDOW);
    let pos = 0;
    let reads = 0;
    while (pos < loc.size && !parser.finished) {
      const skip = parser.skippable;
      if (skip > 0) {
        const n = Math.min(skip, loc.size - pos);
        parser.skip(n);
        pos += n;
        continue;
      }
      const want = Math.min(WINDOW, loc.size - pos);
      const bytesRead = readSync(fd, win, 0, want, loc.offset + pos);
      if (bytesRead === 0) break;
      parser.push(win.subarray(0, bytesRead));
      pos += bytesRead;
      if (++reads % 256 === 0) {
        opts.onBytes?.(pos);
        await new Promise((r) => setImmediate(r));
        if (opts.signal?.aborted) throw new ImageReadError(what, 'cancelled');
      }
    }
  } finally {
    closeSync(fd);
  }
  if (loc.size === 0) throw new ImageReadError(what, 'empty layer blob (not a tar)');
  parser.end();
  if (hashing) {
    const { hex } = await hashing;
    if (blobHex && (blobAlg !== diffAlg || hex !== blobHex)) {
      if (blobAlg === diffAlg) throw new ImageReadError(what, `blob digest mismatch: the archive says ${plan.blobDigest}, the content hashes to ${blobAlg}:${hex}`);
    }
    if (hex !== diffHex) throw new ImageReadError(what, `diffId mismatch: the config says ${plan.diffId}, the uncompressed tar hashes to ${diffAlg}:${hex}`);
  }
  return { compression: 'none', uncompressedSize: loc.size, entries };
}

/** A compressed layer in a plain file: decompressed, hashed and parsed in a worker thread; entries indexed here. */
async function readCompressedInWorker(
  loc: { file: string; offset: number; size: number }, plan: LayerPlan, index: number, tree: ImageTree, opts: LayerReadOptions, what: string,
): Promise<LayerReadResult> {
  const [blobAlg, blobHex] = plan.blobDigest ? plan.blobDigest.split(':') : [];
  const [diffAlg, diffHex] = plan.diffId.split(':');
  let r;
  try {
    r = await readLayerInWorker({
      file: loc.file, offset: loc.offset, size: loc.size, what,
      blobAlgorithm: opts.verify && blobAlg ? blobAlg : null, diffAlgorithm: opts.verify && diffAlg ? diffAlg : null,
      maxBytes: Math.max(0, opts.budget.max - opts.budget.used),
    }, (headers) => {
      for (const h of headers) tree.addEntry(index, h);
    }, opts.signal);
  } catch (e) {
    if (e instanceof ImageReadError) throw e;
    const err = e as Error & { why?: string };
    if (opts.signal?.aborted || err.message === 'cancelled') throw new ImageReadError(what, 'cancelled');
    if (err.why === 'expands past the limit for the image (decompression bomb?; raise it with --max-bytes)') {
      throw new ImageReadError(what, `expands past the ${opts.budget.max}-byte limit for the image (decompression bomb?; raise it with --max-bytes)`);
    }
    if (err.why) throw new ImageReadError(what, err.why);
    const kind = detectCompression(await readHead(loc.file, loc.offset, 8));
    throw new ImageReadError(what, `${kind === 'zstd' ? 'corrupt zstd data' : 'corrupt gzip data'} (${err.message})`);
  }
  opts.budget.used += r.uncompressed;
  if (r.blobHex !== null && r.blobHex !== blobHex) {
    throw new ImageReadError(what, `blob digest mismatch: the archive says ${plan.blobDigest}, the content hashes to ${blobAlg}:${r.blobHex}`);
  }
  if (r.diffHex !== null && r.diffHex !== diffHex) {
    throw new ImageReadError(what, `diffId mismatch: the config says ${plan.diffId}, the uncompressed tar hashes to ${diffAlg}:${r.diffHex}`);
  }
  opts.onBytes?.(loc.size);
  return { compression: r.compression, uncompressedSize: r.uncompressed, entries: r.entries };
}

/** Reads layer `index` of an image into `tree`. Throws ImageReadError naming the layer on any failure. */
export async function readLayer(src: ArchiveSource, plan: LayerPlan, index: number, tree: ImageTree, opts: LayerReadOptions): Promise<LayerReadResult> {
  const what = `layer ${index} (${plan.digest.slice(0, 19)})`;
  const loc = src.location(plan.member);
  if (loc && process.env.STRATA_IMAGE_SEEK !== '0') {
    const head = loc.size > 0 ? await readHead(loc.file, loc.offset, Math.min(loc.size, 8)) : new Uint8Array(0);
    const kind = detectCompression(head);
    if (kind === 'none' && (!plan.blobDigest || plan.blobDigest.split(':')[0] === plan.diffId.split(':')[0])) {
      return readUncompressedBySeeking(loc, plan, index, tree, opts, what);
    }
    // Opt-in: on the benchmark machine (2 cores shared by many processes) decoding in worker threads measured
    // 1.5–3× slower than zlib's thread pool / the zstd process with parsing on the main thread.
    if ((kind === 'gzip' || kind === 'zstd') && process.env.STRATA_IMAGE_LAYER_WORKERS === '1' && workersAvailable()) {
      return readCompressedInWorker(loc, plan, index, tree, opts, what);
    }
  }
  const [blobAlg, blobHex] = plan.blobDigest ? plan.blobDigest.split(':') : [];
  // The compressed blob's digest: hashed by a worker thread straight from the file when it can (another core),
  // else on this thread as the bytes stream past.
  const blobInWorker = opts.verify && !!blobAlg && !!loc && workersAvailable();
  const blobHashing = blobInWorker ? hashFileRange(loc!.file, loc!.offset, loc!.size, blobAlg!) : null;
  blobHashing?.catch(() => undefined);
  const blobHash = opts.verify && blobAlg && !blobInWorker ? createHash(blobAlg) : null;
  const [diffAlg, diffHex] = plan.diffId.split(':');
  // The diffId hash of the decompressed bytes runs on a worker when there is one (it is the main thread's
  // biggest cost otherwise); the main thread only copies chunks over and parses headers.
  const diffRemote = opts.verify && diffAlg ? workerStreamHash(diffAlg) : null;
  const diffHash = opts.verify && diffAlg && !diffRemote ? createHash(diffAlg) : null;
  const counter = { n: 0 };
  let uncompressed = 0;
  let entries = 0;
  const sink: TarParserSink = {
    entry: (h) => {
      entries++;
      tree.addEntry(index, h);
      return false;
    },
  };
  const parser = new TarParser(sink, what);
  let compression: LayerCompression = plan.compression;
  try {
    const d = await decompressedStream(src.stream(plan.member, opts.signal), blobHash, counter);
    compression = d.compression;
    let lastReport = 0;
    for await (const chunk of d.stream) {
      if (opts.signal?.aborted) throw new ImageReadError(what, 'cancelled');
      uncompressed += chunk.length;
      opts.budget.used += chunk.length;
      if (opts.budget.used > opts.budget.max) {
        throw new ImageReadError(what, `expands past the ${opts.budget.max}-byte limit for the image (decompression bomb?; raise it with --max-bytes)`);
      }
      diffHash?.update(chunk);
      diffRemote?.update(chunk);
      parser.push(chunk);
      if (opts.onBytes && counter.n - lastReport > 4 * 1024 * 1024) {
        lastReport = counter.n;
        opts.onBytes(counter.n);
      }
    }
    if (uncompressed === 0) throw new ImageReadError(what, 'empty layer blob (not a tar)');
    parser.end();
  } catch (e) {
    diffRemote?.cancel();
    if (e instanceof ImageReadError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.name === 'AbortError' || opts.signal?.aborted) throw new ImageReadError(what, 'cancelled');
    const label = compression === 'gzip' ? 'corrupt gzip data' : compression === 'zstd' ? 'corrupt zstd data' : 'unreadable';
    throw new ImageReadError(what, `${label} (${err.message})`);
  }
  const diffGot = diffHash ? diffHash.digest('hex') : diffRemote ? await diffRemote.digest() : null;
  if (blobHash || blobHashing) {
    const got = blobHash ? blobHash.digest('hex') : (await blobHashing!).hex;
    if (got !== blobHex) throw new ImageReadError(what, `blob digest mismatch: the archive says ${plan.blobDigest}, the content hashes to ${blobAlg}:${got}`);
  }
  if (diffGot !== null && diffGot !== diffHex) {
    throw new ImageReadError(what, `diffId mismatch: the config says ${plan.diffId}, the uncompressed tar hashes to ${diffAlg}:${diffGot}`);
  }
  opts.onBytes?.(counter.n);
  return { compression, uncompressedSize: uncompressed, entries };
}

/** Bytes [offset, offset+length) of a layer's uncompressed tar (for reading one file back). */
export async function readLayerRange(
  src: ArchiveSource, plan: LayerPlan, compression: LayerCompression, offset: number, length: number, signal?: AbortSignal,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  const what = `layer blob ${plan.digest.slice(0, 19)}`;
  try {
    if (compression === 'none') {
      // Uncompressed: seek straight to the file's bytes.
      for await (const c of src.stream(plan.member, signal, offset, length)) {
        out.set(c.subarray(0, length - filled), filled);
        filled += c.length;
      }
      return out.subarray(0, Math.min(filled, length));
    }
    const d = await decompressedStream(src.stream(plan.member, signal), null, { n: 0 });
    let pos = 0;
    for await (const c of d.stream) {
      const s = Math.max(offset - pos, 0);
      const e = Math.min(offset + length - pos, c.length);
      if (e > s) {
        out.set(c.subarray(s, e), filled);
        filled += e - s;
      }
      pos += c.length;
      if (filled >= length) break;
    }
  } catch (e) {
    if (e instanceof ImageReadError) throw e;
    throw new ImageReadError(what, (e as Error).message);
  }
  return out.subarray(0, filled);
}
