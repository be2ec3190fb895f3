import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { strata } from './strataHost';

suite('Strata view', () => {
  suiteSetup(async () => { await strata(); });

  test('the strata view container and strata.images view are contributed and registered', async () => {
    const pkg = vscode.extensions.getExtension('strata-dev.strata')!.packageJSON;
    assert.ok(pkg.contributes.viewsContainers.activitybar.some((c: { id: string }) => c.id === 'strata'));
    assert.ok(pkg.contributes.views.strata.some((v: { id: string }) => v.id === 'strata.images'));
    // The workbench registers `<container>`/`<view>.focus` commands only for views it actually loaded.
    const commands = new Set(await vscode.commands.getCommands(true));
    assert.ok(commands.has('workbench.view.extension.strata'), 'view container not registered by the workbench');
    assert.ok(commands.has('strata.images.focus'), 'strata.images view not registered by the workbench');
  });

  test('the Strata view can be shown', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.strata');
    await vscode.commands.executeCommand('strata.images.focus');
    // Back to the explorer so later tests (and screenshots) start from the usual layout.
    await vscode.commands.executeCommand('workbench.view.explorer');
  });
});
