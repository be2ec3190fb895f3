/**
 * The `strata.images` sidebar: "Docker engine" (images the engine has, or why it is not reachable) and "Opened"
 * (archives opened in this window → images → layers, with the metadata-only history steps greyed between them).
 * Archives dropped on the view are opened.
 */
import * as vscode from 'vscode';
import type { HistoryStep, LayerInfo } from '../../../server/src/image/imageModel';
import type { EngineImagesResult } from '../../../server/src/protocol/lspMessages';
import { errorMessage, type ImageService, type OpenedArchive } from './imageService';
import { imageTitle } from './layerExplorerPanel';
import { formatSize, shortCommand } from '../../../webview/src/format';
import type { LayerLine, LayerLineIndex } from './layerLines';
import { messageItem, treeItem } from './treeItems';
import * as path from 'node:path';

export type ImagesNode =
  | { kind: 'group'; group: 'engine' | 'opened' }
  | { kind: 'engineImage'; ref: string; id: string; size: number; tags: string[] }
  | { kind: 'message'; text: string; tooltip: string; icon: string }
  | { kind: 'archive'; opened: OpenedArchive }
  | { kind: 'image'; opened: OpenedArchive; image: number }
  /** `line`: the workspace Dockerfile line that built it, when a build record says so. */
  | { kind: 'layer'; opened: OpenedArchive; image: number; layer: LayerInfo; line?: LayerLine | undefined }
  | { kind: 'emptyStep'; step: HistoryStep }
  /** A node owned by another feature's group (e.g. Containers), which renders and expands it. */
  | { kind: 'ext'; ext: TreeExtension; data: unknown };

/** A feature adding its own top-level group(s) to the view (hook: `addExtension`). */
export interface TreeExtension {
  roots(): ImagesNode[];
  getTreeItem(n: Extract<ImagesNode, { kind: 'ext' }>): vscode.TreeItem;
  getChildren(n: Extract<ImagesNode, { kind: 'ext' }>): Promise<ImagesNode[]>;
  getParent?(n: Extract<ImagesNode, { kind: 'ext' }>): ImagesNode | undefined;
  refresh?(): void;
  readonly onDidChange: vscode.Event<ImagesNode | undefined>;
}

export class ImagesTreeProvider implements vscode.TreeDataProvider<ImagesNode>, vscode.TreeDragAndDropController<ImagesNode> {
  private readonly changed = new vscode.EventEmitter<ImagesNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly dropMimeTypes = ['text/uri-list', 'files'];
  readonly dragMimeTypes: string[] = [];
  private engine: Promise<EngineImagesResult> | null = null;
  private readonly groups = { engine: { kind: 'group', group: 'engine' } as ImagesNode, opened: { kind: 'group', group: 'opened' } as ImagesNode };
  private readonly extensions: TreeExtension[] = [];

  constructor(
    private readonly service: ImageService,
    private readonly open: (uri: vscode.Uri) => Promise<void>,
    private readonly lines: LayerLineIndex | null = null,
  ) {
    service.onDidChange(() => this.changed.fire(this.groups.opened));
  }

  addExtension(ext: TreeExtension): vscode.Disposable {
    this.extensions.push(ext);
    this.changed.fire(undefined);
    return ext.onDidChange((n) => this.changed.fire(n));
  }

  refresh(): void {
    this.engine = null;
    for (const e of this.extensions) e.refresh?.();
    this.changed.fire(undefined);
  }

  getTreeItem(n: ImagesNode): vscode.TreeItem {
    switch (n.kind) {
      case 'ext': return n.ext.getTreeItem(n);
      case 'group':
        return treeItem(n.group === 'engine' ? 'Docker engine' : 'Opened', {
          collapsible: vscode.TreeItemCollapsibleState.Expanded,
          contextValue: `group-${n.group}`,
          icon: n.group === 'engine' ? 'server-environment' : 'archive',
          id: `group:${n.group}`,
        });
      case 'message': return messageItem(n);
      case 'engineImage':
        return treeItem(n.ref, {
          description: formatSize(n.size),
          tooltip: `${n.tags.join('\n') || '(untagged)'}\n${n.id}\n${formatSize(n.size)}\nClick to open its layers (docker save, streamed).`,
          icon: 'package',
          contextValue: 'engineImage',
          command: { command: 'strata.openEngineImage', title: 'Open', arguments: [n.ref] },
        });
      case 'archive': {
        const o = n.opened;
        return treeItem(o.label, {
          collapsible: vscode.TreeItemCollapsibleState.Expanded,
          description: statusText(o),
          tooltip: `${o.source}\n${o.archive?.format ?? ''} ${o.archive?.flavor ?? ''}${o.error ? `\n${o.error}` : ''}`,
          icon: o.status === 'failed' ? 'error' : o.status === 'done' ? 'archive' : 'loading~spin',
          contextValue: 'openedArchive',
          id: `archive:${o.handle}`,
        });
      }
      case 'image': {
        const img = n.opened.archive!.images[n.image]!;
        const single = n.opened.archive!.images.length === 1;
        return treeItem(single ? n.opened.label : imageTitle(n.opened, n.image), {
          collapsible: single ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
          description: `${img.layers.length} layers · ${img.platform}${single ? ' · ' + statusText(n.opened) : ''}`,
          tooltip: `${img.refs.join(', ') || '(untagged)'}\n${img.configDigest}`,
          icon: n.opened.status === 'failed' ? 'error' : n.opened.status === 'done' ? 'package' : 'loading~spin',
          contextValue: single ? 'openedArchive' : 'openedImage',
          command: { command: 'strata.explorer.openImagePanel', title: 'Open in Layer Explorer', arguments: [n] },
          id: `image:${n.opened.handle}:${n.image}`,
        });
      }
      case 'layer': {
        const l = n.layer;
        const size = l.contentSize ?? l.size;
        const where = n.line ? ` · ${path.basename(n.line.dockerfile)}:${n.line.line}` : '';
        const tooltip = new vscode.MarkdownString(undefined, false);
        tooltip.appendText(`Layer ${l.index}\n\n`);
        tooltip.appendCodeblock(l.createdBy || '(no history)', 'shell');
        tooltip.appendText(`\ndigest ${l.digest}\ndiffId ${l.diffId}\n${formatSize(l.size)} stored (${l.compression})${l.warnings.length ? '\n⚠ ' + l.warnings.join('\n⚠ ') : ''}`);
        return treeItem(`${l.index}  ${shortCommand(l.createdBy, 80) || l.digest.slice(7, 19)}`, {
          description: `${formatSize(size)}${l.entryCount !== null ? ` · ${l.entryCount} entries` : ''}${where}${l.status === 'read' || l.status === 'foreign' ? '' : ` · ${l.status}`}`,
          tooltip,
          icon: l.status === 'failed' ? 'error' : 'layers',
          contextValue: n.line ? 'layerWithLine' : 'layer',
          command: { command: 'strata.explorer.openLayer', title: 'Open Layer in Explorer', arguments: [n] },
          id: `layer:${n.opened.handle}:${n.image}:${l.index}`,
        });
      }
      case 'emptyStep':
        return treeItem(shortCommand(n.step.createdBy, 80), {
          description: 'no layer',
          tooltip: `${n.step.createdBy}\n(metadata-only step: creates no layer)`,
          icon: new vscode.ThemeIcon('circle-small', new vscode.ThemeColor('disabledForeground')),
          contextValue: 'emptyStep',
        });
    }
  }

  async getChildren(n?: ImagesNode): Promise<ImagesNode[]> {
    if (!n) return [this.groups.engine, ...this.extensions.flatMap((e) => e.roots()), this.groups.opened];
    switch (n.kind) {
      case 'ext': return n.ext.getChildren(n);
      case 'group': return n.group === 'engine' ? this.engineChildren() : this.openedChildren();
      case 'archive': {
        const imgs = n.opened.archive?.images ?? [];
        if (imgs.length === 0) return [{ kind: 'message', text: n.opened.error ?? statusText(n.opened), tooltip: n.opened.source, icon: n.opened.error ? 'error' : 'loading~spin' }];
        return imgs.map((_, i) => ({ kind: 'image', opened: n.opened, image: i }));
      }
      case 'image': {
        const img = n.opened.archive!.images[n.image]!;
        const out: ImagesNode[] = [];
        for (const l of img.layers) {
          for (const step of l.emptySteps) out.push({ kind: 'emptyStep', step });
          out.push({ kind: 'layer', opened: n.opened, image: n.image, layer: l, line: await this.lines?.lineOf(l.diffId) });
        }
        // Metadata steps after the last layer (CMD, ENTRYPOINT, …).
        const counted = img.layers.reduce((a, l) => a + l.emptySteps.length, 0) + img.layers.length;
        for (const step of img.config.history.slice(counted)) if (step.emptyLayer) out.push({ kind: 'emptyStep', step });
        return out;
      }
      default: return [];
    }
  }

  private openedChildren(): ImagesNode[] {
    const all = this.service.all();
    if (all.length === 0) return [{ kind: 'message', text: 'No archives opened', tooltip: 'Use "Open Image Archive…", "Open With… → Strata Layer Explorer" on a .tar/.oci file, or drop an archive here.', icon: 'info' }];
    // An archive with one image shows that image directly (its layers one level down).
    return all.map((o) => (o.archive?.images.length === 1 ? { kind: 'image', opened: o, image: 0 } : { kind: 'archive', opened: o }));
  }

  private async engineChildren(): Promise<ImagesNode[]> {
    this.engine ??= this.service.engineImages().catch((e) => ({ connected: false, error: errorMessage(e), images: [] }));
    const r = await this.engine;
    if (!r.connected) {
      return [{
        kind: 'message', text: 'Not connected to a Docker engine', icon: 'debug-disconnect',
        tooltip: `${r.error ?? 'The engine did not answer.'}\n\nStrata runs the docker CLI (setting strata.dockerPath) with DOCKER_HOST / the current docker context. Start Docker, or point DOCKER_HOST at a running engine, then press Refresh.`,
      }];
    }
    if (r.images.length === 0) return [{ kind: 'message', text: 'The engine has no images', tooltip: 'Build or pull an image, then press Refresh.', icon: 'info' }];
    return r.images.map((i) => ({ kind: 'engineImage', ref: i.repoTags[0] ?? i.id, id: i.id, size: i.size, tags: i.repoTags }));
  }

  getParent(n: ImagesNode): ImagesNode | undefined {
    switch (n.kind) {
      case 'engineImage': return this.groups.engine;
      case 'archive': return this.groups.opened;
      case 'image': return n.opened.archive?.images.length === 1 ? this.groups.opened : { kind: 'archive', opened: n.opened };
      case 'layer': return { kind: 'image', opened: n.opened, image: n.image };
      case 'ext': return n.ext.getParent?.(n);
      default: return undefined;
    }
  }

  async handleDrop(_target: ImagesNode | undefined, data: vscode.DataTransfer): Promise<void> {
    const uris: vscode.Uri[] = [];
    const list = await data.get('text/uri-list')?.asString();
    for (const line of list?.split(/\r?\n/) ?? []) {
      const t = line.trim();
      if (t && !t.startsWith('#')) {
        try { uris.push(vscode.Uri.parse(t, true)); } catch { /* not a URI: ignore */ }
      }
    }
    data.forEach((item) => {
      const f = item.asFile();
      if (f?.uri && !uris.some((u) => u.toString() === f.uri!.toString())) uris.push(f.uri);
    });
    for (const u of uris.filter((x) => x.scheme === 'file')) await this.open(u);
  }
}

function statusText(o: OpenedArchive): string {
  switch (o.status) {
    case 'saving': return `docker save… ${(o.bytes / 1e6).toFixed(1)} MB`;
    case 'reading': {
      const layers = o.archive?.images.flatMap((i) => i.layers) ?? [];
      return `reading ${layers.filter((l) => l.status === 'read' || l.status === 'foreign').length}/${layers.length}`;
    }
    case 'failed': return `failed: ${o.error ?? ''}`;
    case 'cancelled': return 'cancelled';
    default: return '';
  }
}
