/**
 * Decompresses a zstd blob that sits in a plain file with Debian's `zstd -dc` and hands its output to a callback
 * with blocking reads, for a worker thread that parses and hashes it (imageWorker.ts, job `zstd-layer`).
 *
 * The point is to take the per-byte work (the diffId's sha256 of the whole tar, the tar walk) off the main thread
 * and to let layers use both cores without copying chunks between threads. No byte of the blob passes through JS
 * on its way in (zstd reads the file itself, or `dd` reads the byte range of an archive member), and the output is
 * read with `readSync` into one reused buffer from a FIFO: a real pipe whose read end blocks, so the worker needs
 * neither an event loop turn nor a fresh Buffer per 64 KiB read (`child.stdout` as a stream needs both). Measured,
 * the drain itself costs about the same CPU either way (the kernel's pipe copies dominate, see
 * docs/architecture/image-reader.md); what changes is which thread pays for the rest.
 *
 * The FIFO lives for a few microseconds in a private temp dir (mode 0700) and is unlinked once both ends are open:
 * nothing is extracted, nothing is left behind. A FIFO (not `child.stdout`'s socketpair) is needed because Node
 * cannot create an anonymous pipe and sockets opened by libuv are non-blocking.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ZstdRange } from './builtinZstdRange';

/** The pipeline could not be set up on this system (no mkfifo/dd, not POSIX): callers use the stream path. */
export class ZstdPipeUnavailable extends Error {}

/** A zstd blob range and its consumer (the same shape as the built-in decoder's), plus the binary to run. */
export interface ZstdFileRange extends ZstdRange {
  zstd: string;
}

/**
 * Bytes handed to onChunk at a time: several pipe reads (64 KiB each at most: a pipe's default capacity, which
 * Node cannot raise) gathered, so per-chunk work is amortised. Growing the pipe to 1 MiB through `perl`'s fcntl
 * halved the context switches but saved no CPU here, so the pipe keeps its size.
 */
const GATHER = 1024 * 1024;
const PROGRESS_EVERY = 8 * 1024 * 1024;

let ddWorks: boolean | undefined;
/** GNU dd with byte-addressed skip/count (not BusyBox/BSD without them): probed once per process. */
function ddAvailable(): boolean {
  if (ddWorks === undefined) {
    const r = spawnSync('dd', ['if=/dev/null', 'iflag=skip_bytes,count_bytes', 'skip=0', 'count=0', 'status=none'], { stdio: 'ignore' });
    ddWorks = r.status === 0;
  }
  return ddWorks;
}

const noAsyncio = new Map<string, boolean>();
/**
 * `--no-asyncio` (zstd ≥ 1.5.3) when the binary knows it: zstd's asynchronous I/O threads hand 128 KiB buffers
 * between threads, and the wake-ups and TLB shoot-downs that costs measured ~10 % of its CPU here — more than
 * the overlap gains when several layers decode at once. Probed once per binary.
 */
function asyncioArgs(zstd: string): string[] {
  if (process.env.STRATA_ZSTD_ASYNCIO === '1') return [];
  let known = noAsyncio.get(zstd);
  if (known === undefined) {
    known = spawnSync(zstd, ['--no-asyncio', '-V'], { stdio: 'ignore' }).status === 0;
    noAsyncio.set(zstd, known);
  }
  return known ? ['--no-asyncio'] : [];
}

export function zstdPipeSupported(): boolean {
  return process.platform === 'linux' || process.platform === 'darwin' || process.platform === 'freebsd';
}

/** A FIFO's two ends, both blocking, and the FIFO already unlinked. */
function fifoPair(dir: string, name: string): { read: number; write: number } {
  const p = path.join(dir, name);
  const r = spawnSync('mkfifo', ['-m', '600', p], { stdio: 'ignore' });
  if (r.status !== 0) throw new ZstdPipeUnavailable('mkfifo failed');
  // Opening one end of a FIFO blocks until the other is open; a non-blocking read end first lets the write end
  // open at once, then a blocking read end is opened next to it and the non-blocking one closed.
  const nb = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);
  let write = -1;
  try {
    write = openSync(p, constants.O_WRONLY);
    const read = openSync(p, constants.O_RDONLY);
    return { read, write };
  } catch (e) {
    if (write >= 0) closeSync(write);
    throw e;
  } finally {
    closeSync(nb);
  }
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('error', () => resolve(127)); // could not be started
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function collectStderr(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (text.length < 500) text += d.toString();
  });
  return () => text.trim().split('\n').pop() ?? '';
}

/** Compressed bytes a process has read (Linux /proc/PID/io `rchar`), or null. */
function bytesReadBy(pid: number | undefined): number | null {
  if (pid === undefined || process.platform !== 'linux') return null;
  try {
    const fd = openSync(`/proc/${pid}/io`, 'r');
    try {
      const buf = Buffer.allocUnsafe(512);
      const n = readSync(fd, buf, 0, 512, 0);
      const m = /rchar: (\d+)/.exec(buf.toString('latin1', 0, n));
      return m ? Number(m[1]) : null;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

/**
 * Runs `zstd -dc` on bytes [offset, offset+size) of `file` and feeds its output to `onChunk`; resolves with the
 * number of decompressed bytes. Throws ZstdPipeUnavailable before any output when the pipeline cannot be built,
 * an Error with zstd's message for corrupt data, or whatever onChunk threw (the processes are killed).
 */
export async function zstdFileRange(o: ZstdFileRange): Promise<number> {
  if (!zstdPipeSupported()) throw new ZstdPipeUnavailable(`not supported on ${process.platform}`);
  const input = openSync(o.file, 'r');
  let wholeFile = false;
  try {
    wholeFile = o.offset === 0 && fstatSync(input).size === o.size;
  } catch (e) {
    closeSync(input);
    throw e;
  }
  if (!wholeFile && !ddAvailable()) {
    closeSync(input);
    throw new ZstdPipeUnavailable('dd without iflag=skip_bytes,count_bytes');
  }
  const open: number[] = [input];
  const closeAll = () => {
    for (const fd of open.splice(0)) closeSync(fd);
  };
  const children: ChildProcess[] = [];
  let out!: { read: number; write: number };
  let zstdIn = input;
  let dd: ChildProcess | null = null;
  let ddError = (): string => '';
  try {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-zstd-'));
    try {
      out = fifoPair(dir, 'out');
      open.push(out.read, out.write);
      if (!wholeFile) {
        const feed = fifoPair(dir, 'in');
        open.push(feed.read, feed.write);
        zstdIn = feed.read;
        // GNU dd reads the member's byte range from the archive itself: the compressed bytes never enter Node
        dd = spawn('dd', [`if=${o.file}`, 'iflag=skip_bytes,count_bytes', `skip=${o.offset}`, `count=${o.size}`, 'bs=1M', 'status=none'],
          { stdio: ['ignore', feed.write, 'pipe'] });
        children.push(dd);
        ddError = collectStderr(dd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true }); // the FIFOs are unlinked; their open ends live on
    }
  } catch (e) {
    closeAll();
    for (const c of children) c.kill();
    throw e instanceof ZstdPipeUnavailable ? e : new ZstdPipeUnavailable((e as Error).message);
  }
  const zstd = spawn(o.zstd, ['-dc', '-q', ...asyncioArgs(o.zstd)], { stdio: [zstdIn, out.write, 'pipe'] });
  children.push(zstd);
  const zstdError = collectStderr(zstd);
  const zstdExit = exited(zstd);
  const ddExit = dd ? exited(dd) : Promise.resolve(0);
  // Only the children hold the write ends now: EOF on our read end means zstd has finished (or died).
  for (const fd of open.splice(0)) if (fd !== out.read) closeSync(fd);
  open.push(out.read);
  let total = 0;
  try {
    // a plain Uint8Array, not a Buffer: consumers copy what they keep with slice(), which on a Buffer is a view
    // (and this memory is overwritten by the next read)
    const buf = new Uint8Array(GATHER + 64 * 1024);
    let fill = 0;
    let nextProgress = PROGRESS_EVERY;
    for (;;) {
      const n = readSync(out.read, buf, fill, buf.length - fill, null);
      fill += n;
      if (fill >= GATHER || (n === 0 && fill > 0)) {
        if (o.cancelled()) throw new Error('cancelled');
        o.onChunk(buf.subarray(0, fill));
        total += fill;
        fill = 0;
        if (total >= nextProgress && o.onProgress) {
          nextProgress = total + PROGRESS_EVERY;
          const r = bytesReadBy((dd ?? zstd).pid);
          if (r !== null) o.onProgress(Math.min(r, o.size));
        }
      }
      if (n === 0) break;
    }
  } catch (e) {
    for (const c of children) if (c.exitCode === null) c.kill();
    throw e;
  } finally {
    closeAll();
  }
  const [zCode, dCode] = await Promise.all([zstdExit, ddExit]);
  if (dCode !== 0) throw new Error(`reading the layer blob failed: ${ddError() || `dd exited with ${dCode}`}`);
  if (zCode !== 0) throw new Error(zstdError() || `zstd exited with ${zCode}`);
  return total;
}
