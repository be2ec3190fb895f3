/**
 * Thin wrappers over the container requests (the language server runs docker and reads the layers), with a
 * cancellable progress notification fed by the server's progress notifications.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { ContainerInspection } from '../../../server/src/container/containerModel';
import type { LoadResult } from '../../../server/src/container/containerEngine';
import type { SaveResult } from '../../../server/src/container/imageTransfer';
import {
  ContainerCommitRequest, ContainerInspectRequest, ContainersListRequest, ImageLoadRequest, ImageSaveRequest,
  TransferProgressNotification, type ContainersListResult, type TransferProgressParams,
} from '../../../server/src/protocol/lspMessages';
import type { StrataLanguageClient } from '../strataLanguageClient';
import { formatSize } from '../../../webview/src/format';

const PHASES: Record<string, string> = { diff: 'docker diff', 'save-image': 'docker save', export: 'reading the writable layer', 'read-layers': 'reading layers', save: 'docker save', load: 'docker load' };

export class ContainerClient {
  private readonly listening = new WeakSet<LanguageClient>();
  private readonly progress = new Map<string, (p: TransferProgressParams) => void>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly languageClient: StrataLanguageClient) {}

  private async client(): Promise<LanguageClient> {
    const c = await this.languageClient.get();
    if (!this.listening.has(c)) {
      this.listening.add(c);
      this.disposables.push(c.onNotification(TransferProgressNotification, (p) => this.progress.get(p.token)?.(p)));
    }
    return c;
  }

  private dockerPath(): string | undefined {
    return vscode.workspace.getConfiguration('strata').get<string>('dockerPath');
  }

  async list(): Promise<ContainersListResult> {
    return (await this.client()).sendRequest(ContainersListRequest, { dockerPath: this.dockerPath() });
  }

  /** Runs `send` under a cancellable notification showing the server's progress for it. */
  private async withProgress<R>(title: string, send: (c: LanguageClient, token: string, cancel: vscode.CancellationToken) => Promise<R>): Promise<R> {
    const c = await this.client();
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Strata: ${title}`, cancellable: true }, async (report, cancel) => {
      const token = randomUUID();
      let shown = 0;
      this.progress.set(token, (p) => {
        const pct = p.totalBytes > 0 ? Math.min(100, (p.bytes / p.totalBytes) * 100) : 0;
        report.report({ message: `${PHASES[p.phase] ?? p.phase}: ${formatSize(p.bytes)}${p.totalBytes ? ` of ~${formatSize(p.totalBytes)}` : ''}`, increment: Math.max(0, pct - shown) });
        shown = Math.max(shown, pct);
      });
      try {
        return await send(c, token, cancel);
      } catch (e) {
        throw new Error(cancel.isCancellationRequested ? 'cancelled' : e instanceof Error ? e.message : String(e));
      } finally {
        this.progress.delete(token);
      }
    });
  }

  inspect(ref: string, label: string): Promise<ContainerInspection> {
    return this.withProgress(`reading container ${label}`, (c, progressToken, cancel) =>
      c.sendRequest(ContainerInspectRequest, { ref, dockerPath: this.dockerPath(), progressToken }, cancel));
  }

  async commit(ref: string, repoTag: string): Promise<{ imageId: string; repoTag: string }> {
    return (await this.client()).sendRequest(ContainerCommitRequest, { ref, repoTag, dockerPath: this.dockerPath() });
  }

  save(ref: string, file: string, gzip: boolean): Promise<SaveResult> {
    return this.withProgress(`saving ${ref}`, (c, progressToken, cancel) =>
      c.sendRequest(ImageSaveRequest, { ref, file, gzip, dockerPath: this.dockerPath(), progressToken }, cancel));
  }

  load(file: string, label: string): Promise<LoadResult> {
    return this.withProgress(`loading ${label} into Docker`, (c, progressToken, cancel) =>
      c.sendRequest(ImageLoadRequest, { file, dockerPath: this.dockerPath(), progressToken }, cancel));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
