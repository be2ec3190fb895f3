/**
 * Composition of the layer explorer on the extension-host side: the `strata.images` view, the commands, the
 * "Open With… Strata Layer Explorer" custom editor, the panel serializer (panels survive a window reload) and the
 * readonly `strata-layer:` documents used by diffs.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseExplorerState } from '../../../server/src/protocol/webviewMessages';
import type { StrataLanguageClient } from '../strataLanguageClient';
import { errorMessage, ImageService, parseSourceKey, type OpenedArchive } from './imageService';
import { ImagesTreeProvider, type ImagesNode } from './imagesTreeProvider';
import { LAYER_SCHEME, LayerContentProvider } from './layerContentProvider';
import { imageTitle, LayerExplorerPanel, VIEW_TYPE, webviewOptions } from './layerExplorerPanel';
import { LayerLineIndex } from './layerLines';
import { buildStateDir } from '../build/buildController';

export interface ExplorerApi {
  service: ImageService;
  tree: ImagesTreeProvider;
  view: vscode.TreeView<ImagesNode>;
  panels(): LayerExplorerPanel[];
}

type LayerNode = Extract<ImagesNode, { kind: 'layer' }>;
type ImageNode = Extract<ImagesNode, { kind: 'image' }>;

export function registerExplorer(context: vscode.ExtensionContext, languageClient: StrataLanguageClient, log: vscode.LogOutputChannel): ExplorerApi {
  const service = new ImageService(languageClient, log);
  const openUri = async (uri: vscode.Uri): Promise<void> => { await openAndShow(uri); };
  const lines = new LayerLineIndex(buildStateDir(context));
  const tree = new ImagesTreeProvider(service, openUri, lines);
  const view = vscode.window.createTreeView('strata.images', { treeDataProvider: tree, dragAndDropController: tree, showCollapseAll: true });

  const show = (o: OpenedArchive, image: number) => LayerExplorerPanel.show(context, service, o, image);

  /** Opens an archive and shows its image (asks which one when it holds several). */
  async function openAndShow(uri: vscode.Uri): Promise<OpenedArchive | undefined> {
    const file = path.basename(uri.fsPath) === 'index.json' ? path.dirname(uri.fsPath) : uri.fsPath;
    return openSource({ path: file });
  }

  async function openSource(source: { path: string } | { engineRef: string }): Promise<OpenedArchive | undefined> {
    let o: OpenedArchive;
    try {
      o = await service.open(source);
    } catch (e) {
      if (errorMessage(e) !== 'cancelled') void vscode.window.showErrorMessage(`Strata: cannot open ${'path' in source ? source.path : source.engineRef}: ${errorMessage(e)}`);
      return undefined;
    }
    const images = o.archive?.images ?? [];
    let image = 0;
    if (images.length > 1) {
      const pick = await vscode.window.showQuickPick(images.map((img, i) => ({ label: imageTitle(o, i), description: `${img.layers.length} layers · ${img.platform}`, i })), { title: 'Which image?' });
      if (!pick) return o;
      image = pick.i;
    }
    if (images.length > 0) show(o, image);
    return o;
  }

  const layerPanel = (n: LayerNode | ImageNode): LayerExplorerPanel => show(n.opened, n.image);

  context.subscriptions.push(
    service,
    view,
    vscode.workspace.registerTextDocumentContentProvider(LAYER_SCHEME, new LayerContentProvider(service)),
    vscode.commands.registerCommand('strata.openImage', async (uri?: vscode.Uri) => {
      let target = uri instanceof vscode.Uri ? uri : undefined;
      if (!target) {
        const picked = await vscode.window.showOpenDialog({
          title: 'Open image archive or OCI layout', canSelectFiles: true, canSelectFolders: true, canSelectMany: false,
          filters: { 'Image archives': ['tar', 'gz', 'tgz', 'oci', 'json'], 'All files': ['*'] },
        });
        target = picked?.[0];
      }
      if (!target) return undefined;
      return (await openAndShow(target))?.handle;
    }),
    vscode.commands.registerCommand('strata.openEngineImage', async (ref?: string) => {
      let name = typeof ref === 'string' ? ref : undefined;
      if (!name) {
        const r = await service.engineImages();
        if (!r.connected) {
          void vscode.window.showErrorMessage(`Strata: no Docker engine: ${r.error ?? 'not reachable'}`);
          return undefined;
        }
        const pick = await vscode.window.showQuickPick(r.images.map((i) => ({ label: i.repoTags[0] ?? i.id.slice(0, 19), description: i.id.slice(7, 19), ref: i.repoTags[0] ?? i.id })), { title: 'Open image from Docker' });
        name = pick?.ref;
      }
      if (!name) return undefined;
      return (await openSource({ engineRef: name }))?.handle;
    }),
    vscode.commands.registerCommand('strata.refreshImages', () => {
      lines.invalidate();
      tree.refresh();
    }),
    vscode.commands.registerCommand('strata.explorer.goToLine', async (n: LayerNode) => {
      if (!n.line) return;
      const pos = new vscode.Position(n.line.line - 1, 0);
      await vscode.window.showTextDocument(vscode.Uri.file(n.line.dockerfile), { selection: new vscode.Range(pos, pos) });
    }),
    vscode.commands.registerCommand('strata.explorer.showLayerForLine', async (uri?: vscode.Uri, line?: number) => {
      const editor = vscode.window.activeTextEditor;
      const file = (uri instanceof vscode.Uri ? uri : editor?.document.uri)?.fsPath;
      const at = typeof line === 'number' ? line : (editor?.selection.active.line ?? 0) + 1;
      if (!file) return false;
      lines.invalidate();
      const made = await lines.layersOf(file, at);
      if (made.length === 0) {
        void vscode.window.showInformationMessage(`Strata: no recorded build made a layer from line ${at} (build with Strata: Build Image first).`);
        return false;
      }
      const find = () => {
        for (const o of service.all()) {
          for (const img of o.archive?.images ?? []) {
            const layer = img.layers.find((l) => made.some((m) => m.diffId === l.diffId));
            if (layer) return { o, image: img.index, layer: layer.index };
          }
        }
        return undefined;
      };
      let hit = find();
      if (!hit) {
        const ref = made[0]!.tags[0] ?? made[0]!.imageId;
        if (!ref) return false;
        await openSource({ engineRef: ref });
        hit = find();
      }
      if (!hit) return false;
      show(hit.o, hit.image).selectLayer(hit.layer, 'layer');
      return true;
    }),
    vscode.commands.registerCommand('strata.explorer.openImagePanel', (n: ImageNode) => { layerPanel(n); }),
    vscode.commands.registerCommand('strata.explorer.openLayer', (n: LayerNode) => layerPanel(n).selectLayer(n.layer.index)),
    vscode.commands.registerCommand('strata.explorer.revealWasted', (n: LayerNode) => layerPanel(n).selectLayer(n.layer.index, 'layer', null, true)),
    vscode.commands.registerCommand('strata.explorer.copyDigest', (n: LayerNode) => vscode.env.clipboard.writeText(n.layer.digest)),
    vscode.commands.registerCommand('strata.explorer.copyDiffId', (n: LayerNode) => vscode.env.clipboard.writeText(n.layer.diffId)),
    vscode.commands.registerCommand('strata.explorer.compareLayers', async (n: LayerNode) => {
      const layers = n.opened.archive?.images[n.image]?.layers ?? [];
      const pick = await vscode.window.showQuickPick(
        layers.filter((l) => l.index !== n.layer.index).map((l) => ({ label: `Layer ${l.index}`, description: l.createdBy.slice(0, 80), index: l.index })),
        { title: `Compare layer ${n.layer.index} with…` },
      );
      if (!pick) return;
      const [a, b] = [Math.min(pick.index, n.layer.index), Math.max(pick.index, n.layer.index)];
      // Range view a+1..b: everything that changed after layer a up to layer b.
      layerPanel(n).selectLayer(b, 'range', Math.min(a + 1, b));
    }),
    vscode.commands.registerCommand('strata.explorer.removeImage', async (n: ImagesNode) => {
      const o = 'opened' in n ? n.opened : undefined;
      if (!o) return;
      for (const p of LayerExplorerPanel.all()) if (p.opened === o) p.panel.dispose();
      await service.close(o.handle);
    }),
    vscode.window.registerCustomEditorProvider(VIEW_TYPE, {
      openCustomDocument: (uri: vscode.Uri) => ({ uri, dispose: () => undefined }),
      resolveCustomEditor: async (document: vscode.CustomDocument, panel: vscode.WebviewPanel) => {
        const file = path.basename(document.uri.fsPath) === 'index.json' ? path.dirname(document.uri.fsPath) : document.uri.fsPath;
        panel.webview.options = webviewOptions(context);
        try {
          const o = await service.open({ path: file });
          new LayerExplorerPanel(context, service, panel, o, 0, null);
        } catch (e) {
          panel.webview.html = errorHtml(`Cannot open ${file}: ${errorMessage(e)}`);
        }
      },
    } satisfies vscode.CustomReadonlyEditorProvider, { webviewOptions: { retainContextWhenHidden: false }, supportsMultipleEditorsPerDocument: true }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, raw: unknown) {
        const state = parseExplorerState(raw);
        if (!state || !state.source) {
          panel.dispose();
          return;
        }
        panel.webview.options = webviewOptions(context);
        try {
          const o = await service.open(parseSourceKey(state.source));
          new LayerExplorerPanel(context, service, panel, o, Math.min(state.image, (o.archive?.images.length ?? 1) - 1), state);
        } catch (e) {
          panel.webview.html = errorHtml(`Cannot reopen ${state.source}: ${errorMessage(e)}`);
        }
      },
    }),
  );
  return { service, tree, view, panels: () => LayerExplorerPanel.all() };
}

/** A static page (no script) for an archive that cannot be opened; the message is escaped. */
function errorHtml(message: string): string {
  const text = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><p>${text}</p></body></html>`;
}
