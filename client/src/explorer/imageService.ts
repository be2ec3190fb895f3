/**
 * The extension host's view of opened images: a handle per archive, its layer list as the language server reports
 * it, and thin request wrappers. No archive byte is read here — the server reads, the host relays (so the extension
 * host thread never blocks on decompression).
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { ArchiveInfo, DirectoryPage, ImageSummary } from '../../../server/src/image/imageModel';
import {
  DEFAULT_REQUEST_TIMEOUT_MS, EngineImagesRequest, ImageCloseRequest, ImageListRequest, ImageOpenRequest,
  ImageProgressNotification, ImageReadFileRequest, ImageSummaryRequest, type EngineImagesResult, type ImageListParams,
  type ImageProgressParams, type ImageReadFileParams,
} from '../../../server/src/protocol/lspMessages';
import type { FilePreview } from '../../../server/src/protocol/webviewMessages';
import type { StrataLanguageClient } from '../strataLanguageClient';

export type OpenedStatus = 'saving' | 'reading' | 'done' | 'failed' | 'cancelled';

export interface OpenedArchive {
  handle: string;
  /** Archive path, or `docker:<ref>` for an engine image. */
  source: string;
  label: string;
  archive: ArchiveInfo | null;
  status: OpenedStatus;
  error: string | null;
  bytes: number;
  /** The language client the handle belongs to (a restarted server forgets handles). */
  client: LanguageClient | null;
}

export type OpenSource = { path: string } | { engineRef: string };

export function sourceKey(s: OpenSource): string {
  return 'path' in s ? s.path : `docker:${s.engineRef}`;
}

export function parseSourceKey(key: string): OpenSource {
  return key.startsWith('docker:') ? { engineRef: key.slice('docker:'.length) } : { path: key };
}

export class ImageService implements vscode.Disposable {
  private readonly opened = new Map<string, OpenedArchive>();
  private readonly opening = new Map<string, Promise<OpenedArchive>>();
  private readonly changed = new vscode.EventEmitter<OpenedArchive | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly listening = new WeakSet<LanguageClient>();
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly languageClient: StrataLanguageClient, private readonly log: vscode.LogOutputChannel) {}

  all(): OpenedArchive[] {
    return [...this.opened.values()];
  }

  byHandle(handle: string): OpenedArchive | undefined {
    return this.opened.get(handle);
  }

  private async client(): Promise<LanguageClient> {
    const c = await this.languageClient.get();
    if (!this.listening.has(c)) {
      this.listening.add(c);
      this.disposables.push(c.onNotification(ImageProgressNotification, (p) => this.onProgress(p)));
    }
    return c;
  }

  private onProgress(p: ImageProgressParams): void {
    const o = this.opened.get(p.handle);
    if (!o) return;
    if (p.archive) o.archive = p.archive;
    o.bytes = p.bytes;
    if (o.status !== 'cancelled') o.status = p.status;
    if (p.message && p.status === 'failed') o.error = p.message;
    this.changed.fire(o);
  }

  /** Opens an archive (once per source), with a cancellable progress notification until every layer is read. */
  open(source: OpenSource): Promise<OpenedArchive> {
    const key = sourceKey(source);
    const existing = this.all().find((o) => o.source === key && o.status !== 'failed' && o.status !== 'cancelled');
    if (existing) return Promise.resolve(existing);
    let p = this.opening.get(key);
    if (!p) {
      p = this.doOpen(source, key).finally(() => this.opening.delete(key));
      this.opening.set(key, p);
    }
    return p;
  }

  private async doOpen(source: OpenSource, key: string): Promise<OpenedArchive> {
    const client = await this.client();
    const handle = randomUUID();
    const label = 'path' in source ? path.basename(source.path) : source.engineRef;
    const o: OpenedArchive = { handle, source: key, label, archive: null, status: 'path' in source ? 'reading' : 'saving', error: null, bytes: 0, client };
    this.opened.set(handle, o);
    this.changed.fire(undefined);
    const tokenSource = new vscode.CancellationTokenSource();
    let settle: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => { settle = resolve; });
    // The progress notification lasts until every layer is read (or reading failed / was cancelled).
    const sub = this.onDidChange((c) => { if (c === o && o.status !== 'saving' && o.status !== 'reading') settle(); });
    void finished.then(() => sub.dispose());
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Strata: opening ${label}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => {
          tokenSource.cancel();
          o.status = 'cancelled';
          void this.close(handle, false);
          settle();
        });
        const tick = this.onDidChange((c) => {
          if (c !== o) return;
          const layers = o.archive?.images.flatMap((i) => i.layers) ?? [];
          const read = layers.filter((l) => l.status === 'read' || l.status === 'foreign').length;
          progress.report({ message: o.status === 'saving' ? `docker save: ${mb(o.bytes)}` : `${read}/${layers.length} layers read` });
        });
        await finished;
        tick.dispose();
      },
    );
    try {
      const params = { handle, ...source, dockerPath: vscode.workspace.getConfiguration('strata').get<string>('dockerPath') };
      const r = await client.sendRequest(ImageOpenRequest, params, tokenSource.token);
      o.archive = r.archive;
      if (o.status === 'saving') o.status = 'reading';
      this.changed.fire(o);
      return o;
    } catch (e) {
      o.status = o.status === 'cancelled' ? 'cancelled' : 'failed';
      o.error = errorMessage(e);
      this.opened.delete(handle);
      this.changed.fire(undefined);
      settle();
      throw new Error(o.status === 'cancelled' ? 'cancelled' : o.error);
    } finally {
      if (o.status === 'done' || o.status === 'failed') settle();
    }
  }

  /** Sends a request for an open handle, with the default timeout and optional cancellation. */
  private async request<P, R>(o: OpenedArchive, type: { method: string } & object, params: P, token?: vscode.CancellationToken): Promise<R> {
    const client = await this.client();
    if (o.client !== client) throw new Error('the language server restarted: reopen this image');
    const cts = new vscode.CancellationTokenSource();
    const sub = token?.onCancellationRequested(() => cts.cancel());
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        client.sendRequest(type as never, params, cts.token) as Promise<R>,
        new Promise<R>((_, reject) => {
          timer = setTimeout(() => {
            cts.cancel();
            reject(new Error(`${type.method} timed out after ${DEFAULT_REQUEST_TIMEOUT_MS / 1000} s`));
          }, DEFAULT_REQUEST_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      throw new Error(errorMessage(e));
    } finally {
      clearTimeout(timer);
      sub?.dispose();
      cts.dispose();
    }
  }

  list(o: OpenedArchive, params: Omit<ImageListParams, 'handle'>, token?: vscode.CancellationToken): Promise<DirectoryPage> {
    return this.request(o, ImageListRequest, { ...params, handle: o.handle }, token);
  }

  readFile(o: OpenedArchive, params: Omit<ImageReadFileParams, 'handle'>, token?: vscode.CancellationToken): Promise<FilePreview> {
    return this.request(o, ImageReadFileRequest, { ...params, handle: o.handle }, token);
  }

  summary(o: OpenedArchive, image: number, token?: vscode.CancellationToken): Promise<ImageSummary> {
    return this.request(o, ImageSummaryRequest, { handle: o.handle, image, topWasted: 50 }, token);
  }

  async engineImages(): Promise<EngineImagesResult> {
    const client = await this.client();
    return client.sendRequest(EngineImagesRequest, { dockerPath: vscode.workspace.getConfiguration('strata').get<string>('dockerPath') });
  }

  async close(handle: string, forget = true): Promise<void> {
    const o = this.opened.get(handle);
    if (forget) this.opened.delete(handle);
    this.changed.fire(undefined);
    if (o?.client) await o.client.sendRequest(ImageCloseRequest, { handle }).catch((e) => this.log.warn(`closing ${o.label}: ${errorMessage(e)}`));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
