import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  BuildProgressNotification,
  BuildRequest,
  type BuildProgressParams,
  type BuildResultInfo,
} from '../../../server/src/protocol/lspMessages';
import type { StrataLanguageClient } from '../strataLanguageClient';
import { BuildDecorations, label as labelOf } from './buildDecorations';
import { BuildOutput } from './buildOutput';
import { initialChoices, promptChoices, rememberChoices, type BuildChoices } from './buildPrompts';

/** Arguments `strata.build` accepts besides a Uri: everything given, no prompts (tasks, tests, keybindings). */
export interface BuildCommandOptions extends Partial<BuildChoices> {
  dockerfile: string;
  noCache?: boolean;
}

/** What `strata.build` resolves with: the server's result plus the line annotations shown (1-based line → text). */
export type BuildCommandResult = BuildResultInfo & { annotations: Record<number, string> };

/** Build records live in the extension's global storage (the CLI's `--state-dir` for tasks, the prediction's baseline). */
export function buildStateDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'state');
}

/**
 * "Strata: Build Image". The build itself runs in the language server (BuildRequest); this side only asks the
 * questions, shows progress, the log, line annotations and failure diagnostics. One build at a time per window.
 */
export class BuildController implements vscode.Disposable {
  private readonly output = new BuildOutput();
  private readonly decorations = new BuildDecorations();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('strata-build');
  private readonly listeners = new Map<string, (p: BuildProgressParams) => void>();
  private listeningOn: unknown;
  private running: string | null = null;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: StrataLanguageClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this.output, this.decorations, this.diagnostics,
      vscode.commands.registerCommand('strata.build', (arg?: vscode.Uri | BuildCommandOptions) => this.build(arg)),
    );
  }

  async build(arg?: vscode.Uri | BuildCommandOptions): Promise<BuildCommandResult | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Strata: building is disabled in an untrusted workspace, because a build runs commands from the workspace\'s Dockerfile. Trust the workspace to build.', 'Manage Workspace Trust')
        .then((a) => { if (a) void vscode.commands.executeCommand('workbench.trust.manage'); });
      return undefined;
    }
    if (this.running) {
      void vscode.window.showWarningMessage(`Strata: a build is already running (${this.running}); cancel it from its notification first.`);
      return undefined;
    }
    const given = arg && !(arg instanceof vscode.Uri) ? arg : undefined;
    const dockerfile = given?.dockerfile ?? (arg instanceof vscode.Uri ? arg.fsPath : await this.pickDockerfile());
    if (!dockerfile) return undefined;
    const uri = vscode.Uri.file(dockerfile);
    let choices: BuildChoices | undefined;
    const start = initialChoices(this.context.workspaceState, dockerfile);
    if (given) {
      choices = {
        tags: given.tags ?? start.tags, target: given.target ?? start.target,
        buildArgs: given.buildArgs ?? start.buildArgs, context: given.context ?? start.context,
      };
    } else {
      const text = (await vscode.workspace.openTextDocument(uri)).getText();
      choices = await promptChoices(dockerfile, text, start);
      if (!choices) return undefined;
      await rememberChoices(this.context.workspaceState, dockerfile, choices);
    }
    const label = choices.tags[0] ?? path.basename(path.dirname(dockerfile));
    this.running = label;
    try {
      return await this.run(uri, choices, given?.noCache ?? false, label);
    } finally {
      this.running = null;
    }
  }

  private async pickDockerfile(): Promise<string | undefined> {
    const active = vscode.window.activeTextEditor?.document;
    if (active?.languageId === 'dockerfile' && active.uri.scheme === 'file') return active.uri.fsPath;
    const found = await vscode.workspace.findFiles('**/{Dockerfile,Containerfile,*.Dockerfile,Dockerfile.*}', '**/node_modules/**', 50);
    if (found.length === 0) {
      void vscode.window.showInformationMessage('Strata: no Dockerfile found; open one and run "Strata: Build Image" again.');
      return undefined;
    }
    if (found.length === 1) return found[0]!.fsPath;
    const pick = await vscode.window.showQuickPick(found.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })), { title: 'Strata: Build Image — which Dockerfile?' });
    return pick?.uri.fsPath;
  }

  private async run(uri: vscode.Uri, c: BuildChoices, noCache: boolean, label: string): Promise<BuildCommandResult | undefined> {
    const lc = await this.client.get();
    // A crashed server is replaced by a new LanguageClient: subscribe on each instance once.
    if (this.listeningOn !== lc) {
      this.listeningOn = lc;
      this.disposables.push(lc.onNotification(BuildProgressNotification, (p) => this.listeners.get(p.buildId)?.(p)));
    }
    const buildId = randomBytes(6).toString('hex');
    this.output.clear();
    this.output.append([`[strata] building ${uri.fsPath} (context ${c.context}${c.target ? `, target ${c.target}` : ''}${c.tags.length ? `, tags ${c.tags.join(' ')}` : ''})`]);
    this.decorations.reset(uri);
    this.log.info(`build ${buildId}: ${uri.fsPath} → ${c.tags.join(' ') || '(untagged)'}`);
    const dockerPath = vscode.workspace.getConfiguration('strata').get<string>('dockerPath');
    const result = await vscode.window.withProgress({
      location: vscode.ProgressLocation.Notification,
      title: `Strata: building ${label}`,
      cancellable: true,
    }, async (progress, token) => {
      this.listeners.set(buildId, (p) => {
        if (p.kind === 'output') this.output.append(p.lines);
        else if (p.kind === 'notice') { this.output.append([`[strata] ${p.text}`]); this.log.info(p.text); }
        else if (p.step.line !== null) {
          const s = p.step;
          this.decorations.set(uri, s.line!, s.state === 'running' ? { kind: 'running' }
            : s.state === 'cached' ? { kind: 'cached' }
            : s.state === 'error' ? { kind: 'failed' }
            : s.state === 'canceled' ? { kind: 'canceled' } : { kind: 'built', ms: s.durationMs });
          if (s.state === 'running') progress.report({ message: s.index !== null ? `[${s.index}/${s.total}] ${stepText(s.name)}` : stepText(s.name) });
        }
      });
      try {
        return await lc.sendRequest(BuildRequest, {
          buildId, dockerfile: uri.fsPath, context: c.context, target: c.target, buildArgs: c.buildArgs, tags: c.tags,
          stateDir: buildStateDir(this.context), ...(dockerPath ? { dockerPath } : {}), noCache,
        }, token);
      } finally {
        this.listeners.delete(buildId);
      }
    }).then((r) => r, (e: unknown) => {
      this.log.error(`build ${buildId} failed: ${String(e)}`);
      void vscode.window.showErrorMessage(`Strata: the build could not run: ${(e as Error)?.message ?? String(e)}`);
      return undefined;
    });
    if (!result) return undefined;
    this.finish(uri, result, label);
    // What the editor now shows per line, returned to callers of the command (tasks, tests) as text.
    const annotations: Record<number, string> = {};
    for (const [line, st] of this.decorations.get(uri)) annotations[line] = labelOf(st);
    return { ...result, annotations };
  }

  private finish(uri: vscode.Uri, r: BuildResultInfo, label: string): void {
    for (const s of r.steps) {
      if (s.outcome === 'cached') this.decorations.set(uri, s.line, { kind: 'cached' });
      else if (s.outcome === 'built') this.decorations.set(uri, s.line, { kind: 'built', ms: s.durationMs });
      else if (s.outcome === 'failed') this.decorations.set(uri, s.line, { kind: 'failed' });
      else if (s.outcome === 'canceled') this.decorations.set(uri, s.line, { kind: 'canceled' });
    }
    if (r.exitCode === 0) this.diagnostics.delete(uri);
    else if (r.diagnostics.length > 0) {
      this.diagnostics.set(uri, r.diagnostics.map((d) => {
        const diag = new vscode.Diagnostic(new vscode.Range(d.line - 1, 0, d.endLine - 1, Number.MAX_SAFE_INTEGER), d.message, vscode.DiagnosticSeverity.Error);
        diag.source = 'strata';
        diag.code = d.code;
        return diag;
      }));
    }
    for (const p of r.prediction) this.output.append([`[strata] predicted vs actual: ${p}`]);
    const secs = (r.durationMs / 1000).toFixed(1);
    const counts = countOutcomes(r.steps);
    if (r.cancelled) {
      this.output.append([`[strata] build cancelled after ${secs} s`]);
      void vscode.window.showInformationMessage(`Strata: build of ${label} cancelled.`);
    } else if (r.exitCode === 0) {
      this.output.append([`[strata] built ${r.imageId ?? ''} in ${secs} s (${counts})${r.recordFile ? `; record ${r.recordFile}` : ''}`]);
      void vscode.window.showInformationMessage(`Strata: built ${label} in ${secs} s (${counts}).`, 'Open Layers', 'Show Log').then((a) => {
        if (a === 'Show Log') this.output.show();
        if (a === 'Open Layers' && r.imageId) void vscode.commands.executeCommand('strata.openEngineImage', r.tags[0] ?? r.imageId);
      });
    } else {
      const why = r.error ?? r.diagnostics[0]?.message.split('\n')[0] ?? `docker exited with ${r.exitCode}`;
      this.output.append([`[strata] build failed: ${why}`]);
      void vscode.window.showErrorMessage(`Strata: build of ${label} failed: ${why}`, 'Show Log').then((a) => { if (a) this.output.show(); });
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** `[stage 2/5] RUN npm ci` → `RUN npm ci` (the counter is shown separately). */
function stepText(name: string): string {
  return name.replace(/^\[[^\]]*\]\s*/, '').slice(0, 80);
}

function countOutcomes(steps: BuildResultInfo['steps']): string {
  const counts = new Map<string, number>();
  for (const s of steps) if (s.outcome !== 'not-run') counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'no steps';
}
