/**
 * Decodes a zstd blob that sits in a plain file with Node's built-in zstd (zlib, Node ≥ 22.15 / 23.8), synchronously,
 * on the calling worker thread (imageWorker.ts, job `zstd-layer` with no `zstd` binary).
 *
 * Why not `zlib.createZstdDecompress()` as a stream: the stream allocates a fresh output Buffer for every chunk and
 * crosses to the thread pool and back for each one. For a 480 MB layer that measured 1.4–2.0 s of CPU (a third of
 * it system time: page faults on new buffers) against 0.57 s for the same decoder driven here, which is as fast as
 * the `zstd -dc` binary. So this drives the decoder's native handle the way Node's own `zlib.*Sync` functions do
 * (`handle.writeSync` with a `[availOut, availIn]` write state), but with one reused input buffer and one reused
 * output buffer. Those members are not public API: `builtinZstdRangeAvailable` checks their shape at run time and
 * callers fall back to the stream path when it does not match (the reader then behaves as before).
 *
 * Errors come back from the handle through its `onerror` callback, synchronously, during `writeSync`: corrupt data
 * (`ZSTD_error_checksum_wrong`, `…_corruption_detected`), and a blob cut short mid-frame ("unexpected end of file",
 * reported on the final empty write). Concatenated frames decode as one stream, as with `zstd -dc`.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import * as zlib from 'node:zlib';

/** The members of Node's zlib stream this module drives (node:zlib internals, checked before use). */
interface NativeZstd {
  _handle: {
    writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
    onerror: (message: string, errno: number, code?: string) => void;
  };
  _writeState: Uint32Array;
  close(): void;
}

/** zlib's zstd decoder factory (Node ≥ 22.15), or null on older runtimes; typed here since @types/node may predate it. */
export type ZstdFactory = (options?: { chunkSize?: number }) => NodeJS.ReadWriteStream;

export function zlibZstdFactory(): ZstdFactory | null {
  const f = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  return typeof f === 'function' ? f : null;
}

function isNative(z: unknown): z is NativeZstd {
  const n = z as Partial<NativeZstd> | null;
  return !!n && typeof n._handle?.writeSync === 'function' && n._writeState instanceof Uint32Array && n._writeState.length >= 2
    && typeof n.close === 'function';
}

let available: boolean | undefined;
/** Whether this runtime has built-in zstd with the native handle shape this module needs (probed once). */
export function builtinZstdRangeAvailable(): boolean {
  if (available === undefined) {
    const f = zlibZstdFactory();
    available = false;
    if (f) {
      const z = f();
      available = isNative(z);
      (z as { close?: () => void }).close?.();
    }
  }
  return available;
}

/** Bytes [offset, offset+size) of a file holding a zstd blob, and who gets the decompressed bytes (both decoders). */
export interface ZstdRange {
  file: string;
  offset: number;
  size: number;
  /** Every decompressed chunk, in order; the view is reused after the call returns. May throw to stop. */
  onChunk(chunk: Uint8Array): void;
  /** Polled between reads (a worker blocked in a synchronous loop cannot receive a cancel message). */
  cancelled(): boolean;
  /** Called every few MiB of input with the compressed bytes read so far (the `zstd -dc` path: from /proc, when readable). */
  onProgress?(compressedRead: number): void;
}

/** Compressed bytes per read, and decompressed bytes per `onChunk` at most (fits in L2 while it is hashed/parsed). */
const IN_CHUNK = 1024 * 1024;
const OUT_CHUNK = 256 * 1024;
const PROGRESS_EVERY = 8 * 1024 * 1024;

/** The blob's bytes end before `size` (the archive is cut short). */
export class TruncatedBlob extends Error {}

/**
 * Decodes bytes [offset, offset+size) of `file`; returns the number of decompressed bytes. Throws TruncatedBlob when
 * the file ends early, an Error with zlib's message for corrupt or incomplete zstd data, 'cancelled', or whatever
 * onChunk threw. Throws before reading anything when `builtinZstdRangeAvailable()` is false.
 */
export function builtinZstdRange(o: ZstdRange): number {
  const f = zlibZstdFactory();
  const z = f ? f({ chunkSize: OUT_CHUNK }) : null;
  if (!isNative(z)) throw new Error('built-in zstd is not available in this runtime');
  let failure: Error | null = null;
  // replaces zlib.js's handler (which would destroy the stream and emit 'error' on a later tick): this loop reads it
  z._handle.onerror = (message, errno, code) => {
    failure ??= Object.assign(new Error(message), { errno, code });
  };
  const fd = openSync(o.file, 'r');
  try {
    const input = new Uint8Array(IN_CHUNK);
    const out = new Uint8Array(OUT_CHUNK);
    const state = z._writeState;
    const { ZSTD_e_continue, ZSTD_e_end } = zlib.constants as unknown as { ZSTD_e_continue: number; ZSTD_e_end: number };
    let read = 0;
    let total = 0;
    let nextProgress = PROGRESS_EVERY;
    for (;;) {
      if (o.cancelled()) throw new Error('cancelled');
      const want = Math.min(IN_CHUNK, o.size - read);
      const n = want > 0 ? readSync(fd, input, 0, want, o.offset + read) : 0;
      if (want > 0 && n === 0) throw new TruncatedBlob(`truncated archive (layer blob is cut short: ${read} of ${o.size} bytes)`);
      read += n;
      const last = read >= o.size;
      let inOff = 0;
      let inLen = n;
      // one input chunk: write until the decoder has taken all of it and has room left over (nothing more to give)
      for (;;) {
        z._handle.writeSync(last ? ZSTD_e_end : ZSTD_e_continue, input, inOff, inLen, out, 0, OUT_CHUNK);
        if (failure) throw failure;
        const availOut = state[0]!;
        const availIn = state[1]!;
        const produced = OUT_CHUNK - availOut;
        if (produced > 0) {
          total += produced;
          o.onChunk(out.subarray(0, produced));
        }
        const consumed = inLen - availIn;
        inOff += consumed;
        inLen = availIn;
        if (availOut !== 0 && inLen === 0) break;
        // a decoder that takes nothing and gives nothing would loop forever: never seen, but this is hostile input
        if (produced === 0 && consumed === 0) throw new Error('zstd decoder made no progress');
      }
      if (o.onProgress && read >= nextProgress) {
        nextProgress = read + PROGRESS_EVERY;
        o.onProgress(read);
      }
      if (last) break;
    }
    return total;
  } finally {
    closeSync(fd);
    z.close();
  }
}
