import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImagesNode } from '../../client/src/explorer/imagesTreeProvider';
import { EXTENSION_ID, strata, waitFor } from './strataHost';

/**
 * The layer explorer in a real VS Code: `strata.openImage` with a Uri opens a real fixture archive in the language
 * server, the layers appear in `strata.images`, and the webview panel (`Layers: <name>`) shows the whiteout of
 * layer 7 as deleted — as reported by the page itself after rendering.
 */
const ROOT = vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath ?? path.resolve(__dirname, '../../..');
const DIVE = path.resolve(ROOT, '../shared/corpus/images/wagoodman__dive/.data__test-docker-image.tar');

suite('Strata: layer explorer', () => {
  test('openImage(Uri) lists the layers in strata.images and the webview shows a whiteout as deleted', async function () {
    this.timeout(120_000);
    const api = await strata();
    assert.ok(existsSync(DIVE), `fixture missing: ${DIVE}`);
    const handle = await vscode.commands.executeCommand<string>('strata.openImage', vscode.Uri.file(DIVE));
    if (!handle) {
      // Surface why (the command itself reports failures in a notification).
      const why = await api.explorer.service.open({ path: DIVE }).then(() => 'opened on retry', (e: Error) => e.message);
      assert.fail(`strata.openImage returned no handle: ${why}`);
    }
    const opened = await waitFor('the archive to be read', () => {
      const o = api.explorer.service.byHandle(handle);
      return o?.status === 'done' ? o : undefined;
    }, 60_000);
    assert.equal(opened.archive?.images[0]?.layers.length, 14);

    const tree = api.explorer.tree;
    const roots = await tree.getChildren();
    const group = roots.find((n) => n.kind === 'group' && n.group === 'opened')!;
    const images = await tree.getChildren(group);
    const image = images.find((n) => n.kind === 'image' && n.opened.handle === handle);
    assert.ok(image, 'the opened image is listed under "Opened"');
    const children = await tree.getChildren(image);
    const layers = children.filter((n): n is Extract<ImagesNode, { kind: 'layer' }> => n.kind === 'layer');
    assert.equal(layers.length, 14);
    assert.match(String(tree.getTreeItem(layers[7]!).label), /^7 {2}RUN mv \/root\/example\/somefile3\.txt/);
    assert.ok(children.some((n) => n.kind === 'emptyStep'), 'metadata-only history steps are listed too');

    const panel = await waitFor('the Layers panel', () => api.explorer.panels().find((p) => p.opened.handle === handle));
    assert.match(panel.panel.title, /^Layers: /);
    panel.selectLayer(7, 'layer', null, false, 'root/example/somefile3.txt');
    const row = await waitFor('the page to show the whiteout', () =>
      panel.lastRendered?.layer === 7 ? panel.lastRendered.rows.find((r) => r.path === 'root/example/somefile3.txt') : undefined, 30_000);
    assert.equal(row.kind, 'deleted');
    assert.deepEqual(row.badges, ['whiteout']);
    panel.panel.dispose();
    await vscode.commands.executeCommand('strata.explorer.removeImage', image);
    assert.equal(api.explorer.service.byHandle(handle), undefined);
  });

  test('"Open With… Strata Layer Explorer" opens the archive in a custom editor panel', async function () {
    this.timeout(120_000);
    const api = await strata();
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(DIVE), 'strata.layerExplorer');
    const panel = await waitFor('a layer explorer for the archive', () => api.explorer.panels().find((p) => p.opened.source === DIVE), 60_000);
    await waitFor('the page to render rows', () => (panel.lastRendered?.rows.length ?? 0) > 0, 30_000);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
