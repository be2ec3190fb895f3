/**
 * Composition of the container features on the extension-host side: the Containers group in `strata.images`
 * and the commands "Open Writable Layer", "Commit Preview", "Commit…", "Save Image…", "Load Archive into Docker".
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ContainerInspection, ContainerSummary } from '../../../server/src/container/containerModel';
import type { ExplorerApi } from '../explorer/registerExplorer';
import type { ImagesNode } from '../explorer/imagesTreeProvider';
import { errorMessage } from '../explorer/imageService';
import type { StrataLanguageClient } from '../strataLanguageClient';
import { formatSize } from '../../../webview/src/format';
import { ContainerClient } from './containerClient';
import { ContainersGroup, type ContainerData } from './containersGroup';

export interface ContainersApi {
  group: ContainersGroup;
  client: ContainerClient;
}

export function registerContainers(context: vscode.ExtensionContext, languageClient: StrataLanguageClient, explorer: ExplorerApi): ContainersApi {
  const client = new ContainerClient(languageClient);
  const group = new ContainersGroup(client, explorer.service);

  /** The container a command is about: its tree node, a name/id argument, or a pick. */
  async function containerOf(arg: unknown): Promise<ContainerSummary | undefined> {
    const data = (arg as { data?: ContainerData } | undefined)?.data;
    if (data && (data.t === 'container' || data.t === 'preview')) return data.c;
    const r = await group.containers();
    if (!r.connected) {
      void vscode.window.showErrorMessage(`Strata: no Docker engine: ${r.error ?? 'not reachable'}`);
      return undefined;
    }
    if (typeof arg === 'string') return r.containers.find((c) => c.name === arg || c.id.startsWith(arg)) ?? undefined;
    const pick = await vscode.window.showQuickPick(r.containers.map((c) => ({ label: c.name, description: `${c.image} · ${c.state}`, c })), { title: 'Which container?' });
    return pick?.c;
  }

  const fail = (what: string, e: unknown) => {
    if (errorMessage(e) !== 'cancelled') void vscode.window.showErrorMessage(`Strata: ${what}: ${errorMessage(e)}`);
  };

  context.subscriptions.push(
    client,
    group,
    explorer.tree.addExtension(group),
    vscode.commands.registerCommand('strata.containers.openWritableLayer', async (arg?: unknown) => {
      const c = await containerOf(arg);
      if (!c) return undefined;
      try {
        const { inspection, opened } = await group.readContainer(c, true);
        const layer = opened.archive?.images[0]?.layers[inspection.writableIndex];
        if (layer) await vscode.commands.executeCommand('strata.explorer.openLayer', { kind: 'layer', opened, image: 0, layer } satisfies ImagesNode);
        return opened.handle;
      } catch (e) {
        fail(`cannot read container ${c.name}`, e);
        return undefined;
      }
    }),
    vscode.commands.registerCommand('strata.containers.commitPreview', async (arg?: unknown) => {
      const c = await containerOf(arg);
      if (!c) return undefined;
      try {
        const { inspection } = await group.readContainer(c);
        const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: previewMarkdown(inspection) });
        await vscode.window.showTextDocument(doc, { preview: true });
        return inspection.preview;
      } catch (e) {
        fail(`cannot read container ${c.name}`, e);
        return undefined;
      }
    }),
    vscode.commands.registerCommand('strata.containers.commit', async (arg?: unknown, repoTagArg?: string) => {
      const c = await containerOf(arg);
      if (!c) return undefined;
      const repoTag = repoTagArg ?? await vscode.window.showInputBox({
        title: `Commit ${c.name} as a new image`, prompt: 'repository:tag for the new image (runs docker commit)',
        value: `${c.image.split(/[:@]/)[0] ?? c.name}:${c.name}`.toLowerCase(),
        validateInput: (v) => (v.trim() ? null : 'give a repository[:tag]'),
      });
      if (!repoTag) return undefined;
      try {
        const r = await client.commit(c.id, repoTag.trim());
        explorer.tree.refresh();
        void vscode.window.showInformationMessage(`Strata: committed ${c.name} as ${r.repoTag} (${r.imageId.slice(7, 19)})`);
        await vscode.commands.executeCommand('strata.openEngineImage', r.repoTag);
        return r;
      } catch (e) {
        fail(`docker commit ${c.name}`, e);
        return undefined;
      }
    }),
    vscode.commands.registerCommand('strata.saveImage', async (arg?: unknown, target?: vscode.Uri) => {
      const ref = await imageRefOf(arg);
      if (!ref) return undefined;
      const file = target ?? await vscode.window.showSaveDialog({
        title: `Save ${ref} (docker save)`, saveLabel: 'Save image',
        defaultUri: vscode.Uri.file(path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd(), `${ref.replace(/[^\w.-]+/g, '_')}.tar`)),
        filters: { 'Image archive': ['tar'], 'Gzipped image archive': ['tar.gz', 'tgz'] },
      });
      if (!file) return undefined;
      try {
        const r = await client.save(ref, file.fsPath, /\.(gz|tgz)$/i.test(file.fsPath));
        void vscode.window.showInformationMessage(`Strata: saved ${ref} to ${path.basename(r.file)} (${formatSize(r.fileBytes)})`);
        await vscode.commands.executeCommand('strata.openImage', file);
        return r;
      } catch (e) {
        fail(`cannot save ${ref}`, e);
        return undefined;
      }
    }),
    vscode.commands.registerCommand('strata.loadArchive', async (arg?: unknown) => {
      let file: string | undefined;
      if (arg instanceof vscode.Uri) file = arg.fsPath;
      else {
        const opened = (arg as { opened?: { source: string } } | undefined)?.opened;
        if (opened && !opened.source.startsWith('docker:')) file = opened.source;
      }
      if (!file) {
        const picked = await vscode.window.showOpenDialog({ title: 'Load image archive into Docker', canSelectMany: false, filters: { 'Image archives': ['tar', 'gz', 'tgz'], 'All files': ['*'] } });
        file = picked?.[0]?.fsPath;
      }
      if (!file) return undefined;
      try {
        const r = await client.load(file, path.basename(file));
        explorer.tree.refresh();
        const what = [...r.tags, ...r.ids.map((i) => i.slice(7, 19))].join(', ') || 'nothing (docker reported no image)';
        void vscode.window.showInformationMessage(`Strata: loaded ${what}`);
        return r;
      } catch (e) {
        fail(`cannot load ${path.basename(file)}`, e);
        return undefined;
      }
    }),
  );

  /** The engine image a save is about: an engine-image node, a container node (its image), a ref, or a pick. */
  async function imageRefOf(arg: unknown): Promise<string | undefined> {
    if (typeof arg === 'string') return arg;
    const n = arg as { kind?: string; ref?: string; data?: ContainerData } | undefined;
    if (n?.kind === 'engineImage' && n.ref) return n.ref;
    if (n?.data && (n.data.t === 'container' || n.data.t === 'preview')) return n.data.c.image;
    const r = await explorer.service.engineImages();
    if (!r.connected) {
      void vscode.window.showErrorMessage(`Strata: no Docker engine: ${r.error ?? 'not reachable'}`);
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(r.images.map((i) => ({ label: i.repoTags[0] ?? i.id.slice(0, 19), description: formatSize(i.size), ref: i.repoTags[0] ?? i.id })), { title: 'Save which image?' });
    return pick?.ref;
  }

  return { group, client };
}

export function previewMarkdown(ins: ContainerInspection): string {
  const p = ins.preview;
  const c = ins.container;
  const lines = [
    `# Commit preview: ${c.name}`, '',
    `Container \`${c.id.slice(0, 12)}\` (${c.state}) from image \`${c.image}\`.`, '',
    `\`docker commit\` would add **one layer of ${formatSize(p.layerSize)}** (${p.entryCount} tar entries, ${formatSize(p.tarSize)} uncompressed): ` +
      `${p.added} added, ${p.modified} modified (copied up), ${p.deleted} deleted.`, '',
    `It would **waste ${formatSize(p.wastedBytes)}**: bytes of lower layers that stay in the image but are no longer visible` +
      `${p.metadataOnlyBytes ? `, of which ${formatSize(p.metadataOnlyBytes)} are files copied up only to change metadata (chmod/chown/touch)` : ''}.`, '',
  ];
  if (p.topWasted.length) {
    lines.push('| wasted | path | from layer | why |', '|---:|---|---:|---|');
    for (const w of p.topWasted) lines.push(`| ${formatSize(w.size)} | \`${w.path}\` | ${w.from} | ${w.how} |`);
    lines.push('');
  }
  lines.push('## Changes', '', '| | path | type | size | copied up from |', '|---|---|---|---:|---|');
  for (const ch of ins.changes) {
    const mark = { added: 'A', modified: 'M', deleted: 'D', opaque: 'O' }[ch.kind];
    const from = ch.from !== undefined ? `layer ${ch.from} (was ${formatSize(ch.oldSize ?? 0)}${ch.metadataOnly ? ', same bytes' : ''})` : '';
    lines.push(`| ${mark} | \`${ch.path}\` | ${ch.type} | ${ch.type === 'file' ? formatSize(ch.size) : ''} | ${from} |`);
  }
  for (const w of ins.warnings) lines.push('', `> ⚠ ${w}`);
  return lines.join('\n') + '\n';
}
