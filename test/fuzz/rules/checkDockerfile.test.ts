/**
 * Fuzz (issue 3 "Bad input", issue 6, issue 11): mutated corpus Dockerfiles through dockerfile-ast's parser and
 * Strata's diagnostics. Fails on any throw, any rule error (`onRuleError`), any diagnostic outside the document once
 * converted for the editor, any file taking more than 1 s of CPU time (CPU, not wall time: this machine's 2 cores are
 * shared), and any file that does not finish at all.
 *
 * The checks run in a worker thread (this same file, see `isMainThread` at the end) so that a file that never ends
 * (an exponential regex, an endless loop) fails the test instead of hanging it until CI's limit: the worker publishes
 * the index of the file it is on in shared memory, and the main thread terminates it once one file has used
 * FILE_DEADLINE_CPU_MS (2 s) of the worker thread's CPU, read from /proc: a wall-clock bound would fail ordinary files
 * whenever this 2-core machine is shared, or have to be so generous that a hang takes minutes to report. Wall time
 * only backs it up (FILE_DEADLINE_WALL_MS, 30 s, or STRATA_FUZZ_FILE_WALL_S; the only bound where /proc is missing).
 * Every failure names the seed and index and writes the input to os.tmpdir() (see `saveInput`);
 * `STRATA_FUZZ_INPUT=<that file>` then checks that one input. Inputs that failed before stay in FOUND_BY_FUZZ.
 *
 * Count: 100,000 files × STRATA_FUZZ_SCALE / 10, i.e. 10,000 in `npm test` and the full 100,000 under `npm run fuzz`
 * (STRATA_FUZZ_SCALE=10). A wall-clock budget (20 s × scale, or STRATA_FUZZ_BUDGET_S) stops the run early on a slow
 * machine; the number of files actually checked is printed.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { DockerfileParser } from 'dockerfile-ast';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';
import { installAstShims } from '../../../server/src/dockerfile/astShims';
import { ShadowText } from '../../../server/src/lsp/shadowText';
import { FUZZ_BUDGET_MS, FUZZ_SCALE, FUZZ_SEED, loadCorpus, mutate, rng } from '../corpusMutator';
import { lineLengths, positionOutside } from '../../support/documentRanges';
import { crlf } from '../../support/paths';
import { statCpuMs } from '../../support/threadCpu';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { toLspDiagnostic } from '../../../server/src/lsp/strataServer';

const FILES = Math.round((100_000 * FUZZ_SCALE) / 10);
/** STRATA_FUZZ_FROM=n starts at iteration n of the sequence: to split a long run over processes, or to reach a failure. */
const FROM = Math.max(0, Number(process.env.STRATA_FUZZ_FROM ?? '') || 0);
/** A file is abandoned after 2 s of the worker thread's CPU: twice the 1 s bound that fails a slow file. */
const FILE_DEADLINE_CPU_MS = 2_000;
/** …or after 30 s of wall time (also where /proc is missing, i.e. not Linux): a hang, whatever the machine's load. */
const FILE_DEADLINE_WALL_MS = Number(process.env.STRATA_FUZZ_FILE_WALL_S ?? '') * 1000 || 30_000;
const POLL_MS = 100;
const PROGRESS_EVERY_MS = 60_000;

/** What the worker is asked to do. `hangAt` is only for the self-test of the deadline. */
interface Job {
  seed: number;
  /** Check iterations [from, files) of the seed's sequence (the ones before are generated, not checked). */
  from: number;
  files: number;
  budgetMs: number;
  /** Slot 0: index of the file being checked; slot 1: the worker thread's id (0 until known). */
  progress: SharedArrayBuffer;
  /** Check these texts instead of mutated corpus files (FOUND_BY_FUZZ, or STRATA_FUZZ_INPUT). */
  inputs?: FixedInput[];
  hangAt?: number;
}

interface FixedInput {
  text: string;
  what: string;
  /** A diagnostic the input must give (rule id), whose message names `named`. */
  expect?: { rule: string; named: string };
}

/**
 * Inputs that hung or threw in earlier runs, each checked with LF and with CRLF before the mutated files (under the
 * same deadline, so a regression fails instead of hanging).
 */
const LONG = 'x'.repeat(60);
const FOUND_BY_FUZZ: FixedInput[] = [
  // dockerfile-utils' stage-name regex `/^[a-z]([a-z0-9_\-.]*)*$/` backtracks exponentially; it tests the third
  // argument of any three-argument FROM, with or without AS (100,000-file run, seed 20261125, iteration 13737).
  { what: 'three-argument FROM without AS', text: `FROM golang:1.26-ltsc202${LONG}{${LONG}FROM ${LONG} ${LONG}[${LONG}]${LONG}5\n`, expect: { rule: 'syntax/invalid-build-stage-name', named: `${LONG}[${LONG}]${LONG}5` } },
  { what: 'stage name led by the escape character', text: `FROM alpine AS \\${LONG}!\n`, expect: { rule: 'syntax/invalid-build-stage-name', named: `${LONG}!` } },
  { what: 'stage name after a split keyword', text: `FR\\\nOM alpine AS ${LONG}!\n`, expect: { rule: 'syntax/invalid-build-stage-name', named: `${LONG}!` } },
];

type Outcome =
  | { kind: 'done'; done: number; slowest: { ms: number; index: number; what: string }; rawOutside: string[] }
  | { kind: 'fail'; index: number; what: string; message: string }
  | { kind: 'deadline'; index: number; cpuMs: number | undefined; wallMs: number }
  | { kind: 'crash'; index: number; message: string };

// ---------------------------------------------------------------------------------------------------------------------
// Worker side: the checks themselves, one file after the other.

/** The failures for one input, as the language server would meet it; `ms` is the CPU time it took. */
function checkOne(text: string, expect?: FixedInput['expect']): { failures: string[]; rawOutside: string[]; ms: number } {
  const cpu = process.cpuUsage();
  const ruleErrors: string[] = [];
  // As the language server runs it: on the ShadowText (lines over 16 K characters cut, see shadowText.ts).
  DockerfileParser.parse(text);
  const shadow = new ShadowText(text);
  const diagnostics = checkDockerfile(shadow.text, { onRuleError: (rule, e) => ruleErrors.push(`${rule}: ${(e as Error).message}`) });
  const used = process.cpuUsage(cpu);
  const ms = (used.user + used.system) / 1000;
  const failures = ruleErrors.map((e) => `rule error ${e}`);
  if (ms >= 1000) failures.push(`${ms.toFixed(0)} ms CPU`);
  if (expect && !diagnostics.some((d) => d.rule === expect.rule && d.message.includes(expect.named))) {
    failures.push(`no ${expect.rule} naming ${expect.named}: ${JSON.stringify(diagnostics.map((d) => `${d.rule}: ${d.message}`))}`);
  }
  // What the editor shows: ranges after the server's conversion (clamped into the document) must be inside.
  const doc = TextDocument.create('file:///fuzz/Dockerfile', 'dockerfile', 1, text);
  const lengths = lineLengths(text);
  const rawOutside: string[] = [];
  for (const raw of diagnostics) {
    const d = shadow.mapDiagnostic(raw);
    const lsp = toLspDiagnostic(d, doc);
    const outside = positionOutside(lsp.range, text, lengths);
    if (outside !== undefined) failures.push(`${d.rule} outside the document: ${outside}`);
    if (!(lsp.range.start.line < lsp.range.end.line || lsp.range.start.character <= lsp.range.end.character)) failures.push(`${d.rule} inverted`);
    // Raw rule ranges past a line's end are clamped by the server, but the CLI prints them as they are: count them.
    const inside = d.line >= 0 && d.endLine < lengths.length && d.character <= lengths[d.line] && d.endCharacter <= lengths[d.endLine];
    if (!inside) rawOutside.push(`${d.rule} ${d.line}:${d.character}-${d.endLine}:${d.endCharacter}`);
  }
  return { failures, rawOutside, ms };
}

/** The thread id of the calling thread (Linux), so that the main thread can read its CPU time; 0 elsewhere. */
function ownThreadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop()) || 0;
  } catch {
    return 0;
  }
}

function runWorker(job: Job): Outcome {
  const progress = new Int32Array(job.progress);
  Atomics.store(progress, 1, ownThreadId());
  installAstShims(); // as the language server does
  const corpus = job.inputs ? undefined : loadCorpus();
  const r = rng(job.seed);
  const started = Date.now();
  const rawOutside: string[] = [];
  let slowest = { ms: 0, index: -1, what: '' };
  let done = job.from;
  for (let i = 0; corpus && i < job.from; i++) mutate(r, corpus);
  for (; done < job.files && Date.now() - started < job.budgetMs; done++) {
    Atomics.store(progress, 0, done);
    const { text, what, expect }: FixedInput = corpus ? mutate(r, corpus) : job.inputs![done];
    if (done === job.hangAt) /^[a-z]([a-z0-9_\-.]*)*$/.test('a'.repeat(60) + '!'); // dockerfile-utils' old ReDoS
    let result;
    try {
      result = checkOne(text, expect);
    } catch (e) {
      return { kind: 'fail', index: done, what, message: `threw: ${(e as Error).stack ?? String(e)}` };
    }
    if (result.failures.length > 0) return { kind: 'fail', index: done, what, message: result.failures.join('\n') };
    if (result.ms > slowest.ms) slowest = { ms: result.ms, index: done, what };
    for (const o of result.rawOutside) rawOutside.push(`${o} on iteration ${done}: ${what}`);
  }
  return { kind: 'done', done, slowest, rawOutside };
}

// ---------------------------------------------------------------------------------------------------------------------
// Main side: the deadline.

/** CPU time (ms) of thread `tid` of this process, or undefined where /proc cannot tell (10 ms resolution). */
function threadCpuMs(tid: number): number | undefined {
  if (tid === 0) return undefined;
  try {
    return statCpuMs(`/proc/self/task/${tid}/stat`);
  } catch {
    return undefined;
  }
}

/** Runs `job` in a worker thread; terminates it when one file passes its deadline. */
function runWithDeadline(job: Omit<Job, 'progress'>): Promise<Outcome> {
  const progress = new SharedArrayBuffer(8);
  const slots = new Int32Array(progress);
  Atomics.store(slots, 0, -1);
  const worker = new Worker(__filename, { workerData: { strataFuzzJob: { ...job, progress } } });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      void worker.terminate();
      resolve(o);
    };
    let current = -1;
    let since = performance.now();
    let cpuSince: number | undefined;
    const started = since;
    let reported = since;
    const timer = setInterval(() => {
      const index = Atomics.load(slots, 0);
      const cpu = threadCpuMs(Atomics.load(slots, 1));
      const now = performance.now();
      // The long run (`npm run fuzz`) takes many minutes on a loaded machine: say how far it got now and then.
      if (job.files > 10_000 && now - reported > PROGRESS_EVERY_MS) {
        reported = now;
        console.log(`fuzz(parser+diagnostics): at iteration ${index} of ${job.files} after ${((now - started) / 1000).toFixed(0)} s`);
      }
      if (index !== current) {
        current = index;
        since = now;
        cpuSince = cpu;
        return;
      }
      const cpuMs = cpu !== undefined && cpuSince !== undefined ? cpu - cpuSince : undefined;
      if (index >= 0 && ((cpuMs ?? 0) > FILE_DEADLINE_CPU_MS || now - since > FILE_DEADLINE_WALL_MS)) {
        settle({ kind: 'deadline', index, cpuMs, wallMs: now - since });
      }
    }, POLL_MS);
    worker.on('message', (o: Outcome) => settle(o));
    worker.on('error', (e) => settle({ kind: 'crash', index: Atomics.load(slots, 0), message: e.stack ?? String(e) }));
    worker.on('exit', (code) => settle({ kind: 'crash', index: Atomics.load(slots, 0), message: `worker exited with code ${code}` }));
  });
}

/** Regenerates input `index` of `seed` (the sequence is deterministic) and writes it where it can be reproduced. */
function saveInput(seed: number, index: number, inputs?: FixedInput[]): { file: string; what: string } {
  let { text, what } = inputs?.[index] ?? { text: '', what: '' };
  if (inputs === undefined) {
    const corpus = loadCorpus();
    const r = rng(seed);
    for (let i = 0; i <= index; i++) ({ text, what } = mutate(r, corpus));
  }
  const file = path.join(os.tmpdir(), `strata-fuzz-rules-${inputs ? 'fixed' : `seed${seed}`}-${index}.Dockerfile`);
  writeFileSync(file, text);
  return { file, what };
}

/** The failure message for anything but `done`: seed, index, mutation, and the saved input. */
function describeFailure(o: Exclude<Outcome, { kind: 'done' }>, seed: number, inputs?: FixedInput[]): string {
  if (o.index < 0) return o.kind === 'crash' ? `worker failed before the first file: ${o.message}` : `${o.kind} before the first file`;
  const saved = saveInput(seed, o.index, inputs);
  const why = o.kind === 'deadline'
    ? `did not finish: abandoned after ${o.cpuMs === undefined ? '?' : o.cpuMs.toFixed(0)} ms CPU, ${o.wallMs.toFixed(0)} ms wall`
    : o.message;
  return `${why}\n  on ${inputs ? `input ${o.index}` : `iteration ${o.index} (seed ${seed})`}: ${saved.what}\n  input saved to ${saved.file} ` +
    `(reproduce: STRATA_FUZZ_INPUT=${saved.file}${inputs ? '' : `, or STRATA_FUZZ_SEED=${seed}`})`;
}

if (isMainThread) {
  describe('fuzz: parser + diagnostics over mutated corpus Dockerfiles', () => {
    const file = process.env.STRATA_FUZZ_INPUT;
    const inputs = file ? [{ text: readFileSync(file, 'utf8'), what: `STRATA_FUZZ_INPUT=${file}` }] : undefined;
    const files = inputs ? 1 : FILES;

    it(`inputs found by earlier runs (LF and CRLF): no throw, no rule error, < 1 s CPU each, none unfinished`, async () => {
      const fixed = FOUND_BY_FUZZ.flatMap((f) => [{ ...f, what: `${f.what} (LF)` }, { ...f, text: crlf(f.text), what: `${f.what} (CRLF)` }]);
      const o = await runWithDeadline({ seed: FUZZ_SEED, from: 0, files: fixed.length, budgetMs: Infinity, inputs: fixed });
      if (o.kind !== 'done') assert.fail(describeFailure(o, FUZZ_SEED, fixed));
      assert.equal(o.done, fixed.length);
    });

    it(`${files} mutated files (seed ${FUZZ_SEED}): no throw, no rule error, ranges inside, < 1 s CPU each, none unfinished`, async () => {
      const started = Date.now();
      const from = inputs ? 0 : Math.min(FROM, files);
      const o = await runWithDeadline({ seed: FUZZ_SEED, from, files, budgetMs: FUZZ_BUDGET_MS, inputs });
      if (o.kind !== 'done') assert.fail(describeFailure(o, FUZZ_SEED, inputs));
      if (o.rawOutside.length > 0) {
        console.log(`fuzz(parser+diagnostics): NOTE ${o.rawOutside.length} raw rule ranges outside the document before clamping, first: ${o.rawOutside[0]}`);
      }
      const range = from > 0 ? ` (iterations ${from}–${o.done - 1})` : '';
      console.log(`fuzz(parser+diagnostics): ${o.done - from}/${files - from} files${range} in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
        `slowest ${o.slowest.ms.toFixed(0)} ms CPU (iteration ${o.slowest.index} (seed ${FUZZ_SEED}): ${o.slowest.what})`);
      // The budget is wall time on a shared machine; under heavy load few files fit, so only require that it ran.
      assert.ok(o.done - from >= Math.min(files - from, 50), `only ${o.done - from} files within the budget`);
    });

    it('a file that never finishes fails the run, named and saved, instead of hanging it', async () => {
      const seed = 7;
      const started = Date.now();
      const o = await runWithDeadline({ seed, from: 0, files: 20, budgetMs: 60_000, hangAt: 3 });
      assert.equal(o.kind, 'deadline', JSON.stringify(o));
      assert.equal(o.index, 3);
      assert.ok(Date.now() - started < FILE_DEADLINE_WALL_MS + 10_000, `took ${Date.now() - started} ms`);
      const message = describeFailure(o as Exclude<Outcome, { kind: 'done' }>, seed);
      const file = /input saved to (\S+)/.exec(message)?.[1];
      assert.ok(file, message);
      const corpus = loadCorpus();
      const r = rng(seed);
      for (let i = 0; i < 3; i++) mutate(r, corpus);
      assert.equal(readFileSync(file, 'utf8'), mutate(r, corpus).text, 'the saved input is the one the worker was on');
      assert.match(message, /iteration 3 \(seed 7\)/);
    });
  });
} else if ((workerData as { strataFuzzJob?: Job } | undefined)?.strataFuzzJob) {
  parentPort!.postMessage(runWorker((workerData as { strataFuzzJob: Job }).strataFuzzJob));
}
