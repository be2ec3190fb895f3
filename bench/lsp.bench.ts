/**
 * Language-server latency over stdio (issue 11), as an editor sees it, against a baseline measured in the same run.
 *
 * Texts: a 3,000-line Dockerfile assembled from ../shared/corpus/dockerfiles (LF files without `# escape=`, in index
 * order) and the median-size corpus file. For each text:
 * - baseline: dockerfile-ast's bare `DockerfileParser.parse` of the text, in-process (median of samples taken before
 *   and after each server's run, so both servers are compared with the same machine load);
 * - didChange → publishDiagnostics: one-character edits as a user types: on line after line (spread over the file), a
 *   three-letter word typed into the instruction's arguments one key at a time, then deleted with three backspaces;
 *   measured twice per server: on the fresh server, then (the headline figures) after the same editing session in
 *   other corpus documents for every server (STRATA_BENCH_WARMUP=N documents, default 100: a server in an editor runs
 *   for hours, and the baseline parse runs warm in this process; the warm-up's p50 by quarter is printed);
 *   p50 and p99 (nearest rank: with 60 edits p99 is the slowest edit), for our dist/server.js
 *   and for dockerfile-language-server-nodejs 0.15.0 (devDependency) over stdio, in a temporary workspace that has
 *   .strata.json, .hadolint.yaml and .dockerignore; ratios to the bare parse and to the peer, plus each server's
 *   CPU per edit (the whole process, and its main thread: CPU time is far less sensitive to the machine's load than
 *   wall time) and (ours) where a run spent its time (STRATA_TRACE_DIAGNOSTICS, medians: "in" = didChange sent →
 *   run scheduled, the server's phases, "out" = publish sent → received; how many runs were on the main thread);
 * - semantic tokens for the text (median), both servers;
 * - three reference servers (bench/referenceLspServer.js, same client, same edits): one that only applies the change
 *   and publishes empty diagnostics, one that also parses the new text once with dockerfile-ast, and the first again
 *   with each message written in one system call instead of vscode-jsonrpc's two. They show what the stdio/JSON-RPC
 *   path and a single in-server parse cost in this run, so the ratios to the in-process parse can be read.
 * Then the pathological documents (1 MB line, 10,000-line RUN continuation, 2,000 `$A`): the slowest answer of our
 * server over every advertised request (goal: < 1 s), and whether the peer answers semantic tokens within 5 s.
 *
 *   npm run bench -- lsp        (STRATA_BENCH_EDITS=N edits per text and server, default 60; STRATA_BENCH_WARMUP=N;
 *                                STRATA_BENCH_SERVER=path/to/server.js measures another build of ours, for before/after;
 *                                STRATA_BENCH_ONLY=median|3000|pathological runs only the parts whose name contains it;
 *                                STRATA_BENCH_TRACES=1 prints every diagnostics trace line of ours;
 *                                STRATA_BENCH_THREADS=1 prints each server's CPU per edit by thread (V8's compiler and
 *                                GC threads compete with the server and the client for this VM's two cores);
 *                                STRATA_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles our server, per thread)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import {
  CancellationTokenSource,
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { statCpuMs, threadCpuNs } from '../test/support/threadCpu';

const ROOT = process.env.STRATA_ROOT ?? path.resolve(__dirname, '../..');
const CORPUS = path.resolve(ROOT, '../shared/corpus/dockerfiles');
const EDITS = Number(process.env.STRATA_BENCH_EDITS ?? 60);
/** A part of the run (`median`, `3000`, `pathological`): only parts whose name contains it run (all when unset). */
const ONLY = process.env.STRATA_BENCH_ONLY;
const runs = (part: string) => !ONLY || part.replace(/,/g, '').includes(ONLY);
/** Node options for our server only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: one profile per thread). */
const NODE_ARGS = process.env.STRATA_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

function corpusTexts(): { file: string; text: string }[] {
  const rows = readFileSync(path.join(CORPUS, 'FEATURES.tsv'), 'utf8').trim().split('\n').slice(1).map((r) => r.split('\t'));
  return rows.map(([file]) => ({ file, text: readFileSync(path.join(CORPUS, file), 'utf8') }));
}

function assemble3000(all: { text: string }[]): string {
  const lines: string[] = [];
  for (const { text } of all) {
    if (text.includes('\r') || /^\s*#\s*escape\s*=/im.test(text)) continue;
    lines.push(...text.split('\n'));
    if (lines.length >= 3000) break;
  }
  return lines.slice(0, 3000).join('\n') + '\n';
}

function medianFile(all: { file: string; text: string }[]): { file: string; text: string } {
  const sorted = [...all].sort((a, b) => a.text.length - b.text.length);
  return sorted[sorted.length >> 1];
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

function bareParseSamples(text: string, n = 15): number[] {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    DockerfileParser.parse(text);
    times.push(performance.now() - t);
  }
  return times;
}

/** A workspace as users have one: the settings files Strata reads for every diagnostics run. */
function benchWorkspace(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-lsp-bench-'));
  writeFileSync(path.join(dir, '.strata.json'), '{"rules": {"size/no-install-recommends": "info"}}\n');
  writeFileSync(path.join(dir, '.hadolint.yaml'), 'ignored:\n  - DL3008\noverride:\n  warning:\n    - DL3009\n');
  writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n.git\n*.log\n');
  return dir;
}

class Client {
  readonly proc: ChildProcess;
  readonly conn: ProtocolConnection;
  private waiters: ((p: PublishDiagnosticsParams) => void)[] = [];
  init!: InitializeResult;
  /**
   * Where the server appends its `diagnostics trace …` lines (STRATA_TRACE_DIAGNOSTICS=<file>, lsp/traceSink.ts):
   * a file, not LSP log messages, so tracing adds no pipe write to the path being measured.
   */
  readonly traceFile: string;
  /** Epoch times (ms) each version's didChange was sent and its diagnostics received, against the trace's. */
  readonly sentAt = new Map<number, number>();
  readonly receivedAt = new Map<number, number>();
  private stopping = false;

  constructor(readonly name: string, command: string[], env: Record<string, string> = {}) {
    this.traceFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'strata-lsp-trace-')), 'trace.log');
    this.proc = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, ...env, STRATA_TRACE_DIAGNOSTICS: this.traceFile } });
    // A server that dies mid-run (or a dist/ rebuilt under it) must fail the bench loudly, not leave it waiting.
    this.proc.on('exit', (code, signal) => {
      if (this.stopping) return;
      console.error(`lsp bench: ${name} exited (${code ?? signal}) during the run`);
      process.exit(1);
    });
    this.conn = createProtocolConnection(new StreamMessageReader(this.proc.stdout!), new StreamMessageWriter(this.proc.stdin!));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      for (const w of this.waiters.splice(0)) w(p);
    });
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => null));
    this.conn.listen();
  }

  /** The trace lines written so far (a server writes each one synchronously right after its publish). */
  get traces(): string[] {
    if (!existsSync(this.traceFile)) return [];
    return readFileSync(this.traceFile, 'utf8').split('\n').filter((l) => l.startsWith('diagnostics trace'));
  }

  async start(rootUri: string | null = null): Promise<void> {
    this.init = await this.conn.sendRequest<InitializeResult>('initialize', {
      processId: process.pid, rootUri, capabilities: { textDocument: { publishDiagnostics: { versionSupport: true } } },
    });
    await this.conn.sendNotification('initialized', {});
  }

  get incremental(): boolean {
    const sync = this.init.capabilities.textDocumentSync;
    return (typeof sync === 'number' ? sync : sync?.change) === 2;
  }

  /** The next publishDiagnostics for `uri` (matching `version` when the server sends versions). */
  nextDiagnostics(uri: string, version: number, timeoutMs = 30_000): Promise<number> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no diagnostics for v${version}`)), timeoutMs);
      const wait = (p: PublishDiagnosticsParams) => {
        if (p.uri === uri && (p.version === undefined || p.version === version)) {
          this.receivedAt.set(version, performance.timeOrigin + performance.now());
          clearTimeout(timer);
          resolve(performance.now() - t0);
        } else this.waiters.push(wait);
      };
      this.waiters.push(wait);
    });
  }

  /** CPU time (ms) of the server's main thread so far (Linux /proc): wall time on a loaded machine measures the load. */
  mainThreadCpuMs(): number {
    return this.cpuMs(`/proc/${this.proc.pid}/task/${this.proc.pid}/stat`);
  }

  /** CPU time (ms) of the whole server process so far (all threads: our diagnostics worker included). */
  processCpuMs(): number {
    return this.cpuMs(`/proc/${this.proc.pid}/stat`);
  }

  private cpuMs(file: string): number {
    try {
      return statCpuMs(file);
    } catch {
      return NaN;
    }
  }

  async timedRequest(method: string, params: unknown, timeoutMs: number): Promise<number> {
    const cts = new CancellationTokenSource();
    const t0 = performance.now();
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs));
    const r = await Promise.race([this.conn.sendRequest(method, params, cts.token).catch(() => 'error'), timer]);
    if (r === 'timeout') cts.cancel();
    return r === 'timeout' ? Infinity : performance.now() - t0;
  }

  stop(): void {
    this.stopping = true;
    this.conn.dispose();
    // Profiling (STRATA_BENCH_NODE_ARGS): the server must exit by itself (stdin closed) to write its profiles.
    if (NODE_ARGS.length) {
      this.proc.stdin!.end();
      setTimeout(() => this.proc.kill(), 10_000).unref();
    } else this.proc.kill();
    rmSync(path.dirname(this.traceFile), { recursive: true, force: true });
  }
}

const WORD = 'abc';

/**
 * The keystrokes: visit non-blank lines spread over the file (a prime stride), type WORD one character at a time
 * right after the line's first word (inside an instruction's arguments, or a comment), then delete it with
 * backspaces, and go on to the next line. Each keystroke is one didChange of one character.
 */
function keystrokes(text: string, count: number): { line: number; character: number; insert: string | null }[] {
  const lines = text.split('\n');
  const candidates = lines.map((l, i) => (l.trim() ? i : -1)).filter((i) => i >= 0);
  const out: { line: number; character: number; insert: string | null }[] = [];
  for (let visit = 0; out.length < count; visit++) {
    const line = candidates[(visit * 7919) % candidates.length];
    const l = lines[line];
    const space = l.search(/\S\s/);
    const at = space === -1 ? l.length : space + 2;
    for (let k = 0; k < WORD.length && out.length < count; k++) out.push({ line, character: at + k, insert: WORD[k] });
    for (let k = WORD.length; k > 0 && out.length < count; k--) out.push({ line, character: at + k - 1, insert: null });
  }
  return out;
}

/**
 * An editing session before the measured one, the same for every server: WARMUP other corpus documents (spread over
 * the corpus, never the measured text) are opened, typed in (12 keystrokes each, as above) and closed. A language
 * server runs for hours in an editor; without this the figure is mostly V8 compiling the server's code for the first
 * time, while the baseline parse it is divided by runs warm in this process.
 *
 * 100 documents (1,200 keystrokes, a few minutes of typing): until the seventh session this was 24, which turned out
 * to end in the middle of V8's tier-up — both servers were slower after 50 documents than after 24 (the optimising
 * compiler's work falls there), and only from about 100 on did the figures settle (docs/architecture/lsp.md,
 * "Warm-up"). The bench prints the session's p50 by quarter, so every run shows whether it had settled.
 */
const WARMUP = Number(process.env.STRATA_BENCH_WARMUP ?? 100);
async function warmUp(client: Client, workspace: string, all: { file: string; text: string }[], measured: string): Promise<number[][]> {
  const docs = all.filter((d) => d.text !== measured && d.text.length < 20_000);
  const times: number[][] = [];
  for (let i = 0; i < WARMUP && docs.length; i++) {
    const { text } = docs[(i * 97) % docs.length];
    const uri = pathToFileURL(path.join(workspace, `warm-${i}`, 'Dockerfile')).href;
    times.push((await diagnosticLatency(client, uri, text, 12)).times);
    await client.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }
  return times;
}

/** Milliseconds as printed: two decimals below 10 ms (a median-file keystroke is a few tenths), else one. */
function msText(v: number): string {
  return Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(1);
}

/** The warm-up's keystroke latencies, p50 per quarter of its documents (ms): other texts than the measured one, so only the trend says whether V8 is done compiling. */
function warmUpQuarters(times: number[][]): string {
  const quarters: string[] = [];
  for (let q = 0; q < 4; q++) {
    const part = times.slice(Math.floor((q * times.length) / 4), Math.floor(((q + 1) * times.length) / 4)).flat();
    if (part.length) quarters.push(msText(quantile(part, 0.5)));
  }
  return quarters.join(' / ');
}

/** Opens `uri` with `text`, types `edits` keystrokes into it (which restore the text) and times each one's diagnostics. */
async function diagnosticLatency(client: Client, uri: string, text: string, edits = EDITS): Promise<{ times: number[]; cpuPerEdit: number; processCpuPerEdit: number; threads: string }> {
  const opened = client.nextDiagnostics(uri, 1);
  await client.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'dockerfile', version: 1, text } });
  await opened;
  const current = text.split('\n');
  const times: number[] = [];
  const cpu0 = client.mainThreadCpuMs();
  const processCpu0 = client.processCpuMs();
  const threads0 = threadCpuNs(client.proc.pid!);
  for (const [i, k] of keystrokes(text, edits).entries()) {
    const version = i + 2;
    const before = current[k.line];
    current[k.line] = k.insert === null ? before.slice(0, k.character) + before.slice(k.character + 1) : before.slice(0, k.character) + k.insert + before.slice(k.character);
    const range = { start: { line: k.line, character: k.character }, end: { line: k.line, character: k.character + (k.insert === null ? 1 : 0) } };
    const change = client.incremental ? { range, text: k.insert ?? '' } : { text: current.join('\n') };
    const published = client.nextDiagnostics(uri, version);
    client.sentAt.set(version, performance.timeOrigin + performance.now());
    await client.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [change] });
    times.push(await published);
  }
  if (current.join('\n') !== text) throw new Error('the keystrokes did not restore the text');
  const threads1 = threadCpuNs(client.proc.pid!);
  const threads = [...threads1].map(([k, v]) => [k, (v - (threads0.get(k) ?? 0)) / 1000 / edits] as const).filter(([, v]) => v >= 1)
    .map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
  return { times, cpuPerEdit: (client.mainThreadCpuMs() - cpu0) / edits, processCpuPerEdit: (client.processCpuMs() - processCpu0) / edits, threads };
}

/**
 * Medians of the phases our server logs per diagnostics run (strataServer.ts, STRATA_TRACE_DIAGNOSTICS), plus the
 * parts of the path outside them from the trace's epoch times: "in" = didChange sent → run scheduled (the pipe, JSON
 * parse, vscode-jsonrpc's dispatch, TextDocuments applying the change), "out" = publish sent → received by the client.
 */
function pathEnds(client: Client, trace: string): { in: number; out: number } {
  const version = Number(/trace v(\d+)/.exec(trace)?.[1]);
  return {
    in: Number(/scheduled at ([0-9.]+)/.exec(trace)?.[1]) - (client.sentAt.get(version) ?? NaN),
    out: (client.receivedAt.get(version) ?? NaN) - Number(/published at ([0-9.]+)/.exec(trace)?.[1]),
  };
}

function phaseMedian(client: Client, traces: string[], which: 'in' | 'out'): number {
  return quantile(traces.map((t) => pathEnds(client, t)[which]).filter(Number.isFinite), 0.5);
}

/** One run's trace as STRATA_BENCH_TRACES=1 prints it: the keystroke's latency, in and out, then the server's phases. */
function traceLine(client: Client, trace: string, latency: number | undefined): string {
  const ends = pathEnds(client, trace);
  const head = latency === undefined ? 'open' : `edit ${latency.toFixed(2)} ms (in ${ends.in.toFixed(2)}, out ${ends.out.toFixed(2)})`;
  return `${head}: ${trace.replace(/; scheduled at .*/, '')}`;
}

function traceSummary(client: Client, traces: string[]): string {
  const phases = ['queued', 'shadow', 'round trip', 'check', 'convert', 'publish'];
  const rows = traces.map((t) => {
    const ends = pathEnds(client, t);
    return [ends.in, ...phases.map((k) => Number(new RegExp(`${k} ([0-9.]+) ms`).exec(t)?.[1])), ends.out];
  });
  const onMain = traces.filter((t) => t.includes('ran on main')).length;
  return ['in', ...phases, 'out'].map((k, i) => `${k} ${quantile(rows.map((r) => r[i]).filter(Number.isFinite), 0.5)?.toFixed(2) ?? '?'}`).join(', ')
    + ` ms; ${onMain} of ${traces.length} runs on the main thread, the others in the worker`;
}

async function semanticTokensMs(client: Client, uri: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    times.push(await client.timedRequest('textDocument/semanticTokens/full', { textDocument: { uri } }, 10_000));
    if (!Number.isFinite(times[i])) return Infinity; // not answered within 10 s: asking again only waits as long
  }
  return quantile(times, 0.5);
}

async function main(): Promise<void> {
  const all = corpusTexts();
  const texts = [
    { name: '3,000-line file', text: assemble3000(all) },
    { name: `median file (${medianFile(all).file})`, text: medianFile(all).text },
  ].filter((t) => runs(t.name));
  const ours = process.env.STRATA_BENCH_SERVER ? path.resolve(process.env.STRATA_BENCH_SERVER) : path.join(ROOT, 'dist/server.js');
  const servers: { name: string; command: string[]; env?: Record<string, string>; reference?: boolean }[] = [
    { name: 'strata', command: [process.execPath, ...NODE_ARGS, ours, '--stdio'] },
    { name: 'dockerfile-language-server-nodejs', command: [process.execPath, path.join(ROOT, 'node_modules/dockerfile-language-server-nodejs/bin/docker-langserver'), '--stdio'] },
    // Not peers: what the path itself costs (bench/referenceLspServer.js), so the ratios above it can be read.
    { name: 'reference: publish only', command: [process.execPath, path.join(ROOT, 'bench/referenceLspServer.js'), '--stdio'], env: { REFERENCE_MODE: 'publish' }, reference: true },
    { name: 'reference: one parse, publish', command: [process.execPath, path.join(ROOT, 'bench/referenceLspServer.js'), '--stdio'], env: { REFERENCE_MODE: 'parse' }, reference: true },
    { name: 'reference: publish only, 1 write', command: [process.execPath, path.join(ROOT, 'bench/referenceLspServer.js'), '--stdio'], env: { REFERENCE_MODE: 'publish', REFERENCE_WRITER: 'single' }, reference: true },
  ];
  const workspace = benchWorkspace();
  for (const { name, text } of texts) {
    const load0 = os.loadavg()[0];
    const parseSamples = bareParseSamples(text);
    const results: { name: string; threads: string; warm: string; reference: boolean; p50: number; p99: number; coldP50: number; coldP99: number; tokens: number; cpuPerEdit: number; processCpuPerEdit: number; traces: string[]; allTraces: string[]; floor: number; client: Client }[] = [];
    for (const s of servers) {
      const client = new Client(s.name, s.command, s.env);
      await client.start(pathToFileURL(workspace).href);
      const uri = pathToFileURL(path.join(workspace, 'Dockerfile')).href;
      // first the fresh server (the same keystrokes), then the same again after an editing session elsewhere
      const cold = await diagnosticLatency(client, uri, text);
      await client.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
      const warm = await warmUp(client, workspace, all, text);
      // The server writes a run's trace right after its publish: one request's round trip makes sure the warm-up's
      // last trace is in the file before the measured run's traces are counted from here.
      await client.timedRequest('strata/bench/noSuchMethod', {}, 2000);
      const traces1 = client.traces.length;
      const { times, cpuPerEdit, processCpuPerEdit, threads } = await diagnosticLatency(client, uri, text);
      const tokens = s.reference ? NaN : await semanticTokensMs(client, uri);
      // The transport floor: the round trip of a request the server cannot handle (MethodNotFound) over the same
      // stdio/JSON-RPC path — what any didChange→publish latency contains before the server does any work.
      const floorSamples: number[] = [];
      for (let i = 0; i < 50; i++) floorSamples.push(await client.timedRequest('strata/bench/noSuchMethod', {}, 2000));
      const measured = client.traces.slice(traces1, traces1 + times.length + 1);
      results.push({
        name: s.name, threads, warm: warmUpQuarters(warm), reference: !!s.reference, p50: quantile(times, 0.5), p99: quantile(times, 0.99), coldP50: quantile(cold.times, 0.5), coldP99: quantile(cold.times, 0.99),
        tokens, cpuPerEdit, processCpuPerEdit, traces: measured.slice(1), allTraces: measured.map((t, i) => traceLine(client, t, i === 0 ? undefined : times[i - 1])), floor: quantile(floorSamples, 0.5), client,
      });
      client.stop();
      parseSamples.push(...bareParseSamples(text));
    }
    const parse = quantile(parseSamples, 0.5);
    const peer = results[1];
    console.log(`\n${name}: ${text.split('\n').length} lines, ${text.length} chars; dockerfile-ast bare parse ${parse.toFixed(2)} ms (baseline); load average ${load0.toFixed(1)} → ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
    for (const r of results) {
      if (r.reference) {
        console.log(`  ${r.name.padEnd(34)} didChange→diagnostics p50 ${r.p50.toFixed(2)} ms = ${(r.p50 / parse).toFixed(2)}× parse, p99 ${r.p99.toFixed(1)} ms; CPU per edit ${r.processCpuPerEdit.toFixed(2)} ms; fresh server p50 ${r.coldP50.toFixed(2)} ms = ${(r.coldP50 / parse).toFixed(2)}×`);
        if (r.traces.length) console.log(`  ${''.padEnd(34)} in ${phaseMedian(r.client, r.traces, 'in').toFixed(2)} ms, out ${phaseMedian(r.client, r.traces, 'out').toFixed(2)} ms (medians)`);
        continue;
      }
      const vsPeer = r === peer ? '' : ` (${(r.p50 / peer.p50).toFixed(2)}× / ${(r.p99 / peer.p99).toFixed(2)}× the peer's)`;
      console.log(`  ${r.name.padEnd(34)} didChange→diagnostics p50 ${msText(r.p50)} ms = ${(r.p50 / parse).toFixed(2)}× parse, p99 ${msText(r.p99)} ms = ${(r.p99 / parse).toFixed(2)}× parse${vsPeer}; `
        + `CPU per edit ${r.processCpuPerEdit.toFixed(1)} ms (main thread ${r.cpuPerEdit.toFixed(1)}); semantic tokens ${Number.isFinite(r.tokens) ? `${r.tokens.toFixed(1)} ms = ${(r.tokens / parse).toFixed(2)}× parse` : 'not answered within 10 s'}`);
      console.log(`  ${''.padEnd(34)} fresh server (its first ${EDITS} keystrokes, before the warm-up): p50 ${msText(r.coldP50)} ms = ${(r.coldP50 / parse).toFixed(2)}× parse, p99 ${msText(r.coldP99)} ms`);
      console.log(`  ${''.padEnd(34)} warm-up (${WARMUP} other documents × 12 keystrokes): p50 by quarter ${r.warm} ms`);
      if (r.traces.length) console.log(`  ${''.padEnd(34)} where a run goes (medians): ${traceSummary(r.client, r.traces)}`);
      if (process.env.STRATA_BENCH_TRACES === '1') for (const t of r.allTraces) console.log(`    ${t}`);
      if (process.env.STRATA_BENCH_THREADS === '1') console.log(`  ${''.padEnd(34)} CPU per edit by thread (µs, comm/tid; the first is the main thread): ${r.threads}`);
      console.log(`  ${''.padEnd(34)} transport floor (unknown-method round trip) p50 ${r.floor.toFixed(2)} ms = ${(r.floor / parse).toFixed(2)}× parse; diagnostics p50 above the floor ${msText(r.p50 - r.floor)} ms = ${((r.p50 - r.floor) / parse).toFixed(2)}× parse`);
    }
  }
  rmSync(workspace, { recursive: true, force: true });
  if (!runs('pathological documents')) return;

  console.log(`\npathological documents: slowest answer over every advertised request (goal < 1000 ms); load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
  const pathological = [
    { name: '1 MB single line', text: `FROM alpine\nRUN echo ${'x'.repeat(1_000_000)}\n` },
    { name: '10,000-line RUN continuation', text: `FROM alpine\nRUN echo \\\n${'  $A b \\\n'.repeat(10_000)}  done\n` },
    { name: '2,000 $A in one RUN', text: `FROM alpine\nRUN echo${' $A'.repeat(2000)}\n` },
  ];
  for (const { name, text } of pathological) {
    const strata = new Client('strata', servers[0].command);
    await strata.start();
    const uri = 'file:///bench/pathological/Dockerfile';
    await strata.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'dockerfile', version: 1, text } });
    const caps = strata.init.capabilities as Record<string, unknown>;
    const position = { line: 1, character: 10 };
    const range = { start: { line: 0, character: 0 }, end: { line: 1, character: 5 } };
    const options = { tabSize: 4, insertSpaces: true };
    const methods: [string, string, object][] = [
      ['completionProvider', 'textDocument/completion', { position }], ['hoverProvider', 'textDocument/hover', { position }],
      ['signatureHelpProvider', 'textDocument/signatureHelp', { position }], ['documentSymbolProvider', 'textDocument/documentSymbol', {}],
      ['foldingRangeProvider', 'textDocument/foldingRange', {}], ['documentFormattingProvider', 'textDocument/formatting', { options }],
      ['documentRangeFormattingProvider', 'textDocument/rangeFormatting', { range, options }],
      ['renameProvider', 'textDocument/rename', { position, newName: 'x' }], ['definitionProvider', 'textDocument/definition', { position }],
      ['referencesProvider', 'textDocument/references', { position, context: { includeDeclaration: true } }],
      ['documentHighlightProvider', 'textDocument/documentHighlight', { position }], ['documentLinkProvider', 'textDocument/documentLink', {}],
      ['semanticTokensProvider', 'textDocument/semanticTokens/full', {}], ['codeActionProvider', 'textDocument/codeAction', { range, context: { diagnostics: [] } }],
      ['codeLensProvider', 'textDocument/codeLens', {}], ['inlayHintProvider', 'textDocument/inlayHint', { range }],
    ];
    let worst = { ms: 0, method: '' };
    let worstCpu = { ms: 0, method: '' };
    for (const [cap, method, extra] of methods) {
      if (!caps[cap]) continue;
      const cpu0 = strata.mainThreadCpuMs();
      const ms = await strata.timedRequest(method, { textDocument: { uri }, ...extra }, 10_000);
      const cpu = strata.mainThreadCpuMs() - cpu0;
      if (ms > worst.ms) worst = { ms, method };
      if (cpu > worstCpu.ms) worstCpu = { ms: cpu, method };
    }
    strata.stop();
    const peer = new Client('peer', servers[1].command);
    await peer.start();
    await peer.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'dockerfile', version: 1, text } });
    const peerTokens = await peer.timedRequest('textDocument/semanticTokens/full', { textDocument: { uri } }, 5000);
    peer.stop();
    console.log(`  ${name.padEnd(30)} strata slowest ${worst.ms.toFixed(0)} ms wall (${worst.method}), most server CPU ${worstCpu.ms.toFixed(0)} ms (${worstCpu.method}); peer semantic tokens ${Number.isFinite(peerTokens) ? peerTokens.toFixed(0) + ' ms' : 'not answered within 5 s'}`);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`lsp bench: ${(e as Error).message}`);
  process.exit(1);
});
