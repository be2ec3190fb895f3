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
import { installAstShims } from '../dockerfile/astShims';
import type { StrataDiagnostic } from '../rules/strataDiagnostic';
import { toCheckOptions, type SerializableCheckOptions } from '../rules/checkSettings';

export const DIAGNOSTICS_WORKER_ROLE = 'diagnostics';

interface Job {
  id: number;
  text: string;
  /** Rule settings, workspace config and context files (plain data: it crosses into the worker). */
  options?: SerializableCheckOptions;
}

export interface DiagnosticsResult {
  diagnostics: StrataDiagnostic[];
  /** Rules that threw (`onRuleError`), with their message. */
  ruleErrors: { rule: string; message: string }[];
}

interface WorkerReply extends DiagnosticsResult {
  id: number;
}

export function analyse(text: string, options?: SerializableCheckOptions): DiagnosticsResult {
  const ruleErrors: DiagnosticsResult['ruleErrors'] = [];
  const diagnostics = checkDockerfile(text, {
    ...toCheckOptions(options),
    onRuleError: (rule, e) => ruleErrors.push({ rule, message: e instanceof Error ? e.message : String(e) }),
  });
  return { diagnostics, ruleErrors };
}

/** The worker side: answer each job with the diagnostics of its text. */
export function runDiagnosticsWorker(): void {
  installAstShims();
  parentPort?.on('message', (job: Job) => {
    let reply: WorkerReply;
    try {
      reply = { id: job.id, ...analyse(job.text, job.options) };
    } catch (e) {
      reply = { id: job.id, diagnostics: [], ruleErrors: [{ rule: 'diagnostics', message: e instanceof Error ? e.message : String(e) }] };
    }
    parentPort?.postMessage(reply);
  });
}

export class DiagnosticsRunner {
  private worker: Worker | undefined;
  private nextId = 1;
  private running: { id: number; resolve: (r: DiagnosticsResult) => void; timer: NodeJS.Timeout } | undefined;
  private readonly queue: { text: string; options?: SerializableCheckOptions; resolve: (r: DiagnosticsResult) => void }[] = [];
  private disabled = false;

  constructor(
    private readonly workerScript: string | undefined,
    private readonly log: (message: string) => void,
    private readonly timeoutMs = 20_000,
  ) {}

  /** Diagnostics of `text`; resolves once computed (never rejects). */
  check(text: string, options?: SerializableCheckOptions): Promise<DiagnosticsResult> {
    return new Promise((resolve) => {
      this.queue.push({ text, options, resolve });
      this.pump();
    });
  }

  dispose(): void {
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
        job.resolve(safeAnalyse(job.text, job.options));
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
    worker.postMessage({ id, text: job.text, options: job.options } satisfies Job);
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

function safeAnalyse(text: string, options?: SerializableCheckOptions): DiagnosticsResult {
  try {
    return analyse(text, options);
  } catch (e) {
    return { diagnostics: [], ruleErrors: [{ rule: 'diagnostics', message: e instanceof Error ? e.message : String(e) }] };
  }
}
