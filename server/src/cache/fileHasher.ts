/**
 * Hashing one regular file with synchronous reads into a reused buffer: the per-file work of the context hash,
 * shared by the worker threads (contextHashPool.ts) and the in-process path (a handful of files after an edit).
 *
 * `makeFileHasher` and everything it calls must stay self-contained (no imports, no module-level names, literal
 * status numbers): the worker is started from its source text (`Function.prototype.toString`), so it runs unchanged
 * in whichever bundle loaded this module (server, CLI, tests, bench) without locating a separate worker file.
 */
import type * as NodeCrypto from 'node:crypto';
import type * as NodeFs from 'node:fs';

/** Outcome of one file, as written into `HashResults.status`. */
export const HashStatus = {
  /** Hashed: stat and digest written. */
  ok: 0,
  /** `prev` given and the lstat is identical: the cached digest stands, nothing read. */
  same: 1,
  /** An errno (in `errors`): ENOENT (vanished), EACCES, ELOOP (became a symlink), ENXIO (a socket)… */
  error: 2,
  /** Not a regular file any more (type in the stat); never read. */
  notFile: 3,
  /** Over the size limit: stat written, not read. */
  tooLarge: 4,
  /** The request was cancelled before or while this file was read. */
  cancelled: 5,
} as const;

/** Entry type codes in `HashResults.stats` (slot 0). */
export const TypeCode = { file: 1, dir: 2, symlink: 3, fifo: 4, socket: 5, device: 6 } as const;

/** Numbers per file in `HashResults.stats`: type, mode (& 0o7777), size, mtimeMs, ino. */
export const STAT_SLOTS = 5;
export const DIGEST_BYTES = 32;

export interface FileHasherDeps {
  fs: typeof NodeFs;
  crypto: typeof NodeCrypto;
}

/**
 * hashOne(abs, prev, prevAt, maxBytes, cancelled, stats, at, digests) → a HashStatus number, or an errno string.
 * `prev`/`prevAt`: the cached stat (STAT_SLOTS numbers) to compare with an lstat first, or null to hash outright.
 */
export type HashOne = (
  abs: string, prev: Float64Array | null, prevAt: number, maxBytes: number, cancelled: () => boolean,
  stats: Float64Array, at: number, digests: Uint8Array,
) => number | string;

export function makeFileHasher(deps: FileHasherDeps): HashOne {
  // Taken once: property lookups on a bundler's namespace object are getters, measurable at 10k files.
  const { openSync, fstatSync, lstatSync, readSync, closeSync, constants } = deps.fs;
  const createHash = deps.crypto.createHash;
  // One-shot sha256 (node ≥ 20.12): no Hash object per file, about 2.5 µs less per small file than createHash.
  const hashOnce = (deps.crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;
  const CHUNK = 1 << 20;
  // One buffer per thread, reused for every file: small files are read in one call, big ones streamed through it.
  const buf = Buffer.allocUnsafe(CHUNK);
  // O_NONBLOCK: a FIFO swapped in since the directory was listed must not block the open.
  // O_NOFOLLOW: a file swapped for a symlink fails with ELOOP instead of hashing the target.
  const OPEN = constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW || 0);
  const put = (st: NodeFs.Stats, stats: Float64Array, at: number) => {
    stats[at] = st.isFile() ? 1 : st.isDirectory() ? 2 : st.isSymbolicLink() ? 3 : st.isFIFO() ? 4 : st.isSocket() ? 5 : 6;
    stats[at + 1] = st.mode & 0o7777;
    stats[at + 2] = st.size;
    stats[at + 3] = st.mtimeMs;
    stats[at + 4] = st.ino;
  };
  const codeOf = (e: unknown) => String((e as NodeJS.ErrnoException)?.code || (e as Error)?.message || e);
  return (abs, prev, prevAt, maxBytes, cancelled, stats, at, digests) => {
    const si = at * 5;
    if (prev) {
      let st: NodeFs.Stats;
      try { st = lstatSync(abs); } catch (e) { return codeOf(e); }
      put(st, stats, si);
      let same = true;
      for (let k = 0; k < 5; k++) if (stats[si + k] !== prev[prevAt + k]) same = false;
      if (same) return 1;
    }
    let fd: number;
    try { fd = openSync(abs, OPEN); } catch (e) { return codeOf(e); }
    try {
      const st = fstatSync(fd);
      put(st, stats, si);
      if (!st.isFile()) return 3;
      if (st.size > maxBytes) return 4;
      // First read: a file that fits in the buffer is done in one read (a short read that reaches the fstat size is
      // taken as EOF, skipping the extra read) and hashed in one call.
      const first = readSync(fd, buf, 0, CHUNK, null);
      if (first < CHUNK && first >= st.size && hashOnce) {
        hashOnce('sha256', buf.subarray(0, first), 'buffer').copy(digests, at * 32);
        return 0;
      }
      const h = createHash('sha256');
      let total = 0;
      for (let n = first; ; n = readSync(fd, buf, 0, CHUNK, null)) {
        if (n === 0) break;
        h.update(n === CHUNK ? buf : buf.subarray(0, n));
        total += n;
        if (n < CHUNK && total >= st.size) break;
        if (cancelled()) return 5;
      }
      h.digest().copy(digests, at * 32);
      return 0;
    } catch (e) {
      return codeOf(e);
    } finally {
      try { closeSync(fd); } catch { /* already gone */ }
    }
  };
}
