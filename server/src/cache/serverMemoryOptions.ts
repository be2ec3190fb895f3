/**
 * How the language server process is started: for memory that stays flat with the build context's size, and V8's
 * thread pool sized to the machine (V8_POOL_FLAG). Used by
 * the extension client (its ServerOptions) and by the cache bench's RSS child, which must run the way the server
 * really runs. The CLI is a short-lived process and does not need them.
 *
 * Measured on a 100k-file context (bench/cache.bench.ts, RSS child, index kept, workers stopped): RSS 96 → ~78 MB
 * (10k files: 68 → ~63 MB); each setting alone took off only part of it:
 * - `--max-semi-space-size=1` (MB): V8 grows the young generation to 8 MB while the walk and the hash batches
 *   allocate (Dirents, names, messages) and keeps it afterwards; nothing of that garbage survives, so a 1 MB
 *   semi-space costs a few more scavenges (cold 10k-file CPU within run-to-run noise) and keeps ~6 MB less.
 * - `MALLOC_MMAP_THRESHOLD_`: glibc raises its mmap threshold after the first large free, so later large blocks
 *   (the entry table's columns as they double, the workers' batch arrays) come from the heap/arenas and their pages
 *   stay resident after they are freed. A fixed threshold (setting it turns the dynamic one off) makes every
 *   block ≥ 128 kB its own mapping, returned to the system when freed.
 * MALLOC_ARENA_MAX=2 was also tried: no measurable change in these runs.
 */
/**
 * V8's background threads (concurrent GC and compilation) sized to the machine's cores (`0`: cores − 1, at least 1)
 * instead of Node's fixed 4. On a 2-core machine four of them took the cores from the thread they work for: a cold
 * check of a 3,000-line Dockerfile waited 10–20 ms in the run queue (/proc schedstat) on an idle machine, and took
 * 35.5 instead of 42–43 ms with this flag alone (bench/diagnostics.bench.ts, which runs with it too).
 */
export const V8_POOL_FLAG = '--v8-pool-size=0';

export const SERVER_MEMORY_OPTIONS: { readonly execArgv: readonly string[]; readonly env: Readonly<Record<string, string>> } = {
  execArgv: ['--max-semi-space-size=1', V8_POOL_FLAG],
  env: { MALLOC_MMAP_THRESHOLD_: '131072' },
};
