import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, openEditor, setText, strata, waitFor, waitForDiagnostic, writeWorkspaceFile } from './strataHost';
import { serverPids } from './serverProcess';

suite('Strata commands', () => {
  suiteSetup(async () => { await strata(); });

  test('all contributed strata.* commands are registered', async () => {
    const ext = vscode.extensions.getExtension('strata-dev.strata');
    const contributed: string[] = ext!.packageJSON.contributes.commands.map((c: { command: string }) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    // Only commands the client registers at activation; others (build, openImage, …) arrive with their issues.
    for (const id of ['strata.showLog', 'strata.restartServer']) {
      assert.ok(contributed.includes(id), `${id} is not in package.json`);
      assert.ok(registered.has(id), `${id} is not registered`);
    }
  });

  test('Strata: Show Log runs', async () => {
    const api = await strata();
    await vscode.commands.executeCommand('strata.showLog');
    assert.equal(api.log.name, 'Strata');
  });

  test('Strata: Restart Language Server starts a new server that answers', async () => {
    const uri = await writeWorkspaceFile('restart/Dockerfile', 'FROM busybox\nFOO bar\n');
    const doc = await openEditor(uri);
    await waitForDiagnostic(uri, (d) => codeOf(d) === 'syntax/unknown-instruction');
    const before = await waitFor('a running language server process', () => serverPids()[0], 60_000);
    await vscode.commands.executeCommand('strata.restartServer');
    const after = await waitFor('a new language server process', () => serverPids().find((p) => p !== before), 60_000);
    assert.notEqual(after, before);
    // The new server answers: an edit gets fresh diagnostics that only it can have computed.
    await setText(doc, 'FROM busybox\nBAR baz\n');
    const d = await waitForDiagnostic(uri, (x) => codeOf(x) === 'syntax/unknown-instruction' && /BAR/.test(x.message));
    assert.equal(d.range.start.line, 1);
  });
});
