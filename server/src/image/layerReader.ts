/**
 * Reads one layer blob: detects its compression by magic bytes, decompresses while streaming, verifies the blob
 * digest and the diffId (sha256 of the uncompressed tar) on the fly, enforces the expansion limit, and feeds
 * every tar header into the ImageTree. Contents are never stored; nothing touches the disk.
 *
 * zstd, in order of preference: Node's built-in zstd (Node ≥ 22.15 / 23.8; checked at run time; no process, no
 * pipe): for a layer in a plain file driven synchronously on a worker thread that also hashes and parses
 * (builtinZstdRange.ts), else `zlib.createZstdDecompress` as a stream on libuv's thread pool; else Debian's `zstd -dc` as a child process (native
 * speed in another process, so layers decode in parallel with our parsing; for a layer in a plain file its output
 * is read, hashed and parsed by a worker thread, see zstdFileRange.ts), else the pure-JS `fzstd`.
 * `STRATA_ZSTD=builtin|zstd|fzstd` forces one (the benchmark measures each).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import type { ArchiveSource } from './archiveSource';
import {
  hashFileRange, hashWorkersAvailable, readLayerInWorker, readZstdLayerInWorker, workerStreamHash, workersAvailable, ZstdWorkerUnavailable,
} from './imageWorkerPool';
import type { LayerCompression } from './imageModel';
import { ImageReadError } from './imageReadError';
import type { ImageTree } from './imageTree';
import type { LayerPlan } from './manifestReader';
import { TarParser, type TarHeader, type TarParserSink } from './tarParser';
import { zstdPipeSupported } from './zstdFileRange';
import { builtinZstdRangeAvailable, zlibZstdFactory, type ZstdFactory } from './builtinZstdRange';

const GZ_CHUNK = 256 * 1024;
/** Output chunk of the built-in zstd decoder: big, so per-chunk work (hash call, parser loop) is amortised. */
const ZSTD_CHUNK = 1024 * 1024;

/** Shared across the layers of one open: the decompression-bomb budget. */
export interface ExpansionBudget {
  used: number;
  max: number;
}

/** The error for a layer that takes the image past its expansion budget. */
function limitError(what: string, budget: ExpansionBudget): ImageReadError {
  return new ImageReadError(what, `expands past the ${budget.max}-byte limit for the image (decompression bomb?; raise it with --max-bytes)`);
}

export function detectCompression(head: Uint8Array): LayerCompression | 'bzip2' | 'xz' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a) return 'xz';
  return 'none';
}

/** zlib's zstd decoder (Node ≥ 22.15) unless `STRATA_ZSTD` picks another one; null on older runtimes. */
export function builtinZstd(env: NodeJS.ProcessEnv = process.env): ZstdFactory | null {
  if (env.STRATA_ZSTD === 'zstd' || env.STRATA_ZSTD === 'fzstd') return null;
  return zlibZstdFactory();
}

/** Which zstd decoder this runtime uses (for the benchmark and diagnostics). */
export function zstdDecoder(env: NodeJS.ProcessEnv = process.env): 'builtin' | 'zstd' | 'fzstd' {
  return builtinZstd(env) ? 'builtin' : findZstd(env) ? 'zstd' : 'fzstd';
}

let zstdBinary: string | null | undefined;
/** Path of a usable `zstd` executable, or null. */
export function findZstd(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.STRATA_ZSTD === 'fzstd' || env.STRATA_ZSTD === 'builtin') return null;
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
  const gz = zlib.createGunzip({ chunkSize: GZ_CHUNK });
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
    const builtin = builtinZstd();
    if (builtin) {
      const z = builtin({ chunkSize: ZSTD_CHUNK });
      return { compression: kind, stream: pipeline(Readable.from(tapped, { objectMode: false }), z, () => undefined) as unknown as AsyncIterable<Uint8Array> };
    }
    const bin = findZstd();
    return { compression: kind, stream: bin ? zstdProcess(tapped, bin) : fzstdStream(tapped) };
  }
  return { compression: 'none', stream: tapped };
}

/** How a layer's digest check ended (verification never throws: the reader turns this into per-layer state). */
export type VerifyOutcome = { state: 'verified' } | { state: 'mismatch' | 'error'; why: string };

export interface LayerReadResult {
  compression: LayerCompression;
  uncompressedSize: number;
  entries: number;
  /**
   * The layer's digest check: already settled for layers hashed while streaming, still running for uncompressed
   * layers indexed by seeking (hashed on worker threads); null when not verified.
   */
  verification: Promise<VerifyOutcome> | null;
}

/** Where an uncompressed layer sits in a plain file, so its tree can be indexed by seeking over contents. */
export interface SeekableLayer {
  file: string;
  offset: number;
  size: number;
}

function digestParts(d: string | null): [string | undefined, string | undefined] {
  if (!d) return [undefined, undefined];
  const i = d.indexOf(':');
  return i < 0 ? [undefined, undefined] : [d.slice(0, i), d.slice(i + 1)];
}

/** Compares a layer's hashes (null: not hashed) with its descriptor digest and diffId. */
function digestOutcome(plan: LayerPlan, blobHex: string | null, diffHex: string | null): VerifyOutcome {
  const [blobAlg, blobWant] = digestParts(plan.blobDigest);
  const [diffAlg, diffWant] = digestParts(plan.diffId);
  if (blobHex !== null && blobHex !== blobWant) return { state: 'mismatch', why: `blob digest mismatch: the archive says ${plan.blobDigest}, the content hashes to ${blobAlg}:${blobHex}` };
  if (diffHex !== null && diffHex !== diffWant) return { state: 'mismatch', why: `diffId mismatch: the config says ${plan.diffId}, the uncompressed tar hashes to ${diffAlg}:${diffHex}` };
  return { state: 'verified' };
}

/**
 * A digest check that never rejects (verification is per-layer state, see VerifyOutcome): a hashing failure is an
 * 'error' outcome, 'cancelled' when `signal` was aborted.
 */
function settled(check: () => Promise<VerifyOutcome>, signal?: AbortSignal): Promise<VerifyOutcome> {
  return check().catch((e: unknown) => ({ state: 'error', why: signal?.aborted ? 'cancelled' : `could not hash the layer (${(e as Error).message})` }));
}

/** A hashed blob range that came back short. */
function truncatedBlob(read: number, size: number): VerifyOutcome {
  return { state: 'error', why: `truncated archive (layer blob is cut short: ${read} of ${size} bytes)` };
}

/**
 * An uncompressed layer stored in a plain file (not behind gzip): its tree can be read by seeking, and its
 * digests checked by hashing the file range. Null for compressed layers and sources without file offsets.
 */
export async function seekableLayer(src: ArchiveSource, plan: LayerPlan): Promise<SeekableLayer | null> {
  const loc = src.location(plan.member);
  if (!loc || process.env.STRATA_IMAGE_SEEK === '0') return null;
  const head = loc.size > 0 ? await readHead(loc.file, loc.offset, Math.min(loc.size, 8)) : new Uint8Array(0);
  if (detectCompression(head) !== 'none') return null;
  // the blob digest and the diffId are the same bytes' hash: one pass checks both (when the algorithms agree)
  if (plan.blobDigest && digestParts(plan.blobDigest)[0] !== digestParts(plan.diffId)[0]) return null;
  return loc;
}

/**
 * Verifies an uncompressed layer by hashing its file range once (its sha256 is both the blob digest and the
 * diffId) on a worker thread: 1 MiB reads straight from the file, no copies to or from this thread.
 */
export function verifySeekableLayer(loc: SeekableLayer, plan: LayerPlan, signal?: AbortSignal): Promise<VerifyOutcome> {
  const [diffAlg] = digestParts(plan.diffId);
  return settled(async () => {
    const { hex, read } = await hashFileRange(loc.file, loc.offset, loc.size, diffAlg ?? 'sha256', signal, true);
    if (read < loc.size) return truncatedBlob(read, loc.size);
    return digestOutcome(plan, plan.blobDigest ? hex : null, hex);
  }, signal);
}

export interface LayerReadOptions {
  verify: boolean;
  /** From `seekableLayer` (undefined: probe here). Its verification is the caller's (`verifySeekableLayer`). */
  seekable?: SeekableLayer | null;
  budget: ExpansionBudget;
  signal?: AbortSignal;
  onBytes?: (compressedBytesRead: number) => void;
}

/** A blob's first bytes (for its magic number); synchronous: a few bytes do not merit a thread-pool round trip. */
async function readHead(file: string, offset: number, n: number): Promise<Uint8Array> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, offset));
  } finally {
    closeSync(fd);
  }
}

const WINDOW = 64 * 1024;
/**
 * First read after seeking over a file's contents: most entries that follow a skip are either a big file (whose
 * contents a 64 KiB window would copy only to skip them) or a run of small ones; start small and grow while the
 * parser keeps consuming every byte.
 */
const SMALL_WINDOW = 16 * 1024;

/**
 * Feeds one layer's headers into the tree. A class rather than a closure per layer: the parser's call to `entry`
 * then has one target for every layer (a new closure is a new call target, which deoptimises the parser's loop
 * when the second layer starts).
 */
class TreeSink implements TarParserSink {
  entries = 0;
  constructor(private readonly tree: ImageTree, private readonly index: number) {}
  entry(h: TarHeader): boolean {
    this.entries++;
    this.tree.addEntry(this.index, h);
    return false;
  }
}

/** Progress and a turn of the event loop, every few hundred reads (out of the read loop: its callbacks differ per layer). */
async function pause(opts: LayerReadOptions, pos: number, what: string): Promise<void> {
  opts.onBytes?.(pos);
  await new Promise((r) => setImmediate(r));
  if (opts.signal?.aborted) throw new ImageReadError(what, 'cancelled');
}

/**
 * One ustar header block for the warm-up archive (see warmUpTreeRead). The checksum adds up only the fields written
 * (a loop over all 512 bytes of each header would itself be hot enough for V8 to optimise it).
 */
function warmUpHeader(name: string, type: string, size = 0, link = '', prefix = ''): Uint8Array {
  const h = Buffer.alloc(512);
  const fields: Array<[number, string]> = [
    [0, name], [100, '0000644'], [108, '0000000'], [116, '0000000'], [124, size.toString(8).padStart(11, '0')],
    [136, '00000000000'], [156, type], [157, link], [257, 'ustar'], [263, '00'], [345, prefix],
  ];
  let sum = 8 * 0x20;
  for (const [at, text] of fields) {
    h.write(text, at, 'latin1');
    for (let i = 0; i < text.length; i++) sum += text.charCodeAt(i);
  }
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A block-padded payload (file contents, PAX records, a GNU long name). */
function warmUpData(text: string): Uint8Array {
  const b = Buffer.alloc(Math.ceil(text.length / 512) * 512);
  b.write(text, 0, 'latin1');
  return b;
}

/** A small archive with one entry of every kind a layer may hold (see warmUpTreeRead). */
function warmUpArchive(): Uint8Array {
  // a plain Uint8Array like the read window (a Buffer's views would be a second kind of array in the hot code)
  const pax = '22 path=w/pax/renamed\n' + '25 SCHILY.xattr.user.k=v\n';
  const long = 'w/long/'.padEnd(120, 'n');
  return new Uint8Array(Buffer.concat([
    warmUpHeader('./', '5'), warmUpHeader('./w/', '5'), warmUpHeader('./w/a', '0', 600), warmUpData('a'.repeat(600)),
    warmUpHeader('x', '0', 3, '', 'w/prefixed'), warmUpData('xyz'), warmUpHeader('./w/s', '2', 0, 'a'),
    warmUpHeader('./w/h', '1', 0, './w/a'), warmUpHeader('PaxHeaders/x', 'x', pax.length), warmUpData(pax),
    warmUpHeader('./w/pax', '0'), warmUpHeader('././@LongLink', 'L', long.length + 1), warmUpData(`${long}\0`),
    warmUpHeader('./w/l', '0'), warmUpHeader('/abs/f', '0'), warmUpHeader('./w/.wh.gone', '0'),
    warmUpHeader('./w/o/.wh..wh..opq', '0'), warmUpHeader('./w/c', '3'), warmUpHeader('./w/f', '6'),
    warmUpHeader('./w/caf\xe9', '0'), warmUpHeader('./w/x/../y', '0'),
    // enough segments for the tree's tables to grow after V8 has allocated their functions' feedback
    ...Array.from({ length: 40 }, (_, i) => warmUpHeader(`./w/d/f${i}`, '0')), Buffer.alloc(1024),
  ]));
}

/**
 * Runs a small archive with every kind of entry (prefixed, PAX and GNU long names, links, whiteouts, absolute,
 * non-UTF-8 and `..` names, the end marker) through the parser into `tree`, once per layer of that throwaway tree,
 * in chunks that split headers and skip contents: once per process, before the first tree read (imageReader makes
 * the tree: 3 layers, hash tables of 2 slots so that they grow).
 * Why: V8 optimises the hot functions (decodeHeader, onHeader, addEntry, newEntry, placeAscii, …) after a few
 * hundred entries, from the type feedback seen so far; a branch not yet taken then (the first prefixed name, the
 * end marker, a node that a second layer touches, a table growing) throws the optimised code away. In a cold open of
 * the benchmark image that was 5–6 deoptimisations, whose recompiles took ~70 ms on V8's background threads
 * (`--trace-opt`) — threads that on a 2-core machine take turns with the main thread. With every branch taken
 * first (a branch taken only before V8 allocated the function's feedback vector does not count: hence 3 layers and
 * the 40 extra files), a cold open deoptimises nothing. The warm-up costs ~3–5 ms cold, much of it compiling code
 * the first layer would compile anyway.
 */
export function warmUpTreeRead(tree: ImageTree): void {
  const tar = warmUpArchive();
  for (let layer = 0; layer < tree.layerCount; layer++) {
    const parser = new TarParser(new TreeSink(tree, layer), 'warm-up', true);
    for (let pos = 0; pos < tar.length && !parser.finished;) {
      const skip = parser.skippable;
      if (skip > 0) {
        parser.skip(skip);
        pos += skip;
        continue;
      }
      const end = Math.min(pos + 700, tar.length);
      parser.push(tar.subarray(pos, end));
      pos = end;
    }
    parser.end();
  }
}

/** Reads between progress reports and cancellation checks when seeking over a layer. */
const READS_PER_TURN = 256;

/**
 * Reads an uncompressed layer's headers from a file by seeking over file contents (like `tar -t`): synchronous
 * preads into one window, pushed as (window, length) rather than a view per read. A synchronous method called once
 * per few hundred reads rather than a loop in the async function around it: V8 compiled that async function only
 * once per open, late (`--trace-opt`), while this small method is optimised early; in an interleaved A/B this
 * alone saved ~5–10 ms of main-thread time in a cold open of the benchmark image.
 */
class LayerSeeker {
  private readonly win = new Uint8Array(WINDOW);
  private window = SMALL_WINDOW;
  pos = 0;

  constructor(private readonly fd: number, private readonly loc: SeekableLayer, private readonly parser: TarParser) {}

  /** Reads on until the end of the layer or `maxReads` reads; true when the layer is read. */
  run(maxReads: number): boolean {
    const { parser, loc } = this;
    let reads = 0;
    while (this.pos < loc.size && !parser.finished) {
      const skip = parser.skippable;
      if (skip > 0) {
        const n = Math.min(skip, loc.size - this.pos);
        parser.skip(n);
        this.pos += n;
        this.window = SMALL_WINDOW;
        continue;
      }
      if (reads === maxReads) return false;
      const want = Math.min(this.window, loc.size - this.pos);
      this.window = Math.min(this.window * 4, WINDOW);
      const bytesRead = readSync(this.fd, this.win, 0, want, loc.offset + this.pos);
      reads++;
      if (bytesRead === 0) break;
      parser.push(this.win, bytesRead);
      this.pos += bytesRead;
    }
    return true;
  }
}

/**
 * An uncompressed layer in a plain file: index it by reading only headers (seeking over file contents, like
 * `tar -t`). Verification (hashing every byte) is separate: `verifySeekableLayer`, on worker threads.
 */
async function readUncompressedBySeeking(
  loc: SeekableLayer, index: number, tree: ImageTree, opts: LayerReadOptions, what: string,
): Promise<LayerReadResult> {
  const sink = new TreeSink(tree, index);
  // the tree decodes names during addEntry: header byte arrays may stay views into the read window
  const parser = new TarParser(sink, what, true);
  opts.budget.used += loc.size;
  if (opts.budget.used > opts.budget.max) {
    throw limitError(what, opts.budget);
  }
  // Synchronous preads: thousands of small reads through libuv's pool cost more in latency than the reads
  // themselves; the event loop gets a turn every few hundred reads so a server stays responsive.
  const fd = openSync(loc.file, 'r');
  try {
    const seeker = new LayerSeeker(fd, loc, parser);
    while (!seeker.run(READS_PER_TURN)) await pause(opts, seeker.pos, what);
  } finally {
    closeSync(fd);
  }
  if (loc.size === 0) throw new ImageReadError(what, 'empty layer blob (not a tar)');
  parser.end();
  return { compression: 'none', uncompressedSize: loc.size, entries: sink.entries, verification: null };
}

/** The ImageReadError for a failed worker layer job (limit, cancel, parse error, or corrupt compressed data). */
async function workerLayerError(e: unknown, loc: { file: string; offset: number }, opts: LayerReadOptions, what: string): Promise<ImageReadError> {
  if (e instanceof ImageReadError) return e;
  const err = e as Error & { why?: string };
  if (opts.signal?.aborted || err.message === 'cancelled') return new ImageReadError(what, 'cancelled');
  if (err.message === 'limit') return limitError(what, opts.budget); // the worker's marker (imageWorker.ts, LIMIT_WHY)
  if (err.why) return new ImageReadError(what, err.why);
  const kind = detectCompression(await readHead(loc.file, loc.offset, 8));
  return new ImageReadError(what, `${kind === 'zstd' ? 'corrupt zstd data' : 'corrupt gzip data'} (${err.message})`);
}

/**
 * How zstd layers in plain files are read on a worker thread, if they are: with Node's built-in zstd driven
 * synchronously there (`{ zstd: null }`, builtinZstdRange.ts) when the runtime has it, else through a `zstd -dc`
 * process (`{ zstd: path }`, zstdFileRange.ts). Null: on this thread as a stream (no worker script, no decoder
 * for the worker; `STRATA_ZSTD_PIPE=0` turns the worker path off).
 */
function zstdInWorker(): { zstd: string | null } | null {
  if (process.env.STRATA_ZSTD_PIPE === '0' || !hashWorkersAvailable()) return null;
  if (builtinZstd()) return builtinZstdRangeAvailable() ? { zstd: null } : null;
  if (!zstdPipeSupported()) return null;
  const zstd = findZstd();
  return zstd ? { zstd } : null;
}

/**
 * A zstd layer in a plain file, decoded on a worker thread (built-in zstd, or `zstd -dc` whose output the worker
 * reads): the worker hashes the tar (diffId) and parses it; this thread only indexes the headers it posts. The compressed blob's
 * digest is a separate hash job from the file, queued behind the tree reads, so `treesReady` does not wait for it.
 */
async function readZstdInWorker(
  zstd: string | null, loc: { file: string; offset: number; size: number }, plan: LayerPlan, index: number, tree: ImageTree, opts: LayerReadOptions, what: string,
): Promise<LayerReadResult> {
  const [blobAlg] = digestParts(plan.blobDigest);
  const [diffAlg] = digestParts(plan.diffId);
  // queued now, it runs on the first worker that finishes its layer while the biggest layer is still decoding
  const blobHashing = opts.verify && blobAlg ? hashFileRange(loc.file, loc.offset, loc.size, blobAlg, opts.signal) : null;
  blobHashing?.catch(() => undefined);
  let r;
  try {
    r = await readZstdLayerInWorker({
      zstd, file: loc.file, offset: loc.offset, size: loc.size, what,
      diffAlgorithm: opts.verify && diffAlg ? diffAlg : null, maxBytes: Math.max(0, opts.budget.max - opts.budget.used),
    }, (headers) => {
      for (const h of headers) tree.addEntry(index, h);
    }, (n) => opts.onBytes?.(n), opts.signal);
  } catch (e) {
    if (e instanceof ZstdWorkerUnavailable) throw e;
    throw await workerLayerError(e, loc, opts, what);
  }
  opts.budget.used += r.uncompressed;
  opts.onBytes?.(loc.size);
  let verification: Promise<VerifyOutcome> | null = null;
  if (opts.verify) {
    verification = settled(async () => {
      const blob = blobHashing ? await blobHashing : null;
      if (blob && blob.read < loc.size) return truncatedBlob(blob.read, loc.size);
      return digestOutcome(plan, blob?.hex ?? null, r.diffHex);
    }, opts.signal);
  }
  return { compression: 'zstd', uncompressedSize: r.uncompressed, entries: r.entries, verification };
}

/** A compressed layer in a plain file: decompressed, hashed and parsed in a worker thread; entries indexed here. */
async function readCompressedInWorker(
  loc: { file: string; offset: number; size: number }, plan: LayerPlan, index: number, tree: ImageTree, opts: LayerReadOptions, what: string,
): Promise<LayerReadResult> {
  const [blobAlg] = digestParts(plan.blobDigest);
  const [diffAlg] = digestParts(plan.diffId);
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
    throw await workerLayerError(e, loc, opts, what);
  }
  opts.budget.used += r.uncompressed;
  opts.onBytes?.(loc.size);
  const verification = opts.verify ? Promise.resolve(digestOutcome(plan, r.blobHex, r.diffHex)) : null;
  return { compression: r.compression, uncompressedSize: r.uncompressed, entries: r.entries, verification };
}

/** How messages name a layer: `layer 2 (sha256:0123456789ab)`. */
export function layerLabel(layer: { digest: string }, index: number): string {
  return `layer ${index} (${layer.digest.slice(0, 19)})`;
}

/** Reads layer `index` of an image into `tree`. Throws ImageReadError naming the layer on any failure. */
export async function readLayer(src: ArchiveSource, plan: LayerPlan, index: number, tree: ImageTree, opts: LayerReadOptions): Promise<LayerReadResult> {
  const what = layerLabel(plan, index);
  const seekable = opts.seekable === undefined ? await seekableLayer(src, plan) : opts.seekable;
  if (seekable) return readUncompressedBySeeking(seekable, index, tree, opts, what);
  const loc = src.location(plan.member);
  // Opt-in: on the benchmark machine (2 cores shared by many processes) decoding in worker threads measured
  // 1.5–3× slower than zlib's thread pool / the zstd process with parsing on the main thread. The head is read
  // only then (the default path detects the compression as it streams).
  if (loc && process.env.STRATA_IMAGE_SEEK !== '0' && process.env.STRATA_IMAGE_LAYER_WORKERS === '1' && workersAvailable()) {
    const kind = detectCompression(await readHead(loc.file, loc.offset, Math.min(loc.size, 8)));
    if (kind === 'gzip' || kind === 'zstd') return readCompressedInWorker(loc, plan, index, tree, opts, what);
  }
  // the media type picks the candidates (so gzip layers cost no extra read), the magic bytes decide
  const decoder = loc && plan.compression === 'zstd' && process.env.STRATA_IMAGE_SEEK !== '0' ? zstdInWorker() : null;
  if (decoder && detectCompression(await readHead(loc!.file, loc!.offset, Math.min(loc!.size, 8))) === 'zstd') {
    try {
      return await readZstdInWorker(decoder.zstd, loc!, plan, index, tree, opts, what);
    } catch (e) {
      if (!(e instanceof ZstdWorkerUnavailable)) throw e;
      // no mkfifo/dd here, or no built-in decoder shape on the worker: the stream path below
    }
  }
  const [blobAlg] = digestParts(plan.blobDigest);
  // The compressed blob's digest: hashed by a worker thread straight from the file when it can (another core),
  // else on this thread as the bytes stream past.
  const blobInWorker = opts.verify && !!blobAlg && !!loc && hashWorkersAvailable();
  const blobHashing = blobInWorker ? hashFileRange(loc!.file, loc!.offset, loc!.size, blobAlg!) : null;
  blobHashing?.catch(() => undefined);
  const blobHash = opts.verify && blobAlg && !blobInWorker ? createHash(blobAlg) : null;
  const [diffAlg] = digestParts(plan.diffId);
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
  const parser = new TarParser(sink, what, true); // the tree decodes names during addEntry
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
        throw limitError(what, opts.budget);
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
  opts.onBytes?.(counter.n);
  let verification: Promise<VerifyOutcome> | null = null;
  if (opts.verify) {
    // Both hashes are over bytes already streamed: settled now (or as soon as the worker answers).
    verification = settled(async () => {
      const diffGot = diffHash ? diffHash.digest('hex') : diffRemote ? await diffRemote.digest() : null;
      const blobGot = blobHash ? blobHash.digest('hex') : blobHashing ? (await blobHashing).hex : null;
      return digestOutcome(plan, blobGot, diffGot);
    });
  }
  return { compression, uncompressedSize: uncompressed, entries, verification };
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
