import * as path from 'node:path';
import * as vscode from 'vscode';
import { buildStateDir } from './buildController';

interface StrataTaskDefinition extends vscode.TaskDefinition {
  type: 'strata';
  dockerfile: string;
  context?: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
}

/**
 * Task type `strata` (tasks.json): runs the bundled CLI, `strata build`, in a terminal, so its output is docker's
 * own and failures come out as `file:line:col: error build/step-failed: …` for the `$strata` problem matcher.
 * Records go to the same state dir as the Build command, so either feeds the cache prediction.
 */
export class BuildTaskProvider implements vscode.TaskProvider {
  constructor(private readonly context: vscode.ExtensionContext) {}

  provideTasks(): vscode.Task[] {
    return [];
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as StrataTaskDefinition;
    if (def.type !== 'strata' || typeof def.dockerfile !== 'string') return undefined;
    const folder = task.scope && typeof task.scope === 'object' ? task.scope.uri.fsPath : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    const dockerfile = path.resolve(folder, def.dockerfile);
    const context = path.resolve(folder, def.context ?? path.dirname(def.dockerfile));
    const args = [this.context.asAbsolutePath('dist/cli.js'), 'build', '--file', dockerfile, '--context', context, '--state-dir', buildStateDir(this.context)];
    for (const t of def.tags ?? []) args.push('--tag', t);
    if (def.target) args.push('--target', def.target);
    for (const [k, v] of Object.entries(def.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
    const dockerPath = vscode.workspace.getConfiguration('strata').get<string>('dockerPath');
    if (dockerPath && dockerPath !== 'docker') args.push('--docker', dockerPath);
    // The extension host's own executable runs the CLI: Electron needs ELECTRON_RUN_AS_NODE, plain Node ignores it.
    const exec = new vscode.ProcessExecution(process.execPath, args, { env: { ELECTRON_RUN_AS_NODE: '1' } });
    const resolved = new vscode.Task(def, task.scope ?? vscode.TaskScope.Workspace, task.name || `build ${def.dockerfile}`, 'strata', exec, ['$strata']);
    resolved.group = vscode.TaskGroup.Build;
    return resolved;
  }
}
