/**
 * Helpers for in-host tests (they run inside VS Code's extension host, see index.ts). Each test file is bundled on its
 * own, so this module is compiled into every test that imports it.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { StrataApi } from '../../client/src/extension';

export const EXTENSION_ID = 'strata-dev.strata';

/** The activated extension's API: `{ languageClient, log }` (see client/src/extension.ts). */
export async function strata(): Promise<StrataApi> {
  const ext = vscode.extensions.getExtension<StrataApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded in this VS Code`);
  return ext.activate();
}

/** Polls `probe` until it returns a value other than undefined/false, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The workspace folder the launcher opened (a fresh temp folder per run, writable). */
export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the launcher must open a workspace folder');
  return folder.uri;
}

/** Writes `content` to `relPath` under the workspace folder and returns its URI. */
export async function writeWorkspaceFile(relPath: string, content: string): Promise<vscode.Uri> {
  const uri = vscode.Uri.joinPath(workspaceRoot(), ...relPath.split('/'));
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(content));
  return uri;
}

/** Opens a file in an editor (as a user would) and returns its document. */
export async function openEditor(uri: vscode.Uri): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

/** A diagnostic's code as a string (the server sends `{value, target}` when the rule has a docs link). */
export function codeOf(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  if (c === undefined) return undefined;
  return typeof c === 'object' ? String(c.value) : String(c);
}

/** Waits until the document has a Strata diagnostic matching `pred`. */
export function waitForDiagnostic(uri: vscode.Uri, pred: (d: vscode.Diagnostic) => boolean, timeoutMs = 60_000): Promise<vscode.Diagnostic> {
  return waitFor(`a strata diagnostic on ${uri.path}`, () =>
    vscode.languages.getDiagnostics(uri).find((d) => d.source === 'strata' && pred(d)), timeoutMs);
}

/** Replaces the whole text of an open document (a real edit, so the client sends didChange). */
export async function setText(doc: vscode.TextDocument, text: string): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(0, 0, doc.lineCount, 0), text);
  assert.ok(await vscode.workspace.applyEdit(edit), 'workspace edit was not applied');
}
