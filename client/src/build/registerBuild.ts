import * as vscode from 'vscode';
import type { StrataLanguageClient } from '../strataLanguageClient';
import { BuildController } from './buildController';
import { BuildTaskProvider } from './buildTaskProvider';

/** Everything "build" in the extension host: the `strata.build` command and the `strata` task type. */
export function registerBuild(context: vscode.ExtensionContext, client: StrataLanguageClient, log: vscode.LogOutputChannel): vscode.Disposable {
  const controller = new BuildController(context, client, log);
  const tasks = vscode.tasks.registerTaskProvider('strata', new BuildTaskProvider(context));
  return vscode.Disposable.from(controller, tasks);
}
