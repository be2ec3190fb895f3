import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { isRunning, type StrataLanguageClient } from '../strataLanguageClient';
import {
  ContextChangedNotification,
  PredictionChangedNotification,
  PredictionConfigNotification,
  PredictionRequest,
  type PredictionChangedParams,
  type PredictionConfigParams,
  type PredictionResult,
} from '../../../server/src/protocol/lspMessages';
import { buildStateDir } from '../build/buildController';

/**
 * What `strata.showPrediction` also accepts instead of a Uri: the choices the pickers would ask for, applied without
 * prompts (keybindings, tasks, in-host tests — a quick pick cannot be answered by automation). Omitted fields keep
 * their current value; the command resolves with the prediction computed with the new choices.
 */
export interface ShowPredictionOptions {
  /** Absolute path of the Dockerfile (default: the active editor's document). */
  dockerfile?: string;
  /** Target stage; `null` means the last stage. */
  target?: string | null;
  /** `--build-arg` values used by the prediction (replaces the previous set). */
  buildArgs?: Record<string, string>;
}

/** What the status bar item currently shows (read by in-host tests through the extension's API). */
export interface PredictionStatus { text: string; tooltip: string; visible: boolean }

/** Debounce for file-watcher bursts (a checkout, an npm install) before the server rehashes. */
const WATCH_DEBOUNCE_MS = 300;

/**
 * Extension-host side of the cache prediction: tells the server where baselines live and what the user chose
 * (target, build args), forwards file changes (debounced), shows the summary in the status bar, and implements
 * `strata.showPrediction`. No hashing here: that runs in the language server.
 */
export class PredictionController implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly item = vscode.window.createStatusBarItem('strata.prediction', vscode.StatusBarAlignment.Left, 50);
  private readonly summaries = new Map<string, PredictionChangedParams>();
  private readonly pendingPaths = new Set<string>();
  /** Per-Dockerfile target/build args chosen in this window, re-sent to a restarted server. */
  private readonly choices = new Map<string, Pick<PredictionConfigParams, 'target' | 'buildArgs'>>();
  private timer: NodeJS.Timeout | undefined;
  private visible = false;
  private askTimer: NodeJS.Timeout | undefined;
  private hooked: LanguageClient | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly languageClient: StrataLanguageClient) {
    this.item.name = 'Strata cache prediction';
    this.item.command = 'strata.showPrediction';
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    const onFile = (uri: vscode.Uri) => this.queuePath(uri);
    this.disposables.push(
      this.item,
      watcher,
      watcher.onDidChange(onFile),
      watcher.onDidCreate(onFile),
      watcher.onDidDelete(onFile),
      vscode.commands.registerCommand('strata.showPrediction', (arg?: string | vscode.Uri | ShowPredictionOptions, line?: number) =>
        isOptions(arg) ? this.apply(arg) : this.show(arg, line)),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        // With annotations off nothing else asks the server after an edit (see ask()).
        if (e.contentChanges.length > 0 && e.document === vscode.window.activeTextEditor?.document && e.document.languageId === 'dockerfile' && this.mode() === 'off') this.ask(e.document);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('strata.annotations')) void this.sendConfig({ annotations: this.mode() });
        if (e.affectsConfiguration('strata.prediction.checkRemoteSources')) void this.sendConfig({ checkRemoteSources: this.checkRemote() });
      }),
      // Downloading what a Dockerfile names is network traffic the workspace decides: only once it is trusted.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.sendConfig({ checkRemoteSources: this.checkRemote() })),
      vscode.workspace.onDidOpenTextDocument((d) => { if (d.languageId === 'dockerfile') void this.hook(); }),
    );
    if (vscode.workspace.textDocuments.some((d) => d.languageId === 'dockerfile')) void this.hook();
    this.render();
  }

  private mode(): 'codelens' | 'inlayHints' | 'off' {
    const m = vscode.workspace.getConfiguration('strata').get<string>('annotations', 'codelens');
    return m === 'inlayHints' || m === 'off' ? m : 'codelens';
  }

  /** Wires the notifications once per client instance (a restarted server gets the settings again). */
  private async hook(): Promise<LanguageClient> {
    const client = await this.languageClient.get();
    if (this.hooked !== client) {
      this.hooked = client;
      client.onNotification(PredictionChangedNotification, (p) => {
        this.summaries.set(p.uri, p);
        this.render();
        // The notification carries no document version, and the server also notifies when a computation it has
        // superseded (aborted) still finishes, possibly after the current one. So it is only a hint for the active
        // Dockerfile: ask() confirms it with the server's answer for the current text (cheap: the server memoises
        // per version and settings, and answering from the memo sends no notification, so this cannot loop).
        const active = vscode.window.activeTextEditor?.document;
        if (active && active.uri.toString() === p.uri) this.ask(active);
      });
      client.onDidChangeState(() => {
        if (!isRunning(client)) return;
        void this.configure(client);
        // Questions skipped while it restarted (see quietClient()) are asked again.
        const active = vscode.window.activeTextEditor?.document;
        if (active?.languageId === 'dockerfile') this.ask(active);
      });
      await this.configure(client);
    }
    return client;
  }

  /**
   * Everything the server must know, sent to a fresh server process: the settings and the per-file target/build
   * args the user chose (a restarted server starts empty; without this the chosen target would silently revert).
   * The choices go first: until the state dir arrives the server predicts "no baseline", so no lens computed in
   * between can show a hit/miss for the wrong target or build args.
   */
  private async configure(client: LanguageClient): Promise<void> {
    for (const [dockerfile, c] of this.choices) await client.sendNotification(PredictionConfigNotification, { dockerfile, ...c });
    await client.sendNotification(PredictionConfigNotification, this.baseConfig());
  }

  private baseConfig(): PredictionConfigParams {
    return { stateDir: buildStateDir(this.context), annotations: this.mode(), checkRemoteSources: this.checkRemote() };
  }

  private checkRemote(): boolean {
    return vscode.workspace.isTrusted && vscode.workspace.getConfiguration('strata').get<boolean>('prediction.checkRemoteSources', false) === true;
  }

  private async sendConfig(p: PredictionConfigParams): Promise<void> {
    if (p.dockerfile && (p.target !== undefined || p.buildArgs !== undefined)) {
      const prev = this.choices.get(p.dockerfile) ?? {};
      this.choices.set(p.dockerfile, {
        ...prev,
        ...(p.target !== undefined ? { target: p.target } : {}),
        ...(p.buildArgs !== undefined ? { buildArgs: p.buildArgs } : {}),
      });
    }
    const client = await this.quietClient();
    // Restarting: configure() sends the settings and the remembered choices once it runs again.
    if (client) await client.sendNotification(PredictionConfigNotification, p);
  }

  /**
   * The client for background traffic (status bar questions, settings): the hooked one only while it runs, and
   * `hook()` (which may start the server) only before any was hooked. Calling StrataLanguageClient.get() while the
   * client restarts would start a second LanguageClient next to the restarting one; both then register the
   * server's commands and one fails ("command 'docker.command.…' already exists"), seen in-host.
   */
  private async quietClient(): Promise<LanguageClient | undefined> {
    if (this.hooked) return isRunning(this.hooked) ? this.hooked : undefined;
    return this.hook();
  }

  private queuePath(uri: vscode.Uri): void {
    if (uri.scheme !== 'file') return;
    this.pendingPaths.add(uri.fsPath);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const paths = [...this.pendingPaths];
      this.pendingPaths.clear();
      if (isRunning(this.hooked)) void this.hooked!.sendNotification(ContextChangedNotification, { paths });
    }, WATCH_DEBOUNCE_MS);
  }

  private render(): void {
    const doc = vscode.window.activeTextEditor?.document;
    const s = doc && doc.languageId === 'dockerfile' ? this.summaries.get(doc.uri.toString()) : undefined;
    if (!doc || doc.languageId !== 'dockerfile') { this.item.hide(); this.visible = false; return; }
    if (!s) {
      this.item.text = '$(layers) cache: …';
      this.item.tooltip = 'Strata cache prediction (computing)';
      this.ask(doc);
    } else if (!s.baseline) {
      this.item.text = '$(layers) cache: no baseline';
      this.item.tooltip = 'No recorded build yet: run "Strata: Build Image" once to predict cache hits.';
    } else {
      const { hit, miss, unknown } = s.summary;
      this.item.text = `$(layers) ${hit} hit · ${miss} miss${unknown ? ` · ${unknown} ?` : ''}`;
      this.item.tooltip = `Predicted against the build of ${s.baseline.builtAt}${s.target ? `, target ${s.target}` : ''}. Click to choose target/build args.`;
    }
    this.item.show();
    this.visible = true;
  }

  /**
   * Asks the server for a Dockerfile's prediction (debounced) and shows the answer in the status bar. The server
   * computes a prediction only when lenses, inlay hints or a hover ask for one, so with `strata.annotations: off` the
   * status bar would otherwise say "cache: …" forever and never follow edits.
   */
  private ask(doc: vscode.TextDocument): void {
    if (this.askTimer) clearTimeout(this.askTimer);
    this.askTimer = setTimeout(() => {
      this.askTimer = undefined;
      if (doc.isClosed) return;
      const version = doc.version;
      void this.quietClient()
        .then((client) => client?.sendRequest(PredictionRequest, { uri: doc.uri.toString() }))
        .then((r) => {
          // Authoritative for this text: replaces whatever notification arrived meanwhile (unless the user typed on).
          if (!r || doc.isClosed || doc.version !== version) return;
          this.summaries.set(doc.uri.toString(), { uri: doc.uri.toString(), summary: r.summary, baseline: r.baseline, target: r.target });
          this.render();
        })
        .catch(() => undefined); // a stopping server: the next render asks again
    }, WATCH_DEBOUNCE_MS);
  }

  /** The status bar item as the user sees it (StatusBarItem has no visibility getter, so it is tracked here). */
  status(): PredictionStatus {
    const t = this.item.tooltip;
    return { text: this.item.text, tooltip: typeof t === 'string' ? t : t?.value ?? '', visible: this.visible };
  }

  /**
   * `strata.showPrediction` with options: the same config the target/build-args pickers send, then the prediction.
   * The request is sent after the notification on the same connection, so the server answers with the new choices.
   */
  private async apply(o: ShowPredictionOptions): Promise<PredictionResult | undefined> {
    const file = o.dockerfile ?? vscode.window.activeTextEditor?.document.uri.fsPath;
    if (!file) return undefined;
    const uri = vscode.Uri.file(file);
    // A user or automation asked: start the server if needed (sendConfig alone would skip a stopped one).
    const client = await this.hook();
    if (o.target !== undefined || o.buildArgs !== undefined) {
      await this.sendConfig({
        dockerfile: uri.fsPath,
        ...(o.target !== undefined ? { target: o.target } : {}),
        ...(o.buildArgs !== undefined ? { buildArgs: o.buildArgs } : {}),
      });
    }
    return (await client.sendRequest(PredictionRequest, { uri: uri.toString() })) ?? undefined;
  }

  /** Without a line: pick target / build args / list all steps. With a line (from a CodeLens): that step's explanation. */
  private async show(uriArg?: string | vscode.Uri, line?: number): Promise<void> {
    const uri = uriArg ? (typeof uriArg === 'string' ? vscode.Uri.parse(uriArg) : uriArg) : vscode.window.activeTextEditor?.document.uri;
    if (!uri) { void vscode.window.showInformationMessage('Strata: open a Dockerfile to see its cache prediction.'); return; }
    const client = await this.hook();
    const p = await client.sendRequest(PredictionRequest, { uri: uri.toString() });
    if (!p) { void vscode.window.showWarningMessage('Strata: no prediction for this file (is it a Dockerfile on disk?).'); return; }
    if (typeof line === 'number') {
      const i = p.instructions.find((x) => x.line === line);
      if (i) await vscode.window.showQuickPick(i.explanation.map((l) => ({ label: l })), { title: `Line ${line}: ${i.instruction}`, canPickMany: false });
      return;
    }
    const pick = await vscode.window.showQuickPick([
      { label: '$(target) Choose target…', id: 'target', description: p.target ?? '(last stage)' },
      { label: '$(symbol-variable) Set build arguments…', id: 'args', description: formatArgs(p.buildArgs) },
      { label: '$(list-flat) Show every step', id: 'list' },
    ], { title: `Strata cache prediction: ${path.basename(uri.fsPath)}` });
    if (!pick) return;
    if (pick.id === 'target') await this.chooseTarget(uri, p);
    else if (pick.id === 'args') await this.chooseArgs(uri, p);
    else {
      const item = await vscode.window.showQuickPick(p.instructions.map((i) => ({
        label: `${i.line}: ${i.instruction}`, description: i.cache, detail: i.reason.message, line: i.line,
      })), { title: 'Predicted cache outcome per step', matchOnDetail: true });
      if (item) await vscode.window.showTextDocument(uri, { selection: new vscode.Range(item.line - 1, 0, item.line - 1, 0) });
    }
  }

  private async chooseTarget(uri: vscode.Uri, p: PredictionResult): Promise<void> {
    const picked = await vscode.window.showQuickPick(
      [{ label: '(last stage)', value: null as string | null }, ...p.stages.map((s) => ({ label: s, value: s as string | null }))],
      { title: 'Target stage for the prediction' },
    );
    if (picked) await this.sendConfig({ dockerfile: uri.fsPath, target: picked.value });
  }

  private async chooseArgs(uri: vscode.Uri, p: PredictionResult): Promise<void> {
    const value = await vscode.window.showInputBox({
      title: 'Build arguments for the prediction', prompt: 'K=V pairs separated by spaces (as --build-arg)', value: formatArgs(p.buildArgs),
    });
    if (value === undefined) return;
    const args: Record<string, string> = {};
    for (const w of value.split(/\s+/).filter(Boolean)) {
      const eq = w.indexOf('=');
      if (eq > 0) args[w.slice(0, eq)] = w.slice(eq + 1);
    }
    await this.sendConfig({ dockerfile: uri.fsPath, buildArgs: args });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.askTimer) clearTimeout(this.askTimer);
    for (const d of this.disposables) d.dispose();
  }
}

/** An options object (automation), as opposed to a Uri (menus) or a URI string (the CodeLens arguments). */
function isOptions(arg: unknown): arg is ShowPredictionOptions {
  return typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri);
}

function formatArgs(a: Record<string, string>): string {
  return Object.entries(a).map(([k, v]) => `${k}=${v}`).join(' ');
}
