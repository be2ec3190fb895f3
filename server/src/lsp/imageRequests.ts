/**
 * The language-server side of the layer explorer: opened archives live here (never in the extension host), and the
 * client asks for one directory page, one small file or the summary at a time.
 *
 * `ImageSessions` is plain logic over the reader's `OpenedImage` (tests drive it directly, the Chromium tests use it
 * as the stub host's backend); `registerImageRequests` wires it to the LSP connection.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { ResponseError, type CancellationToken, type Connection } from 'vscode-languageserver';
import type { DirectoryEntry, DirectoryPage, ImageSummary, OpenedImage, OpenImage, OpenOptions } from '../image/imageModel';
import { layerLabel } from '../image/layerReader';
import {
  EngineImagesRequest, ImageCloseRequest, ImageListRequest, ImageOpenRequest, ImageProgressNotification,
  ImageReadFileRequest, ImageSummaryRequest, type EngineImagesResult, type ImageListParams, type ImageOpenParams,
  type ImageOpenResult, type ImageProgressParams, type ImageReadFileParams, type ImageSummaryParams,
} from '../protocol/lspMessages';
import { MAX_PAGE, PREVIEW_MAX_BYTES, type FilePreview } from '../protocol/webviewMessages';
import type { FeatureGuard } from './featureGuard';

/** What the engine side needs: `docker image ls` + `docker save` (DockerClient implements it). */
export interface EngineAccess {
  listImages(signal?: AbortSignal): Promise<import('../docker/dockerClient').EngineImage[]>;
  saveImage(refs: string[], signal?: AbortSignal): Readable;
}

interface Session {
  opened: OpenedImage | null;
  abort: AbortController;
  done: boolean;
  tempDir: string | null;
  /** Full filtered+sorted listings of directories (only once reading is done: the tree no longer changes). */
  listings: Map<string, DirectoryEntry[]>;
  /** Paths kept by a glob/kind filter (matches and their ancestors), per filter. */
  kept: Map<string, Set<string> | null>;
}

const LISTING_CACHE = 64;
/** Directories visited when computing a glob/kind filter before giving up (the filter then shows everything). */
const WALK_LIMIT = 2_000_000;

export class ImageSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly openImage: OpenImage,
    private readonly engine: (dockerPath: string | undefined) => EngineAccess,
  ) {}

  /** Opens `params.path` (or saves `params.engineRef` to a temp file first); progress goes to `notify`. */
  async open(params: ImageOpenParams, notify: (p: ImageProgressParams) => void, signal?: AbortSignal): Promise<ImageOpenResult> {
    if (this.sessions.has(params.handle)) throw new ResponseError(1, `image handle ${params.handle} is already open`);
    const session: Session = { opened: null, abort: new AbortController(), done: false, tempDir: null, listings: new Map(), kept: new Map() };
    this.sessions.set(params.handle, session);
    const onAbort = () => session.abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let file = params.path;
      if (!file && params.engineRef) {
        session.tempDir = await mkdtemp(path.join(tmpdir(), 'strata-save-'));
        file = path.join(session.tempDir, 'image.tar');
        await this.saveToFile(params, file, session.abort.signal, notify);
      }
      if (!file) throw new ResponseError(2, 'nothing to open: give a path or an engine image');
      let bytes = 0;
      let lastBytes = 0;
      const options: OpenOptions = {
        signal: session.abort.signal,
        ...(params.platform ? { platform: params.platform } : {}),
        onProgress: (e) => {
          const opened = session.opened;
          switch (e.type) {
            case 'layer-progress':
              bytes += e.bytesRead;
              // Progress bytes arrive per chunk: tell the client at most every 8 MiB.
              if (opened && bytes - lastBytes > 8 * 1024 * 1024) {
                lastBytes = bytes;
                notify({ handle: params.handle, status: 'reading', archive: null, bytes, message: null });
              }
              break;
            case 'layer-done':
            case 'layer-failed':
              if (opened) notify({ handle: params.handle, status: 'reading', archive: opened.info, bytes, message: e.type === 'layer-failed' ? e.message : null });
              break;
            case 'layer-verified':
              // Verification runs on after the trees are read: the explorer shows each layer's state as it settles.
              if (opened) {
                const message = e.info.verification === 'verified' ? null : `${layerLabel(e.info, e.layer)}: ${e.info.error ?? e.info.verification}`;
                notify({ handle: params.handle, status: session.done ? 'done' : 'reading', archive: opened.info, bytes, message });
              }
              break;
            default:
          }
        },
      };
      const opened = await this.openImage(file, options);
      session.opened = opened;
      // 'done' once every tree is read (the explorer is fully usable); digests may still be being verified, and
      // each layer's verification state follows in later 'done' notifications ('layer-verified' above).
      opened.treesReady.then(
        () => {
          session.done = true;
          session.listings.clear();
          session.kept.clear();
          notify({ handle: params.handle, status: 'done', archive: opened.info, bytes, message: null });
        },
        () => undefined, // reported through `done` below
      );
      opened.done.then(
        () => undefined,
        (e: unknown) => notify({ handle: params.handle, status: 'failed', archive: opened.info, bytes, message: errorText(e) }),
      );
      return { archive: opened.info };
    } catch (e) {
      await this.close(params.handle);
      if (e instanceof ResponseError) throw e;
      throw new ResponseError(3, session.abort.signal.aborted ? 'cancelled' : errorText(e));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async saveToFile(params: ImageOpenParams, file: string, signal: AbortSignal, notify: (p: ImageProgressParams) => void): Promise<void> {
    const stream = this.engine(params.dockerPath).saveImage([params.engineRef!], signal);
    let bytes = 0;
    let last = 0;
    stream.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes - last > 4 * 1024 * 1024) {
        last = bytes;
        notify({ handle: params.handle, status: 'saving', archive: null, bytes, message: null });
      }
    });
    await pipeline(stream, createWriteStream(file), { signal });
  }

  private session(handle: string): Session & { opened: OpenedImage } {
    const s = this.sessions.get(handle);
    if (!s?.opened) throw new ResponseError(4, 'this image is no longer open (reopen it)');
    return s as Session & { opened: OpenedImage };
  }

  /** One page of one directory, filtered and sorted; glob/kind/min-size filters are applied here. */
  list(p: ImageListParams): DirectoryPage {
    const s = this.session(p.handle);
    const limit = Math.min(Math.max(1, p.limit), MAX_PAGE);
    const glob = isGlob(p.filter) ? globMatcher(p.filter) : null;
    const allKinds = p.kinds.length === 0 || p.kinds.length === 5;
    if (!glob && allKinds && p.minSize <= 0 && !s.done) {
      // Still reading: the tree changes under us, so no caching; the reader pages itself.
      return s.opened.listDirectory(p.image, p.layer, p.mode, p.dir, baseOptions(p, glob !== null, { offset: p.offset, limit }));
    }
    const key = JSON.stringify([p.image, p.layer, p.mode, p.rangeStart, p.dir, p.filter, p.kinds, p.wastedOnly, p.minSize, p.sort, p.descending]);
    let rows = s.listings.get(key);
    if (!rows) {
      rows = s.opened.listDirectory(p.image, p.layer, p.mode, p.dir, baseOptions(p, glob !== null, { offset: 0, limit: Number.MAX_SAFE_INTEGER })).entries;
      const kept = glob || !allKinds ? this.keptPaths(s, p, glob) : null;
      if (kept) rows = rows.filter((e) => kept.has(e.path));
      if (p.minSize > 0) rows = rows.filter((e) => e.size >= p.minSize);
      if (s.done) {
        if (s.listings.size >= LISTING_CACHE) s.listings.delete(s.listings.keys().next().value!);
        s.listings.set(key, rows);
      }
    }
    return { dir: p.dir, total: rows.length, offset: p.offset, entries: rows.slice(p.offset, p.offset + limit) };
  }

  /** Paths that match a glob and/or kinds filter, plus their ancestors (so the tree can reach them). */
  private keptPaths(s: Session & { opened: OpenedImage }, p: ImageListParams, glob: ((path: string, name: string) => boolean) | null): Set<string> | null {
    const key = JSON.stringify([p.image, p.layer, p.mode, p.rangeStart, p.filter, p.kinds, p.wastedOnly]);
    if (s.kept.has(key)) return s.kept.get(key)!;
    const kinds = p.kinds.length === 0 ? null : new Set(p.kinds);
    const kept = new Set<string>();
    let visited = 0;
    const walk = (dir: string): boolean => {
      const page = s.opened.listDirectory(p.image, p.layer, p.mode, dir, baseOptions(p, true, { offset: 0, limit: Number.MAX_SAFE_INTEGER }));
      let any = false;
      for (const e of page.entries) {
        if (++visited > WALK_LIMIT) throw new RangeError('too many entries');
        let keep = (!kinds || kinds.has(e.kind)) && (!glob || glob(e.path, e.name));
        if (e.type === 'dir' && e.childCount > 0 && walk(e.path)) keep = true;
        if (keep) {
          kept.add(e.path);
          any = true;
        }
      }
      return any;
    };
    let result: Set<string> | null = kept;
    try {
      walk('');
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      result = null;
    }
    if (s.done) s.kept.set(key, result);
    return result;
  }

  /** A small regular file, decoded as text when it looks like text. */
  async readFile(p: ImageReadFileParams, signal?: AbortSignal): Promise<FilePreview> {
    const s = this.session(p.handle);
    const max = Math.min(Math.max(0, p.maxBytes), PREVIEW_MAX_BYTES);
    try {
      const c = await s.opened.readFile(p.image, p.layer, p.path, { maxBytes: max, mode: p.mode, ...(signal ? { signal } : {}) });
      return { path: c.path, layerIndex: c.layerIndex, size: c.size, truncated: c.truncated, text: decodeText(c.bytes) };
    } catch (e) {
      throw new ResponseError(5, errorText(e));
    }
  }

  summary(p: ImageSummaryParams): ImageSummary {
    return this.session(p.handle).opened.summary(p.image, { topWasted: Math.min(Math.max(0, p.topWasted), 200) });
  }

  async close(handle: string): Promise<void> {
    const s = this.sessions.get(handle);
    if (!s) return;
    this.sessions.delete(handle);
    s.abort.abort();
    await s.opened?.close().catch(() => undefined);
    if (s.tempDir) await rm(s.tempDir, { recursive: true, force: true }).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((h) => this.close(h)));
  }

  async engineImages(dockerPath: string | undefined, signal?: AbortSignal): Promise<EngineImagesResult> {
    try {
      return { connected: true, error: null, images: await this.engine(dockerPath).listImages(signal) };
    } catch (e) {
      return { connected: false, error: errorText(e), images: [] };
    }
  }
}

function baseOptions(p: ImageListParams, skipText: boolean, page: { offset: number; limit: number }) {
  return {
    ...page,
    sort: p.sort,
    descending: p.descending,
    ...(skipText || !p.filter ? {} : { filter: p.filter }),
    ...(p.wastedOnly ? { wastedOnly: true } : {}),
    ...(p.mode === 'range' ? { rangeStart: p.rangeStart } : {}),
  };
}

export function isGlob(filter: string): boolean {
  return /[*?[]/.test(filter);
}

/**
 * Case-insensitive glob: `*` within one path segment, `**` across segments, `?` one character, `[abc]` a class.
 * A pattern without `/` matches the entry name (like .gitignore), else the whole path.
 */
export function globMatcher(glob: string): (path: string, name: string) => boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  const anchored = glob.replace(/^\//, '');
  let regex: RegExp;
  try {
    regex = new RegExp(`^${anchored === glob ? re : re.replace(/^\\?\//, '')}$`, 'i');
  } catch {
    return () => false;
  }
  const byName = !glob.includes('/');
  return (p, name) => regex.test(byName ? name : p);
}

/** UTF-8 text, or null for binary content (NUL bytes or invalid UTF-8; a sequence cut by truncation is fine). */
export function decodeText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return null;
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Hooks the image requests into the LSP connection (called once from StrataServer.listen). */
export function registerImageRequests(c: Connection, guard: FeatureGuard, sessions: ImageSessions): void {
  const abortOn = (token: CancellationToken): AbortSignal => {
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    return ac.signal;
  };
  // Errors users must see (bad archive, missing file) travel as ResponseError; anything else is logged once.
  const fail = (feature: string, e: unknown): never => {
    if (e instanceof ResponseError) throw e;
    guard.record(feature, e);
    throw new ResponseError(6, errorText(e));
  };
  c.onRequest(ImageOpenRequest, (p, token) => sessions.open(p, (n) => void c.sendNotification(ImageProgressNotification, n), abortOn(token)).catch((e) => fail('imageOpen', e)));
  c.onRequest(ImageListRequest, (p) => {
    try {
      return sessions.list(p);
    } catch (e) {
      return fail('imageList', e);
    }
  });
  c.onRequest(ImageReadFileRequest, (p, token) => sessions.readFile(p, abortOn(token)).catch((e) => fail('imageReadFile', e)));
  c.onRequest(ImageSummaryRequest, (p) => {
    try {
      return sessions.summary(p);
    } catch (e) {
      return fail('imageSummary', e);
    }
  });
  c.onRequest(ImageCloseRequest, (p) => sessions.close(p.handle));
  c.onRequest(EngineImagesRequest, (p, token) => guard.runAsync('engineImages', { connected: false, error: 'internal error (see the Strata log)', images: [] },
    () => sessions.engineImages(p.dockerPath, abortOn(token))));
}
