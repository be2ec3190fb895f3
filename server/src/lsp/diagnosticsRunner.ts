/**
 * Runs `checkDockerfile` off the LSP thread, in a worker thread, so a slow document (dockerfile-utils' validation of
 * a 10,000-line continued RUN takes seconds) never delays completion, hover or a cancel on the main thread — except
 * the checks `MainThreadPolicy` predicts to be cheap (a small document whose previous check took under 2 ms): those
 * run right away on the main thread, which saves the two thread hand-overs a worker job costs.
 *
 * The worker is the server's own bundle started again with `workerData.role === 'diagnostics'` (see server.ts), so no
 * extra file ships. One worker serves all documents; per document only the newest text waits (older ones are
 * dropped, their version is stale). A job that runs past `timeoutMs` gets the worker terminated and restarted, and
 * an empty result with the failure logged. If worker threads are unavailable, jobs run in-process.
 */
import { Worker, parentPort } from 'node:worker_threads';
import { checkDockerfile } from '../rules/checkDockerfile';
import { IncrementalChecker } from '../rules/incrementalChecker';
import { installAstShims } from '../dockerfile/astShims';
import type { StrataDiagnostic } from '../rules/strataDiagnostic';
import { toCheckOptions, type SerializableCheckOptions } from '../rules/checkSettings';
import { MainThreadPolicy, mainThreadLimitsFromEnv, type MainThreadLimits } from './mainThreadPolicy';
import { DIAGNOSTICS_SEMI_SPACE_MB, withSemiSpace } from './workerHeap';

export const DIAGNOSTICS_WORKER_ROLE = 'diagnostics';

interface Job {
  kind?: 'check';
  id: number;
  text: string;
  /** Rule settings, workspace config and context files (plain data: it crosses into the worker). */
  options?: SerializableCheckOptions;
  /** The document (its URI): the worker keeps an IncrementalChecker per key. None: a one-off full check. */
  documentKey?: string;
}

/** Drops one document's cached analysis (sent on didClose). */
interface ForgetMessage {
  kind: 'forget';
  documentKey: string;
}

/** How many documents keep an incremental cache in the worker (least recently checked dropped first). */
const MAX_CACHED_DOCUMENTS = 32;

export interface DiagnosticsResult {
  diagnostics: StrataDiagnostic[];
  /** Rules that threw (`onRuleError`), with their message. */
  ruleErrors: { rule: string; message: string }[];
  /** Time the check itself took where it ran (ms), for STRATA_TRACE_DIAGNOSTICS. */
  computeMs?: number;
  /** The check started from nothing (no previous analysis of the document where it ran). */
  full?: boolean;
  /** Where the check ran: the worker thread, or the calling (main) thread. */
  ranOn?: 'main' | 'worker';
}

interface WorkerReply extends DiagnosticsResult {
  id: number;
}

/**
 * Incremental checkers by document key, least recently used first (a Map keeps insertion order; a hit re-inserts).
 * Each holds the previous analysis of its document, so bounding them bounds the memory.
 */
export class CheckerCache {
  private readonly checkers = new Map<string, IncrementalChecker>();

  constructor(private readonly limit = MAX_CACHED_DOCUMENTS) {}

  get(key: string): IncrementalChecker {
    let checker = this.checkers.get(key);
    if (checker) this.checkers.delete(key);
    else checker = new IncrementalChecker();
    this.checkers.set(key, checker);
    while (this.checkers.size > this.limit) this.checkers.delete(this.checkers.keys().next().value as string);
    return checker;
  }

  forget(key: string): void {
    this.checkers.delete(key);
  }

  get size(): number {
    return this.checkers.size;
  }

  has(key: string): boolean {
    return this.checkers.has(key);
  }
}

export function analyse(text: string, options?: SerializableCheckOptions, checker?: IncrementalChecker): DiagnosticsResult {
  const ruleErrors: DiagnosticsResult['ruleErrors'] = [];
  const checkOptions = {
    ...toCheckOptions(options),
    onRuleError: (rule: string, e: unknown) => ruleErrors.push({ rule, message: e instanceof Error ? e.message : String(e) }),
  };
  const diagnostics = checker ? checker.check(text, checkOptions) : checkDockerfile(text, checkOptions);
  return { diagnostics, ruleErrors };
}

/** The worker side: answer each job with the diagnostics of its text; `forget` drops a document's cache. */
export function runDiagnosticsWorker(): void {
  installAstShims();
  const checkers = new CheckerCache();
  parentPort?.on('message', (message: Job | ForgetMessage) => {
    if (message.kind === 'forget') {
      checkers.forget(message.documentKey);
      return;
    }
    const reply: WorkerReply = { id: message.id, ...safeAnalyse(message.text, message.options, checkers, message.documentKey) };
    parentPort?.postMessage(reply);
  });
}

export class DiagnosticsRunner {
  private worker: Worker | undefined;
  private nextId = 1;
  private running: { id: number; resolve: (r: DiagnosticsResult) => void; timer: NodeJS.Timeout; documentKey?: string; length: number } | undefined;
  private readonly queue: { text: string; options?: SerializableCheckOptions; documentKey?: string; resolve: (r: DiagnosticsResult) => void }[] = [];
  private disabled = false;
  /** Incremental checkers of the jobs run on this thread (all of them when there is no worker). */
  private readonly localCheckers = new CheckerCache();
  /** Which checks run on this thread although there is a worker (none without limits). */
  private readonly policy: MainThreadPolicy | undefined;
  private eagerStart: NodeJS.Immediate | undefined;

  constructor(
    private readonly workerScript: string | undefined,
    private readonly log: (message: string) => void,
    private readonly timeoutMs = 20_000,
    mainThread: MainThreadLimits | false = mainThreadLimitsFromEnv(),
  ) {
    if (mainThread) this.policy = new MainThreadPolicy(mainThread);
    // Start the worker now, not on the first didOpen: it loads while the client initialises, so the first didOpen
    // does not wait for a worker to start.
    if (workerScript) this.eagerStart = setImmediate(() => this.ensureWorker());
  }

  /**
   * Diagnostics of `text`; resolves once computed (never rejects). With a `documentKey` (the document's URI) the
   * worker re-analyses only what changed since that document's previous check; the result is the same as without.
   */
  check(text: string, options?: SerializableCheckOptions, documentKey?: string): Promise<DiagnosticsResult> {
    if (documentKey !== undefined && this.policy && this.workerScript && !this.disabled
      && this.policy.runsOnMain(documentKey, text, this.localCheckers.has(documentKey))) {
      // Cheap by the policy's prediction: now, on this thread. The document's worker-side analysis stays (LRU-bounded)
      // so a later check that goes back there re-analyses only what changed since.
      const result: DiagnosticsResult = { ...safeAnalyse(text, options, this.localCheckers, documentKey), ranOn: 'main' };
      this.policy.record(documentKey, text.length, result.computeMs ?? Infinity, result.full ?? true, true);
      return Promise.resolve(result);
    }
    return new Promise((resolve) => {
      this.queue.push({ text, options, documentKey, resolve });
      this.pump();
    });
  }

  /** Drops the cached analysis of a document (call on didClose). Messages are ordered, so a later check starts afresh. */
  forget(documentKey: string): void {
    this.localCheckers.forget(documentKey);
    this.policy?.forget(documentKey);
    this.worker?.postMessage({ kind: 'forget', documentKey } satisfies ForgetMessage);
  }

  dispose(): void {
    clearImmediate(this.eagerStart);
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    const worker = this.ensureWorker();
    if (!worker) {
      // No worker: compute here, but still asynchronously so the caller's message loop turns first.
      setImmediate(() => {
        job.resolve({ ...safeAnalyse(job.text, job.options, this.localCheckers, job.documentKey), ranOn: 'main' });
        this.pump();
      });
      return;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.log(`diagnostics took over ${this.timeoutMs} ms and were abandoned (worker restarted)`);
      this.dispose();
      this.finish(id, { diagnostics: [], ruleErrors: [], computeMs: this.timeoutMs, full: true });
    }, this.timeoutMs);
    this.running = { id, resolve: job.resolve, timer, documentKey: job.documentKey, length: job.text.length };
    worker.postMessage({ kind: 'check', id, text: job.text, options: job.options, documentKey: job.documentKey } satisfies Job);
  }

  private finish(id: number, result: DiagnosticsResult): void {
    if (!this.running || this.running.id !== id) return;
    clearTimeout(this.running.timer);
    const { resolve, documentKey, length } = this.running;
    this.running = undefined;
    if (documentKey !== undefined) this.policy?.record(documentKey, length, result.computeMs ?? Infinity, result.full ?? true, false);
    resolve({ ...result, ranOn: 'worker' });
    this.pump();
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker || this.disabled || !this.workerScript) return this.worker;
    try {
      // a young generation big enough for a cold check of a large file (workerHeap.ts)
      const script = this.workerScript;
      const worker = withSemiSpace(DIAGNOSTICS_SEMI_SPACE_MB, () => new Worker(script, { workerData: { role: DIAGNOSTICS_WORKER_ROLE }, stdout: true, stderr: true }));
      worker.on('message', (r: WorkerReply) => this.finish(r.id, r));
      worker.on('error', (e) => {
        this.log(`diagnostics worker failed: ${e.message}`);
        if (this.worker === worker) this.worker = undefined;
        if (this.running) this.finish(this.running.id, { diagnostics: [], ruleErrors: [] });
      });
      worker.on('exit', () => {
        if (this.worker === worker) this.worker = undefined;
      });
      worker.unref();
      this.worker = worker;
    } catch (e) {
      this.log(`diagnostics run on the main thread (no worker: ${e instanceof Error ? e.message : String(e)})`);
      this.disabled = true;
    }
    return this.worker;
  }
}

/** `analyse` that never throws; with a `documentKey`, incrementally through that document's checker in `checkers`. */
function safeAnalyse(text: string, options: SerializableCheckOptions | undefined, checkers: CheckerCache, documentKey?: string): DiagnosticsResult {
  const t0 = performance.now();
  const full = documentKey === undefined || !checkers.has(documentKey);
  try {
    const result = analyse(text, options, documentKey !== undefined ? checkers.get(documentKey) : undefined);
    return { ...result, computeMs: performance.now() - t0, full };
  } catch (e) {
    // A failed incremental run may have left its cache half-updated: start that document afresh next time.
    if (documentKey !== undefined) checkers.forget(documentKey);
    return { diagnostics: [], ruleErrors: [{ rule: 'diagnostics', message: e instanceof Error ? e.message : String(e) }] };
  }
}
