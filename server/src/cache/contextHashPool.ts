/**
 * Content hashing of build-context files in worker threads, so the language server's main thread only walks
 * directories and answers LSP requests while up to two threads (the machine may have 2 cores) read and hash.
 *
 * Files go to the workers in batches of relative paths (UTF-8 bytes in one transferred array); each worker hashes
 * with synchronous reads into one reused buffer (fileHasher.ts: cheaper per file than the promise API) and answers
 * with typed arrays (stats, 32-byte digests, statuses) that are transferred, not copied. Cancellation is a
 * SharedArrayBuffer flag the worker checks between files and between 1 MB chunks of a big file, so an abort stops a
 * 1 GB file mid-read. The workers are started from fileHasher.ts's source text (see there) and stopped after a few
 * idle seconds.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { DIGEST_BYTES, HashStatus, makeFileHasher, STAT_SLOTS, type HashOne } from './fileHasher';

/** The outcome of a batch, one slot per requested file. */
export class HashResults {
  readonly status: Uint8Array;
  readonly stats: Float64Array;
  readonly digests: Uint8Array;
  /** Errno per file whose status is `error`. */
  readonly errors: Map<number, string>;

  /** Empty slots (all `cancelled` until done), or the arrays a worker transferred. */
  constructor(readonly length: number, from?: { status: Uint8Array; stats: Float64Array; digests: Uint8Array; errors: [number, string][] }) {
    this.status = from?.status ?? new Uint8Array(length).fill(HashStatus.cancelled);
    this.stats = from?.stats ?? new Float64Array(length * STAT_SLOTS);
    this.digests = from?.digests ?? new Uint8Array(length * DIGEST_BYTES);
    this.errors = new Map(from?.errors);
  }
}

export interface HashRequest {
  /** Number of files. */
  count: number;
  /**
   * File k's context-relative slash path as UTF-8: its byte length, and writing it at `out[at]` (returns the end).
   * Asked for when k's batch is sent, so no list of every path is held while a large context is hashed, and the
   * batch goes to the workers as one byte array without a path string per file on this thread (the strings were the
   * young generation's growth while a large context was hashed).
   */
  relBytes(k: number): number;
  writeRel(k: number, out: Uint8Array, at: number): number;
  /**
   * Writes file k's cached stat (STAT_SLOTS numbers) at `into[at]` and returns true when there is one: a file whose
   * lstat is identical is not read. Absent or false: hashed outright.
   */
  prev?(k: number, into: Float64Array, at: number): boolean;
  maxFileBytes: number;
  /** Sum of the files' sizes when all are known (refreshed after an edit), else undefined: small jobs stay in-process. */
  knownBytes?: number;
  /** On abort the request resolves early: files not done are never reported. */
  signal?: AbortSignal;
  /**
   * Results of files [from, from + res.length), as each batch completes (so results are applied as they come,
   * never held for the whole request). Files of an aborted batch may have the status `cancelled`.
   */
  onBatch(from: number, res: HashResults): void;
  /** Files finished so far (called per batch). */
  onProgress?: (done: number) => void;
}

interface Reply { id: number; status: Uint8Array; stats: Float64Array; digests: Uint8Array; errors: [number, string][] }
/** A batch's paths: UTF-8 bytes of all paths back to back; `ends[i]` is where path i ends. Transferred, not copied. */
interface Paths { bytes: Uint8Array; ends: Uint32Array }
interface Job { id: number; base: string; paths: Paths; prev: Float64Array | null; maxBytes: number; flag: SharedArrayBuffer }

const BATCH = 1024;
/** Up to this many files that are known to be small are hashed in-process: a worker round trip would cost more. */
const INLINE_FILES = 4;
const INLINE_BYTES = 1 << 20;
/** Without workers, the calling thread yields after this many files. */
const INLINE_BATCH = 64;
const IDLE_MS = 5000;

let inProcess: HashOne | null = null;
const hashInProcess = (): HashOne => (inProcess ??= makeFileHasher({ fs, crypto }));

/**
 * Hashes one batch's files into `status`/`stats`/`digests` (sized for the batch), errnos into `errors`. Shared by the
 * workers and the calling thread; the workers get it from its source text, so it stays self-contained (literal
 * numbers: 5 = STAT_SLOTS and HashStatus.cancelled, 2 = HashStatus.error; no module-level names).
 */
function hashBatch(
  hash: HashOne, job: Pick<Job, 'base' | 'paths' | 'prev' | 'maxBytes'>, flag: Int32Array,
  status: Uint8Array, stats: Float64Array, digests: Uint8Array, errors: [number, string][],
): void {
  const ends = job.paths.ends;
  const bytes = Buffer.from(job.paths.bytes.buffer, job.paths.bytes.byteOffset, job.paths.bytes.byteLength);
  const cancelled = () => Atomics.load(flag, 0) !== 0;
  for (let i = 0; i < ends.length; i++) {
    if (cancelled()) { status.fill(5, i); break; }
    const prev = job.prev && !Number.isNaN(job.prev[i * 5]) ? job.prev : null;
    const r = hash(job.base + '/' + bytes.toString('utf8', i > 0 ? ends[i - 1]! : 0, ends[i]!), prev, i * 5, job.maxBytes, cancelled, stats, i, digests);
    if (typeof r === 'string') { status[i] = 2; errors.push([i, r]); } else status[i] = r;
  }
}

/** Hashes one batch on the calling thread (small refreshes; fallback when workers are unavailable). */
function runInline(base: string, paths: Paths, prev: Float64Array | null, maxBytes: number, flag: Int32Array): HashResults {
  const into = new HashResults(paths.ends.length);
  const errors: [number, string][] = [];
  hashBatch(hashInProcess(), { base, paths, prev, maxBytes }, flag, into.status, into.stats, into.digests, errors);
  for (const [i, e] of errors) into.errors.set(i, e);
  return into;
}

/** The worker's body, started from its source text together with makeFileHasher's and hashBatch's. Self-contained. */
function workerMain(makeHasher: typeof makeFileHasher, runBatch: typeof hashBatch): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wt = require('node:worker_threads') as typeof import('node:worker_threads');
  const hash = makeHasher({ fs: require('node:fs'), crypto: require('node:crypto') });
  wt.parentPort!.on('message', (job: Job) => {
    const n = job.paths.ends.length;
    const status = new Uint8Array(n);
    const stats = new Float64Array(n * 5);
    const digests = new Uint8Array(n * 32);
    const errors: [number, string][] = [];
    runBatch(hash, job, new Int32Array(job.flag), status, stats, digests, errors);
    const reply: Reply = { id: job.id, status, stats, digests, errors };
    wt.parentPort!.postMessage(reply, [status.buffer, stats.buffer, digests.buffer]);
  });
}

const WORKER_SOURCE = `var __name = (f) => f;\n(${workerMain.toString()})(${makeFileHasher.toString()}, ${hashBatch.toString()});`;

/**
 * A worker's garbage is a few small objects per file (a Stats, a path, a digest Buffer) and nothing survives a file:
 * a 1 MB young generation (instead of V8's default, which grows to 16 MB per semi-space under this allocation
 * rate) takes about 8 MB off the peak RSS of a 100k-file hash at no measurable cost in speed.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 1 };

interface Slot { worker: Worker; pending: Map<number, (r: Reply | Error) => void> }

/** The shared pool: one per process, workers started on demand and stopped when idle. */
class ContextHashPool {
  private slots: Slot[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private disabled = false;
  readonly size: number;
  /** Batches answered by a worker (tests check that the workers really ran). */
  batches = 0;

  constructor() {
    const env = Number(process.env.STRATA_HASH_WORKERS);
    this.size = Number.isFinite(env) && env >= 0 && process.env.STRATA_HASH_WORKERS !== '' ? Math.min(env, 8) : Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length));
    if (this.size === 0) this.disabled = true;
  }

  get available(): boolean { return !this.disabled; }

  /** Starts the workers ahead of a request (a worker's bootstrap costs tens of milliseconds). */
  warmUp(): void {
    this.ensure();
    this.maybeIdle();
  }

  private ensure(): Slot[] {
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    while (!this.disabled && this.slots.length < this.size) {
      try {
        const worker = new Worker(WORKER_SOURCE, { eval: true, stdout: false, stderr: false, resourceLimits: WORKER_LIMITS });
        const slot: Slot = { worker, pending: new Map() };
        worker.on('message', (r: Reply) => { this.batches++; const cb = slot.pending.get(r.id); slot.pending.delete(r.id); cb?.(r); this.maybeIdle(); });
        const fail = (e: Error) => {
          this.slots = this.slots.filter((s) => s !== slot);
          for (const cb of slot.pending.values()) cb(e);
          slot.pending.clear();
        };
        worker.on('error', fail);
        worker.on('exit', (code) => fail(new Error(`context hash worker exited (${code})`)));
        worker.unref();
        this.slots.push(slot);
      } catch {
        this.disabled = true; // no worker threads here: hash in-process
      }
    }
    return this.slots;
  }

  private maybeIdle(): void {
    if (this.slots.some((s) => s.pending.size > 0)) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), IDLE_MS);
    this.idleTimer.unref();
  }

  /** Terminates the workers (they are started again on the next request). */
  stop(): void {
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) void s.worker.terminate();
  }

  /** Runs one batch on the least busy worker; rejects if the worker dies. */
  run(job: Omit<Job, 'id'>): Promise<Reply> {
    const slots = this.ensure();
    if (slots.length === 0) return Promise.reject(new Error('no worker'));
    const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve, reject) => slot.pending.set(id, (r) => (r instanceof Error ? reject(r) : resolve(r))));
    slot.worker.ref();
    const transfer: ArrayBuffer[] = [job.paths.bytes.buffer as ArrayBuffer, job.paths.ends.buffer as ArrayBuffer];
    if (job.prev) transfer.push(job.prev.buffer as ArrayBuffer);
    slot.worker.postMessage({ ...job, id } satisfies Job, transfer);
    return reply.finally(() => { if (slot.pending.size === 0) slot.worker.unref(); });
  }
}

/** A request for a list of paths whose results are gathered into one HashResults (tests). */
export function listRequest(rels: readonly string[], opts: Omit<HashRequest, 'count' | 'relBytes' | 'writeRel' | 'onBatch' | 'prev'> & { prev?: Float64Array }): { req: HashRequest; out: HashResults } {
  const out = new HashResults(rels.length);
  const { prev, ...rest } = opts;
  const req: HashRequest = {
    ...rest, count: rels.length,
    relBytes: (k) => Buffer.byteLength(rels[k]!, 'utf8'),
    writeRel: (k, into, at) => at + Buffer.from(into.buffer, into.byteOffset, into.byteLength).write(rels[k]!, at, 'utf8'),
    ...(prev ? { prev: (k, into, at) => { into.set(prev.subarray(k * STAT_SLOTS, (k + 1) * STAT_SLOTS), at); return !Number.isNaN(prev[k * STAT_SLOTS]); } } : {}),
    onBatch: (from, res) => {
      out.status.set(res.status, from);
      out.stats.set(res.stats, from * STAT_SLOTS);
      out.digests.set(res.digests, from * DIGEST_BYTES);
      for (const [i, e] of res.errors) out.errors.set(from + i, e);
    },
  };
  return { req, out };
}

/** Hashes a list of paths through the workers and gathers the results (tests). */
export async function hashFileList(base: string, rels: readonly string[], opts: Parameters<typeof listRequest>[1]): Promise<HashResults> {
  const { req, out } = listRequest(rels, opts);
  await hashContextFiles(base, req);
  return out;
}

/** The same hashing on the calling thread, in one go (tests compare it with the workers). */
export function hashFilesInProcess(base: string, req: HashRequest): void {
  const flag = new Int32Array(1);
  for (let from = 0; from < req.count; from += INLINE_BATCH) {
    const to = Math.min(req.count, from + INLINE_BATCH);
    req.onBatch(from, runInline(base, pathsOf(req, from, to), prevOf(req, from, to), req.maxFileBytes, flag));
  }
}

/** The paths of files [from, to) as UTF-8 bytes, built when their batch is sent. */
function pathsOf(req: HashRequest, from: number, to: number): Paths {
  const ends = new Uint32Array(to - from);
  let total = 0;
  for (let k = from; k < to; k++) total += req.relBytes(k);
  // Its own ArrayBuffer (not Buffer's shared pool), since it is transferred.
  const bytes = new Uint8Array(total);
  let at = 0;
  for (let k = from; k < to; k++) ends[k - from] = at = req.writeRel(k, bytes, at);
  return { bytes, ends };
}

/** The cached stats of files [from, to) (NaN in slot 0 where none), or null when none has one. */
function prevOf(req: HashRequest, from: number, to: number): Float64Array | null {
  if (!req.prev) return null;
  const prev = new Float64Array((to - from) * STAT_SLOTS);
  let any = false;
  for (let k = from; k < to; k++) {
    const at = (k - from) * STAT_SLOTS;
    if (req.prev(k, prev, at)) any = true; else prev[at] = NaN;
  }
  return any ? prev : null;
}

let shared: ContextHashPool | null = null;
export const contextHashPool = (): ContextHashPool => (shared ??= new ContextHashPool());

/**
 * Hashes the requested files below `base` (absolute), reporting each batch's results through `req.onBatch`.
 * Batches are spread over the workers with a bounded number in flight; a batch's paths and cached stats are built
 * only when it is sent, so memory does not grow with the number of files. A batch whose worker failed is redone
 * in-process. On abort it resolves as soon as the batches in flight come back (workers stop at the next file or 1 MB
 * chunk), so the caller keeps what was done.
 */
export async function hashContextFiles(base: string, req: HashRequest): Promise<void> {
  const n = req.count;
  const flagBuf = new SharedArrayBuffer(4);
  const flag = new Int32Array(flagBuf);
  const signal = req.signal;
  if (signal?.aborted) return;
  const onAbort = () => Atomics.store(flag, 0, 1);
  signal?.addEventListener('abort', onAbort, { once: true });
  const pool = contextHashPool();
  try {
    const small = n <= INLINE_FILES && req.knownBytes !== undefined && req.knownBytes <= INLINE_BYTES;
    if (small || !pool.available) {
      for (let from = 0; from < n; from += INLINE_BATCH) {
        const to = Math.min(n, from + INLINE_BATCH);
        req.onBatch(from, runInline(base, pathsOf(req, from, to), prevOf(req, from, to), req.maxFileBytes, flag));
        if (signal?.aborted) break;
        req.onProgress?.(to);
        if (to < n) await new Promise((r) => setImmediate(r)); // let LSP requests in between batches
      }
      return;
    }
    // About six batches per worker: few messages, yet both workers busy to the end and progress to report.
    const batch = Math.max(8, Math.min(BATCH, Math.ceil(n / (pool.size * 6))));
    const inFlight = pool.size * 3;
    let next = 0;
    let done = 0;
    // The batch's paths are one byte array transferred to the worker (no string per file on this thread), built in a
    // plain function so nothing of it stays in the suspended lane's frame. A failed batch builds them again.
    const send = (from: number, to: number) => pool.run({ base, paths: pathsOf(req, from, to), prev: prevOf(req, from, to), maxBytes: req.maxFileBytes, flag: flagBuf });
    const lane = async () => {
      while (next < n && !signal?.aborted) {
        const from = next;
        const to = Math.min(n, from + batch);
        next = to;
        let res: HashResults;
        try {
          res = new HashResults(to - from, await send(from, to));
        } catch {
          if (signal?.aborted) return;
          res = runInline(base, pathsOf(req, from, to), prevOf(req, from, to), req.maxFileBytes, flag);
        }
        req.onBatch(from, res);
        done += to - from;
        if (!signal?.aborted) req.onProgress?.(done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, Math.ceil(n / batch)) }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
