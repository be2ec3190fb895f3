import * as path from 'node:path';
import * as vscode from 'vscode';

/** What one build uses; remembered per Dockerfile in workspace state, seeded by `strata.build.defaults`. */
export interface BuildChoices {
  tags: string[];
  target: string | null;
  buildArgs: Record<string, string>;
  /** Absolute folder. */
  context: string;
}

/** Stages (`FROM … AS name`) and ARGs (`ARG NAME[=default]`) read from the text; a light scan is enough for prompts. */
export function scanDockerfile(text: string): { stages: string[]; args: Map<string, string | undefined> } {
  const stages: string[] = [];
  const args = new Map<string, string | undefined>();
  for (const line of text.split(/\r?\n/)) {
    const from = /^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) stages.push(from[1]!);
    const arg = /^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=("?)(.*?)\2)?\s*$/i.exec(line);
    if (arg && !args.has(arg[1]!)) args.set(arg[1]!, arg[3]);
  }
  return { stages, args };
}

const KEY = (dockerfile: string) => `strata.build.last:${dockerfile}`;

export function rememberedChoices(state: vscode.Memento, dockerfile: string): BuildChoices | undefined {
  return state.get<BuildChoices>(KEY(dockerfile));
}

export function rememberChoices(state: vscode.Memento, dockerfile: string, c: BuildChoices): Thenable<void> {
  return state.update(KEY(dockerfile), c);
}

/** Remembered answers, else `strata.build.defaults`, else the Dockerfile's folder and `<folder>:latest`. */
export function initialChoices(state: vscode.Memento, dockerfile: string): BuildChoices {
  const last = rememberedChoices(state, dockerfile);
  if (last) return last;
  const d = vscode.workspace.getConfiguration('strata', vscode.Uri.file(dockerfile)).get<Partial<BuildChoices>>('build.defaults') ?? {};
  const folder = path.dirname(dockerfile);
  const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dockerfile))?.uri.fsPath ?? folder;
  return {
    tags: d.tags && d.tags.length ? d.tags : [`${path.basename(folder).toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'image'}:latest`],
    target: d.target ?? null,
    buildArgs: d.buildArgs ?? {},
    context: d.context ? path.resolve(ws, d.context) : folder,
  };
}

/** Asks for tag, target, build args and context (Escape at any step cancels); undefined when cancelled. */
export async function promptChoices(dockerfile: string, text: string, start: BuildChoices): Promise<BuildChoices | undefined> {
  const scan = scanDockerfile(text);
  const tagText = await vscode.window.showInputBox({
    title: 'Strata: Build Image (1/4) — tag',
    prompt: 'Image tags, separated by spaces (empty: untagged)',
    value: start.tags.join(' '),
    ignoreFocusOut: true,
  });
  if (tagText === undefined) return undefined;
  const tags = tagText.split(/\s+/).filter(Boolean);

  let target = start.target;
  if (scan.stages.length > 0) {
    const last = '$(layers) last stage (default)';
    const items = [last, ...scan.stages].map((label) => ({ label, picked: label === (target ?? last) }));
    const pick = await vscode.window.showQuickPick(items, {
      title: 'Strata: Build Image (2/4) — target stage',
      placeHolder: target ?? 'last stage',
      ignoreFocusOut: true,
    });
    if (!pick) return undefined;
    target = pick.label === last ? null : pick.label;
  }

  let buildArgs = { ...start.buildArgs };
  if (scan.args.size > 0 || Object.keys(buildArgs).length > 0) {
    const prefill = new Map<string, string>();
    for (const [k, v] of scan.args) prefill.set(k, buildArgs[k] ?? v ?? '');
    for (const [k, v] of Object.entries(buildArgs)) prefill.set(k, v);
    const argText = await vscode.window.showInputBox({
      title: 'Strata: Build Image (3/4) — build args',
      prompt: 'K=V pairs separated by spaces; remove a pair to use the Dockerfile default',
      value: [...prefill].map(([k, v]) => `${k}=${v}`).join(' '),
      ignoreFocusOut: true,
      validateInput: (v) => v.split(/\s+/).filter(Boolean).find((p) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(p))
        ? 'each build arg is NAME=value' : undefined,
    });
    if (argText === undefined) return undefined;
    buildArgs = {};
    for (const pair of argText.split(/\s+/).filter(Boolean)) {
      const eq = pair.indexOf('=');
      buildArgs[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }

  const folder = path.dirname(dockerfile);
  const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dockerfile))?.uri.fsPath;
  const options = [...new Set([start.context, folder, ...(ws ? [ws] : [])])];
  const browse = '$(folder-opened) Browse…';
  const pick = await vscode.window.showQuickPick([...options.map((o) => ({ label: o })), { label: browse }], {
    title: 'Strata: Build Image (4/4) — build context folder',
    ignoreFocusOut: true,
  });
  if (!pick) return undefined;
  let context = pick.label;
  if (context === browse) {
    const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, defaultUri: vscode.Uri.file(folder) });
    if (!chosen?.[0]) return undefined;
    context = chosen[0].fsPath;
  }
  return { tags, target, buildArgs, context };
}
