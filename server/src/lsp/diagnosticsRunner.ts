/**
 * Runs `checkDockerfile` off the LSP thread, in a worker thread, so a slow document (dockerfile-utils' validation of
 * a 10,000-line continued RUN takes seconds) never delays completion, hover or a cancel on the main thread.
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
  private running: { id: number; resolve: (r: DiagnosticsResult) => void; timer: NodeJS.Timeout } | undefined;
  private readonly queue: { text: string; options?: SerializableCheckOptions; documentKey?: string; resolve: (r: DiagnosticsResult) => void }[] = [];
  private disabled = false;
  /** Incremental checkers when there is no worker (jobs run in-process). */
  private readonly localCheckers = new CheckerCache();
  private eagerStart: NodeJS.Immediate | undefined;

  constructor(
    private readonly workerScript: string | undefined,
    private readonly log: (message: string) => void,
    private readonly timeoutMs = 20_000,
  ) {
    // Start the worker now, not on the first didOpen: it loads while the client initialises, so the first didOpen
    // does not wait for a worker to start.
    if (workerScript) this.eagerStart = setImmediate(() => this.ensureWorker());
  }

  /**
   * Diagnostics of `text`; resolves once computed (never rejects). With a `documentKey` (the document's URI) the
   * worker re-analyses only what changed since that document's previous check; the result is the same as without.
   */
  check(text: string, options?: SerializableCheckOptions, documentKey?: string): Promise<DiagnosticsResult> {
    return new Promise((resolve) => {
      this.queue.push({ text, options, documentKey, resolve });
      this.pump();
    });
  }

  /** Drops the cached analysis of a document (call on didClose). Messages are ordered, so a later check starts afresh. */
  forget(documentKey: string): void {
    this.localCheckers.forget(documentKey);
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
        job.resolve(safeAnalyse(job.text, job.options, this.localCheckers, job.documentKey));
        this.pump();
      });
      return;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.log(`diagnostics took over ${this.timeoutMs} ms and were abandoned (worker restarted)`);
      this.dispose();
      this.finish(id, { diagnostics: [], ruleErrors: [] });
    }, this.timeoutMs);
    this.running = { id, resolve: job.resolve, timer };
    worker.postMessage({ kind: 'check', id, text: job.text, options: job.options, documentKey: job.documentKey } satisfies Job);
  }

  private finish(id: number, result: DiagnosticsResult): void {
    if (!this.running || this.running.id !== id) return;
    clearTimeout(this.running.timer);
    const { resolve } = this.running;
    this.running = undefined;
    resolve(result);
    this.pump();
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker || this.disabled || !this.workerScript) return this.worker;
    try {
      const worker = new Worker(this.workerScript, { workerData: { role: DIAGNOSTICS_WORKER_ROLE }, stdout: true, stderr: true });
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
  try {
    const result = analyse(text, options, documentKey !== undefined ? checkers.get(documentKey) : undefined);
    return { ...result, computeMs: performance.now() - t0 };
  } catch (e) {
    // A failed incremental run may have left its cache half-updated: start that document afresh next time.
    if (documentKey !== undefined) checkers.forget(documentKey);
    return { diagnostics: [], ruleErrors: [{ rule: 'diagnostics', message: e instanceof Error ? e.message : String(e) }] };
  }
}
