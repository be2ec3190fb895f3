/**
 * Language-server latency over stdio (issue 11), as an editor sees it, against a baseline measured in the same run.
 *
 * Texts: a 3,000-line Dockerfile assembled from ../shared/corpus/dockerfiles (LF files without `# escape=`, in index
 * order) and the median-size corpus file. For each text:
 * - baseline: dockerfile-ast's bare `DockerfileParser.parse` of the text, in-process (median);
 * - didChange → publishDiagnostics: one-character edits (a space typed/deleted at the end of a line), p50 and p99,
 *   for our dist/server.js and for dockerfile-language-server-nodejs 0.15.0 (devDependency) over stdio;
 * - semantic tokens for the text (median), both servers.
 * Then the pathological documents (1 MB line, 10,000-line RUN continuation, 2,000 `$A`): the slowest answer of our
 * server over every advertised request (goal: < 1 s), and whether the peer answers semantic tokens within 5 s.
 *
 *   npm run bench -- lsp        (STRATA_BENCH_EDITS=N edits per text and server, default 60)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

const ROOT = process.env.STRATA_ROOT ?? path.resolve(__dirname, '../..');
const CORPUS = path.resolve(ROOT, '../shared/corpus/dockerfiles');
const EDITS = Number(process.env.STRATA_BENCH_EDITS ?? 60);

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

function bareParseMs(text: string): number {
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    DockerfileParser.parse(text);
    times.push(performance.now() - t);
  }
  return quantile(times, 0.5);
}

class Client {
  readonly proc: ChildProcess;
  readonly conn: ProtocolConnection;
  private waiters: ((p: PublishDiagnosticsParams) => void)[] = [];
  init!: InitializeResult;
  private stopping = false;

  constructor(readonly name: string, command: string[]) {
    this.proc = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
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
    this.conn.onNotification('window/logMessage', () => undefined);
    this.conn.listen();
  }

  async start(): Promise<void> {
    this.init = await this.conn.sendRequest<InitializeResult>('initialize', {
      processId: process.pid, rootUri: null, capabilities: { textDocument: { publishDiagnostics: { versionSupport: true } } },
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
          clearTimeout(timer);
          resolve(performance.now() - t0);
        } else this.waiters.push(wait);
      };
      this.waiters.push(wait);
    });
  }

  /** CPU time (ms) of the server's main thread so far (Linux /proc): wall time on a loaded machine measures the load. */
  mainThreadCpuMs(): number {
    try {
      const stat = readFileSync(`/proc/${this.proc.pid}/task/${this.proc.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
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
    this.proc.kill();
  }
}

async function diagnosticLatency(client: Client, uri: string, text: string): Promise<number[]> {
  const opened = client.nextDiagnostics(uri, 1);
  await client.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'dockerfile', version: 1, text } });
  await opened;
  const lines = text.split('\n');
  let current = lines.slice();
  const times: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const version = i + 2;
    const line = Math.floor((i * 7919) % Math.max(1, lines.length - 1));
    const typing = current[line] === lines[line];
    const ch = current[line].length;
    current[line] = typing ? current[line] + ' ' : lines[line];
    const change = client.incremental
      ? { range: typing ? { start: { line, character: ch }, end: { line, character: ch } } : { start: { line, character: ch - 1 }, end: { line, character: ch } }, text: typing ? ' ' : '' }
      : { text: current.join('\n') };
    const published = client.nextDiagnostics(uri, version);
    await client.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [change] });
    times.push(await published);
  }
  return times;
}

async function semanticTokensMs(client: Client, uri: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) times.push(await client.timedRequest('textDocument/semanticTokens/full', { textDocument: { uri } }, 10_000));
  return quantile(times, 0.5);
}

async function main(): Promise<void> {
  const all = corpusTexts();
  const texts = [
    { name: '3,000-line file', text: assemble3000(all) },
    { name: `median file (${medianFile(all).file})`, text: medianFile(all).text },
  ];
  const servers = [
    { name: 'strata', command: [process.execPath, path.join(ROOT, 'dist/server.js'), '--stdio'] },
    { name: 'dockerfile-language-server-nodejs', command: [process.execPath, path.join(ROOT, 'node_modules/dockerfile-language-server-nodejs/bin/docker-langserver'), '--stdio'] },
  ];
  for (const { name, text } of texts) {
    const parse = bareParseMs(text);
    console.log(`\n${name} (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores): ${text.split('\n').length} lines, ${text.length} chars; dockerfile-ast bare parse ${parse.toFixed(2)} ms (baseline)`);
    for (const s of servers) {
      const client = new Client(s.name, s.command);
      await client.start();
      const uri = `file:///bench/${encodeURIComponent(name)}/Dockerfile`;
      const times = await diagnosticLatency(client, uri, text);
      const p50 = quantile(times, 0.5);
      const p99 = quantile(times, 0.99);
      const tokens = await semanticTokensMs(client, uri);
      console.log(`  ${s.name.padEnd(34)} didChange→diagnostics p50 ${p50.toFixed(1)} ms = ${(p50 / parse).toFixed(2)}× parse, p99 ${p99.toFixed(1)} ms = ${(p99 / parse).toFixed(2)}× parse; semantic tokens ${tokens.toFixed(1)} ms = ${(tokens / parse).toFixed(2)}× parse`);
      client.stop();
    }
  }

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
