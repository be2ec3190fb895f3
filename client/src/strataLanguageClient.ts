import * as vscode from 'vscode';
import type { CloseAction, LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { SERVER_MEMORY_OPTIONS } from '../../server/src/cache/serverMemoryOptions';
import { BusyNotification } from '../../server/src/protocol/lspMessages';
import type { StatusBar } from './statusBar';

/**
 * vscode-languageclient is loaded on first use, not at activation: initialising it is most of the extension's load
 * time (bench/activation.bench.ts), and activation must stay cheap. esbuild keeps the bundled module lazy behind this
 * `require`.
 */
type LanguageClientModule = typeof import('vscode-languageclient/node');
let languageClientModule: LanguageClientModule | undefined;
function lc(): LanguageClientModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  languageClientModule ??= require('vscode-languageclient/node') as LanguageClientModule;
  return languageClientModule;
}

/** State.Running of vscode-languageclient, without loading it. */
export function isRunning(client: LanguageClient | undefined): boolean {
  return client !== undefined && client.state === lc().State.Running;
}

/**
 * Owns the language server process: started on first need, restarted when it dies (up to 5 times in 3 minutes, then
 * the user is asked), with a visible notice either way — never a silent loss of features.
 */
export class StrataLanguageClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private crashes: number[] = [];
  /** Set while vscode-languageclient restarts the server it owns (cleared once it runs again). */
  private restarting = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly status: StatusBar,
  ) {}

  /** The running client, starting the server if needed. */
  get(): Promise<LanguageClient> {
    if (isRunning(this.client)) return Promise.resolve(this.client!);
    // A client that is restarting (after a crash or "Restart Language Server") comes back by itself: wait for it.
    // Starting a second LanguageClient here would register every server command twice ("command … already exists").
    if (this.client && (this.restarting || this.client.state === lc().State.Starting)) return this.whenRunning(this.client);
    this.starting ??= this.start().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  /** Resolves when `client` is running again; rejects if it stops for good or takes over a minute. */
  private whenRunning(client: LanguageClient): Promise<LanguageClient> {
    const { State } = lc();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        sub.dispose();
        if (error) reject(error); else resolve(client);
      };
      const timer = setTimeout(() => done(new Error('Strata language server did not restart within 60 s')), 60_000);
      const sub = client.onDidChangeState((e) => {
        if (e.newState === State.Running) done();
        else if (e.newState === State.Stopped && !this.restarting) done(new Error('Strata language server stopped'));
      });
      if (client.state === State.Running) done();
    });
  }

  private async start(): Promise<LanguageClient> {
    const { LanguageClient, TransportKind, ErrorAction } = lc();
    const module = this.context.asAbsolutePath('dist/server.js');
    // Memory flags for the hashing of large build contexts (see serverMemoryOptions.ts); env is merged with ours.
    const { execArgv, env } = SERVER_MEMORY_OPTIONS;
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc, options: { execArgv: [...execArgv], env: { ...env } } },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: [...execArgv, '--nolazy', '--inspect=6019'], env: { ...env } } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ language: 'dockerfile' }],
      outputChannel: this.log,
      traceOutputChannel: this.log,
      synchronize: { configurationSection: 'strata' },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => this.onClosed(),
      },
    };
    const client = new LanguageClient('strata', 'Strata Language Server', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      const { State } = lc();
      if (e.newState === State.Running) this.restarting = false;
      // A restart that could not start the server (Starting → Stopped) leaves the client stopped for good: callers
      // waiting in whenRunning are told now (registered after this listener), not after its 60 s timeout.
      else if (e.newState === State.Stopped && e.oldState === State.Starting) this.restarting = false;
    });
    client.onNotification(BusyNotification, (p) => this.status.setBusy('server', p.text, p.tooltip));
    this.status.setBusy('start', 'Starting language server…');
    try {
      await client.start();
    } finally {
      this.status.setBusy('start', null);
    }
    this.log.info('Strata language server started');
    return client;
  }

  private onClosed(): { action: CloseAction; message?: string } {
    const { CloseAction } = lc();
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < 3 * 60_000);
    this.crashes.push(now);
    if (this.crashes.length <= 5) {
      this.log.warn('Strata language server stopped unexpectedly; restarting');
      void vscode.window.showWarningMessage('Strata: the language server stopped unexpectedly and was restarted.', 'Show Log')
        .then((a) => { if (a) this.log.show(); });
      this.restarting = true;
      return { action: CloseAction.Restart };
    }
    const message = 'Strata: the language server stopped 5 times in 3 minutes and will not be restarted. Use "Strata: Restart Language Server" after checking the log.';
    this.log.error(message);
    return { action: CloseAction.DoNotRestart, message };
  }

  async restart(): Promise<void> {
    this.crashes = [];
    if (this.client) {
      this.restarting = true;
      try { await this.client.restart(); } finally { this.restarting = false; }
    } else {
      await this.get();
    }
  }

  dispose(): void {
    void this.client?.stop();
  }
}
