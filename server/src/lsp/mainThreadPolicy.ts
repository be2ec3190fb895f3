/**
 * Decides where a document's diagnostics run: on the LSP main thread (no thread hand-over: on a small file the two
 * hand-overs of a worker job cost more than the check itself) or in the diagnostics worker (anything that may be
 * slow, so completion, hover and cancellation are never held up by it).
 *
 * The decision is a prediction from the document's own measured checks, and bounds how long the main thread is
 * blocked (docs/architecture/lsp.md "Diagnostics latency"):
 * - text over `maxChars`: worker, always (so the first check of a big document never runs on the main thread);
 * - a document's first check: worker (its cost is unknown);
 * - the previous check took `maxSpikeMs` or more: worker;
 * - a document in the worker moves to the main thread only after two checks in a row under `maxMs`; once there it
 *   stays until two checks in a row take `2 × maxMs` or more. The gap between the two is on purpose: on a busy
 *   machine check times jitter around any single threshold, and a document that flips between the threads pays for
 *   it (each side re-analyses what changed since its own last check, and both threads' code must be kept compiled);
 * - the text grew or shrank by more than `maxGrowth` characters since the previous check (a paste: the new part's
 *   cost is unknown): worker;
 * - the main thread has no analysis of the document yet (taking it over is a full check, not an incremental one):
 *   only if the document's last full check took under `maxFullMs`.
 * So the main thread runs a check only of a small document whose previous check took under `maxSpikeMs` and that one
 * or the one before under `2 × maxMs`, and takes a document over (a full check) only when its last full check
 * measured under `maxFullMs` (the first check of a document runs in a cold worker, hence the allowance: warm, a
 * small file's full check takes 2–5 ms). A misprediction costs at most two checks on the main thread before the
 * document goes to the worker.
 */

export interface MainThreadLimits {
  /** Documents longer than this (UTF-16 units) are always checked in the worker. */
  maxChars: number;
  /** A document moves to the main thread after two checks in a row under this (ms); it leaves after two over twice this. */
  maxMs: number;
  /** A document goes to the worker after one check that took this long (ms) or longer. */
  maxSpikeMs: number;
  /** A full check (the main thread taking a document over) only if the document's last full check took less (ms). */
  maxFullMs: number;
  /** A text whose length changed by more than this since the previous check goes to the worker. */
  maxGrowth: number;
}

export const MAIN_THREAD_LIMITS: MainThreadLimits = { maxChars: 32 * 1024, maxMs: 2, maxSpikeMs: 8, maxFullMs: 50, maxGrowth: 1024 };

/**
 * The limits as the environment sets them: `STRATA_DIAGNOSTICS_MAIN_THREAD=0` runs every check in the worker (as
 * before the main-thread path, for before/after measurements); `=always` runs every check after a document's first
 * on the main thread whatever it cost, up to `maxChars` (tests use it to compare both paths). Otherwise the defaults.
 */
export function mainThreadLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): MainThreadLimits | false {
  const mode = env.STRATA_DIAGNOSTICS_MAIN_THREAD;
  if (mode === '0') return false;
  if (mode === 'always') return { ...MAIN_THREAD_LIMITS, maxMs: Infinity, maxSpikeMs: Infinity, maxFullMs: Infinity, maxGrowth: Infinity };
  return MAIN_THREAD_LIMITS;
}

/** How many documents' measurements are kept (least recently checked dropped first). */
const MAX_DOCUMENTS = 256;

interface DocumentCost {
  /** Duration of the previous check (ms), where it ran. */
  lastMs: number;
  /** Duration of the check before it (ms; the previous check's own if there was none). */
  beforeMs: number;
  /** Duration of the last full (from-scratch) check (ms), where it ran. */
  fullMs: number;
  /** Text length at the previous check. */
  length: number;
  /** Where the previous check ran. */
  onMain: boolean;
}

export class MainThreadPolicy {
  private readonly costs = new Map<string, DocumentCost>();

  constructor(private readonly limits: MainThreadLimits = MAIN_THREAD_LIMITS) {}

  /**
   * Whether this check of `documentKey` should run on the main thread; `warm`: the main thread holds an incremental
   * analysis of the document (else running there means a full check).
   */
  runsOnMain(documentKey: string, text: string, warm: boolean): boolean {
    const l = this.limits;
    const cost = this.costs.get(documentKey);
    if (!cost || text.length > l.maxChars || cost.lastMs >= l.maxSpikeMs) return false;
    if (Math.abs(text.length - cost.length) > l.maxGrowth) return false;
    if (cost.onMain) return Math.min(cost.lastMs, cost.beforeMs) < 2 * l.maxMs;
    return Math.max(cost.lastMs, cost.beforeMs) < l.maxMs && (warm || cost.fullMs < l.maxFullMs);
  }

  /** Records a finished check: its duration, whether it was a full one, the text's length, where it ran. */
  record(documentKey: string, length: number, ms: number, full: boolean, onMain: boolean): void {
    const previous = this.costs.get(documentKey);
    this.costs.delete(documentKey);
    this.costs.set(documentKey, { lastMs: ms, beforeMs: previous?.lastMs ?? ms, fullMs: full || !previous ? ms : previous.fullMs, length, onMain });
    if (this.costs.size > MAX_DOCUMENTS) this.costs.delete(this.costs.keys().next().value as string);
  }

  forget(documentKey: string): void {
    this.costs.delete(documentKey);
  }
}
