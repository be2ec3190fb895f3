/**
 * The "Containers" group of the `strata.images` view (a TreeExtension of the explorer's tree): running and
 * stopped containers with their image; expanding one reads it (docker diff + export, in the language server) and
 * shows its commit preview and its image's layers with the writable layer on top — the explorer's own layer nodes,
 * so a click opens the layer explorer with the same badges and merged view.
 */
import * as vscode from 'vscode';
import type { ContainerInspection, ContainerSummary } from '../../../server/src/container/containerModel';
import type { ContainersListResult } from '../../../server/src/protocol/lspMessages';
import { errorMessage, type ImageService, type OpenedArchive } from '../explorer/imageService';
import type { ImagesNode, TreeExtension } from '../explorer/imagesTreeProvider';
import { messageItem, treeItem } from '../explorer/treeItems';
import { formatSize } from '../../../webview/src/format';
import type { ContainerClient } from './containerClient';

export type ContainerData =
  | { t: 'group' }
  | { t: 'container'; c: ContainerSummary }
  | { t: 'preview'; c: ContainerSummary; inspection: ContainerInspection }
  | { t: 'message'; text: string; tooltip: string; icon: string };

export type ExtNode = Extract<ImagesNode, { kind: 'ext' }> & { data: ContainerData };

/** A container read into an archive the explorer opened. */
export interface ReadContainer {
  inspection: ContainerInspection;
  opened: OpenedArchive;
}

export class ContainersGroup implements TreeExtension {
  private readonly changed = new vscode.EventEmitter<ImagesNode | undefined>();
  readonly onDidChange = this.changed.event;
  readonly root: ExtNode = { kind: 'ext', ext: this, data: { t: 'group' } };
  private listing: Promise<ContainersListResult> | null = null;
  private readonly read = new Map<string, Promise<ReadContainer>>();

  constructor(private readonly client: ContainerClient, private readonly images: ImageService) {
    // Layer statuses of container archives change while the explorer reads them.
    images.onDidChange(() => { if (this.read.size) this.changed.fire(this.root); });
  }

  roots(): ImagesNode[] {
    return [this.root];
  }

  refresh(): void {
    this.listing = null;
    this.read.clear();
  }

  node(data: ContainerData): ExtNode {
    return { kind: 'ext', ext: this, data };
  }

  /** Reads a container (once until refresh or `again`) and opens its archive in the explorer's service. */
  readContainer(c: ContainerSummary, again = false): Promise<ReadContainer> {
    let p = again ? undefined : this.read.get(c.id);
    if (!p) {
      p = (async () => {
        const inspection = await this.client.inspect(c.id, c.name);
        const opened = await this.images.open({ path: inspection.archivePath });
        return { inspection, opened };
      })();
      this.read.set(c.id, p);
      p.catch(() => this.read.delete(c.id));
      if (again) this.changed.fire(this.root);
    }
    return p;
  }

  async containers(): Promise<ContainersListResult> {
    this.listing ??= this.client.list().catch((e) => ({ connected: false, error: errorMessage(e), containers: [] }));
    return this.listing;
  }

  getTreeItem(n: Extract<ImagesNode, { kind: 'ext' }>): vscode.TreeItem {
    const d = n.data as ContainerData;
    switch (d.t) {
      case 'group':
        return treeItem('Containers', { collapsible: vscode.TreeItemCollapsibleState.Expanded, icon: 'vm', contextValue: 'group-containers', id: 'group:containers' });
      case 'container': {
        const c = d.c;
        return treeItem(c.name, {
          collapsible: vscode.TreeItemCollapsibleState.Collapsed,
          description: `${c.image} · ${c.state}`,
          tooltip: `${c.name} (${c.id.slice(0, 12)})\nimage ${c.image} (${c.imageId.slice(0, 19)})\n${c.status}\n\nExpand to read its writable layer (docker diff + docker export).`,
          icon: c.state === 'running' ? 'vm-running' : c.state === 'paused' ? 'debug-pause' : 'vm-outline',
          contextValue: `container-${c.state}`,
          id: `container:${c.id}`,
        });
      }
      case 'preview': {
        const p = d.inspection.preview;
        return treeItem('Commit preview', {
          description: `+${formatSize(p.layerSize)} · ${p.added} added, ${p.modified} modified, ${p.deleted} deleted · wastes ${formatSize(p.wastedBytes)}`,
          tooltip: 'What `docker commit` would add as a new layer. Click for the details.',
          icon: 'git-commit',
          contextValue: 'containerPreview',
          command: { command: 'strata.containers.commitPreview', title: 'Commit Preview', arguments: [this.node({ t: 'container', c: d.c })] },
          id: `container-preview:${d.c.id}`,
        });
      }
      case 'message':
        return messageItem(d);
    }
  }

  async getChildren(n: Extract<ImagesNode, { kind: 'ext' }>): Promise<ImagesNode[]> {
    const d = n.data as ContainerData;
    if (d.t === 'group') {
      const r = await this.containers();
      if (!r.connected) return [this.node({ t: 'message', text: 'Not connected to a Docker engine', tooltip: r.error ?? 'The engine did not answer.', icon: 'debug-disconnect' })];
      if (r.containers.length === 0) return [this.node({ t: 'message', text: 'No containers', tooltip: 'Run a container, then press Refresh.', icon: 'info' })];
      return r.containers.map((c) => this.node({ t: 'container', c }));
    }
    if (d.t !== 'container') return [];
    try {
      const { inspection, opened } = await this.readContainer(d.c);
      const img = opened.archive?.images[0];
      const layers: ImagesNode[] = (img?.layers ?? []).map((layer) => ({ kind: 'layer', opened, image: 0, layer }));
      // Writable layer first: it is what this entry is about (the image's own layers follow, top down).
      return [this.node({ t: 'preview', c: d.c, inspection }), ...layers.reverse()];
    } catch (e) {
      return [this.node({ t: 'message', text: `Cannot read ${d.c.name}: ${errorMessage(e)}`, tooltip: errorMessage(e), icon: 'error' })];
    }
  }

  getParent(n: Extract<ImagesNode, { kind: 'ext' }>): ImagesNode | undefined {
    const d = n.data as ContainerData;
    return d.t === 'group' ? undefined : d.t === 'preview' ? this.node({ t: 'container', c: d.c }) : this.root;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
