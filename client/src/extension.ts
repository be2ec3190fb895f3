/**
 * Extension entry (composition root of the extension host side). `activate` only creates the services and registers
 * their disposables; heavy work lives in the language server process or worker threads, never here.
 */
import * as vscode from 'vscode';
import { StatusBar } from './statusBar';
import { StrataLanguageClient } from './strataLanguageClient';
import { registerBuild } from './build/registerBuild';
import { PredictionController, type PredictionStatus } from './prediction/predictionController';
import { registerExplorer, type ExplorerApi } from './explorer/registerExplorer';
import { registerContainers } from './containers/registerContainers';

export interface StrataApi {
  /** The language client, started on demand (used by in-host tests and by other parts of the extension). */
  languageClient: StrataLanguageClient;
  log: vscode.LogOutputChannel;
  /** The layer explorer (opened images, the strata.images view, panels). */
  explorer: ExplorerApi;
  /** The cache prediction's status bar item as shown (read by in-host tests). */
  prediction: { status(): PredictionStatus };
}

export function activate(context: vscode.ExtensionContext): StrataApi {
  const log = vscode.window.createOutputChannel('Strata', { log: true });
  const status = new StatusBar();
  const languageClient = new StrataLanguageClient(context, log, status);
  const prediction = new PredictionController(context, languageClient);
  context.subscriptions.push(
    log,
    status,
    languageClient,
    vscode.commands.registerCommand('strata.showLog', () => log.show()),
    vscode.commands.registerCommand('strata.restartServer', () => languageClient.restart()),
    registerBuild(context, languageClient, log),
    prediction,
  );
  const explorer = registerExplorer(context, languageClient, log);
  registerContainers(context, languageClient, explorer);
  // The server starts on the first Dockerfile (this activation event) or on the first command that needs it.
  if (vscode.workspace.textDocuments.some((d) => d.languageId === 'dockerfile')) void languageClient.get();
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument((d) => {
    if (d.languageId === 'dockerfile') void languageClient.get();
  }));
  return { languageClient, log, explorer, prediction };
}

export function deactivate(): void {
  // Disposables registered in activate() stop the server.
}
