/**
 * One layer-explorer webview (a panel, or a custom editor's panel) for one image of one opened archive. It serves the
 * page's HTML (strict CSP, fresh nonce per load, local resources only), validates every message from the page, and
 * relays the page's requests to the language server through ImageService.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  parseWebviewMessage, PREVIEW_MAX_BYTES, type CompareResult, type ExplorerState, type HostMessage, type LoadStatus,
  type WebviewMessage,
} from '../../../server/src/protocol/webviewMessages';
import type { ViewMode } from '../../../server/src/image/imageModel';
import { errorMessage, type ImageService, type OpenedArchive } from './imageService';
import { layerContentUri } from './layerContentProvider';

export const VIEW_TYPE = 'strata.layerExplorer';

export function imageTitle(o: OpenedArchive, image: number): string {
  const img = o.archive?.images[image];
  const name = img?.ref ?? o.label;
  return (o.archive?.images.length ?? 1) > 1 && !img?.ref ? `${name} #${image}` : name;
}

export class LayerExplorerPanel implements vscode.Disposable {
  private static readonly open = new Set<LayerExplorerPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly inflight = new Map<number, vscode.CancellationTokenSource>();
  /** What the page last reported showing (in-host tests read it; the page itself stays opaque). */
  lastRendered: Extract<WebviewMessage, { type: 'rendered' }> | null = null;
  private readonly renderedEmitter = new vscode.EventEmitter<void>();
  /** The page said `ready` (messages before that could arrive before the image and be lost). */
  private pageReady = false;
  private pendingSelect: Extract<HostMessage, { type: 'selectLayer' }> | null = null;
  readonly onDidRender = this.renderedEmitter.event;

  /** The panel already showing this image, if any. */
  static find(handle: string, image: number): LayerExplorerPanel | undefined {
    return [...LayerExplorerPanel.open].find((p) => p.opened.handle === handle && p.image === image);
  }

  static all(): LayerExplorerPanel[] {
    return [...LayerExplorerPanel.open];
  }

  /** Opens (or reveals) a panel for this image. */
  static show(context: vscode.ExtensionContext, service: ImageService, opened: OpenedArchive, image: number): LayerExplorerPanel {
    const existing = LayerExplorerPanel.find(opened.handle, image);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, `Layers: ${imageTitle(opened, image)}`, vscode.ViewColumn.Active, {
      ...webviewOptions(context),
      retainContextWhenHidden: false,
    });
    return new LayerExplorerPanel(context, service, panel, opened, image, null);
  }

  constructor(
    context: vscode.ExtensionContext,
    private readonly service: ImageService,
    readonly panel: vscode.WebviewPanel,
    readonly opened: OpenedArchive,
    readonly image: number,
    private restore: ExplorerState | null,
  ) {
    LayerExplorerPanel.open.add(this);
    panel.title = `Layers: ${imageTitle(opened, image)}`;
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'strata.svg');
    panel.webview.options = webviewOptions(context);
    panel.webview.html = explorerHtml(panel.webview, context.extensionUri);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m) => void this.onMessage(m)),
      service.onDidChange((o) => { if (o === opened) this.postImage(); }),
      panel.onDidDispose(() => this.dispose()),
      // A hidden webview is torn down (no retainContextWhenHidden) and says `ready` again when shown.
      panel.onDidChangeViewState(() => { if (!panel.visible) this.pageReady = false; }),
    );
  }

  /** Sidebar → page: show one layer (optionally in a mode / range / wasted-only). */
  selectLayer(layer: number, mode: ViewMode | null = null, rangeStart: number | null = null, wastedOnly: boolean | null = null, reveal: string | null = null): void {
    this.panel.reveal();
    const m: Extract<HostMessage, { type: 'selectLayer' }> = { type: 'selectLayer', layer, mode, rangeStart, wastedOnly, reveal };
    if (this.pageReady) this.post(m);
    else this.pendingSelect = m;
  }

  private post(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  private postImage(): void {
    const o = this.opened;
    if (!o.archive) return;
    const status: LoadStatus = o.status === 'saving' ? 'reading' : o.status;
    this.post({ type: 'image', source: o.source, title: imageTitle(o, this.image), image: this.image, archive: o.archive, status, error: o.error, restore: this.restore });
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m = parseWebviewMessage(raw);
    if (!m) return; // unknown or malformed: dropped (the page is not trusted either)
    switch (m.type) {
      case 'ready':
        // Also after a reload of the page (hide/show): it starts over and says ready again.
        this.postImage();
        this.pageReady = true;
        if (this.pendingSelect) this.post(this.pendingSelect);
        this.pendingSelect = null;
        return;
      case 'cancel': this.inflight.get(m.id)?.cancel(); return;
      case 'rendered':
        this.lastRendered = m;
        this.renderedEmitter.fire();
        return;
      case 'request': await this.onRequest(m); return;
    }
  }

  private async onRequest(m: Extract<WebviewMessage, { type: 'request' }>): Promise<void> {
    const cts = new vscode.CancellationTokenSource();
    this.inflight.set(m.id, cts);
    try {
      const result = await this.handle(m, cts.token);
      this.post({ type: 'reply', id: m.id, ok: true, result });
    } catch (e) {
      this.post({ type: 'reply', id: m.id, ok: false, error: errorMessage(e) });
    } finally {
      this.inflight.delete(m.id);
      cts.dispose();
    }
  }

  private handle(m: Extract<WebviewMessage, { type: 'request' }>, token: vscode.CancellationToken): Promise<unknown> {
    const o = this.opened;
    switch (m.method) {
      case 'list': return this.service.list(o, { ...(m.params as import('../../../server/src/protocol/webviewMessages').ListParams), image: this.image }, token);
      case 'readFile': {
        const p = m.params as { layer: number; path: string };
        return this.service.readFile(o, { image: this.image, layer: p.layer, path: p.path, mode: 'merged', maxBytes: PREVIEW_MAX_BYTES }, token);
      }
      case 'summary': return this.service.summary(o, this.image, token);
      case 'compare': return this.compare(m.params as { layer: number; path: string });
    }
  }

  /** Diff of a file between the version below `layer` and the one `layer` wrote (readonly documents). */
  private async compare(p: { layer: number; path: string }): Promise<CompareResult> {
    if (p.layer <= 0) return { opened: false, message: 'layer 0 has no previous version' };
    const left = layerContentUri(this.opened.handle, this.image, p.layer - 1, p.path, 'merged');
    const right = layerContentUri(this.opened.handle, this.image, p.layer, p.path, 'layer');
    await vscode.commands.executeCommand('vscode.diff', left, right, `${path.posix.basename(p.path)} (layer ${p.layer - 1} ↔ ${p.layer})`, { preview: true });
    return { opened: true, message: null };
  }

  dispose(): void {
    LayerExplorerPanel.open.delete(this);
    for (const c of this.inflight.values()) c.cancel();
    for (const d of this.disposables) d.dispose();
    this.renderedEmitter.dispose();
  }
}

/** Scripts only, and only from dist/ and media/ (codicons are copied into dist/codicons by the build). */
export function webviewOptions(context: vscode.ExtensionContext): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist'), vscode.Uri.joinPath(context.extensionUri, 'media')],
  };
}

export function explorerHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(18).toString('base64');
  const asset = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  const csp = [
    `default-src 'none'`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource} data:`,
    `img-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('dist', 'codicon.css')}">
<link rel="stylesheet" href="${asset('dist', 'webview.css')}">
<title>Strata layers</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${asset('dist', 'webview.js')}"></script>
</body>
</html>`;
}
