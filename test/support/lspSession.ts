import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type InitializeResult,
} from 'vscode-languageserver-protocol/node';
import { DIST } from './paths';

/**
 * A real client session against the bundled server (`node dist/server.js --stdio`), as Neovim or Helix would start it.
 * Collects stderr (must stay free of stack traces) and every publishDiagnostics.
 */
export class LspSession {
  readonly process: ChildProcess;
  readonly connection: ProtocolConnection;
  readonly diagnostics: PublishDiagnosticsParams[] = [];
  readonly logs: string[] = [];
  stderr = '';
  exited: number | null | undefined;
  private waiters: (() => void)[] = [];

  constructor(args: string[] = ['--stdio']) {
    this.process = spawn(process.execPath, [path.join(DIST, 'server.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stderr!.on('data', (d) => { this.stderr += d.toString(); });
    // Wake anyone waiting for diagnostics so a dead server fails the test at once, naming its exit, not at a timeout.
    this.process.on('exit', (code) => { this.exited = code; for (const w of this.waiters.splice(0)) w(); });
    this.connection = createProtocolConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.push(p);
      for (const w of this.waiters.splice(0)) w();
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => { this.logs.push(p.message); });
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => null));
    this.connection.listen();
  }

  async initialize(capabilities: object = {}): Promise<InitializeResult> {
    const result = await this.connection.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        textDocument: { rename: { prepareSupport: true }, hover: { contentFormat: ['markdown', 'plaintext'] } },
        workspace: { applyEdit: true },
        ...capabilities,
      },
    });
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  open(uri: string, text: string, version = 1): Promise<void> {
    return this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'dockerfile', version, text } });
  }

  change(uri: string, version: number, text: string): Promise<void> {
    return this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  /** Resolves with the first publishDiagnostics for `uri` (at `version`, when given) received from now on or already. */
  waitForDiagnostics(uri: string, version?: number, timeoutMs = 5000): Promise<PublishDiagnosticsParams> {
    return this.waitForPublished(uri, (d) => version === undefined || d.version === version, timeoutMs, 0, `v${version}`);
  }

  /**
   * The first publishDiagnostics for `uri` that satisfies `ok`, among those received from index `from` of
   * `diagnostics` on (pass `diagnostics.length` to ignore the ones already collected). `what` names `ok` in errors.
   */
  async waitForPublished(uri: string, ok: (p: PublishDiagnosticsParams) => boolean, timeoutMs = 5000, from = 0, what = 'matching'): Promise<PublishDiagnosticsParams> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.diagnostics.slice(from).find((d) => d.uri === uri && ok(d));
      if (found) return found;
      if (this.exited !== undefined) {
        throw new Error(`the server exited (code ${this.exited}) before diagnostics for ${uri} ${what}; stderr: ${this.stderr.slice(-2000) || '(empty)'}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no diagnostics for ${uri} ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest<R>(method, params);
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      await this.connection.sendNotification('exit');
    } catch { /* already gone */ }
    this.connection.dispose();
    this.process.kill();
  }
}
