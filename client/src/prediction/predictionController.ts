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
  private timer: NodeJS.Timeout | undefined;
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
      vscode.commands.registerCommand('strata.showPrediction', (uri?: string | vscode.Uri, line?: number) => this.show(uri, line)),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('strata.annotations')) void this.sendConfig({ annotations: this.mode() });
      }),
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
      client.onNotification(PredictionChangedNotification, (p) => { this.summaries.set(p.uri, p); this.render(); });
      client.onDidChangeState(() => { if (isRunning(client)) void this.sendConfig(this.baseConfig()); });
      await client.sendNotification(PredictionConfigNotification, this.baseConfig());
    }
    return client;
  }

  private baseConfig(): PredictionConfigParams {
    return { stateDir: buildStateDir(this.context), annotations: this.mode() };
  }

  private async sendConfig(p: PredictionConfigParams): Promise<void> {
    const client = await this.hook();
    await client.sendNotification(PredictionConfigNotification, p);
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
    if (!doc || doc.languageId !== 'dockerfile') { this.item.hide(); return; }
    if (!s) {
      this.item.text = '$(layers) cache: …';
      this.item.tooltip = 'Strata cache prediction (computing)';
    } else if (!s.baseline) {
      this.item.text = '$(layers) cache: no baseline';
      this.item.tooltip = 'No recorded build yet: run "Strata: Build Image" once to predict cache hits.';
    } else {
      const { hit, miss, unknown } = s.summary;
      this.item.text = `$(layers) ${hit} hit · ${miss} miss${unknown ? ` · ${unknown} ?` : ''}`;
      this.item.tooltip = `Predicted against the build of ${s.baseline.builtAt}${s.target ? `, target ${s.target}` : ''}. Click to choose target/build args.`;
    }
    this.item.show();
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
    for (const d of this.disposables) d.dispose();
  }
}

function formatArgs(a: Record<string, string>): string {
  return Object.entries(a).map(([k, v]) => `${k}=${v}`).join(' ');
}
