/**
 * The language-server side of the Containers group: list, inspect (archive for the layer explorer), commit,
 * save, load. Container archives live in one temp folder per server process, one per container (re-inspecting
 * replaces it), and are deleted when the server exits.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ResponseError, type CancellationToken, type Connection } from 'vscode-languageserver';
import { DockerClient } from '../docker/dockerClient';
import { DockerError } from '../docker/dockerError';
import type { OpenImage } from '../image/imageModel';
import type { FeatureGuard } from '../lsp/featureGuard';
import {
  ContainerCommitRequest, ContainerInspectRequest, ContainersListRequest, ImageLoadRequest, ImageSaveRequest,
  TransferProgressNotification, type ContainersListResult,
} from '../protocol/lspMessages';
import { DockerContainerEngine, type ContainerEngine } from './containerEngine';
import { inspectContainer } from './containerInspector';
import { loadArchive, saveImageToFile } from './imageTransfer';

const WORK_PREFIX = 'strata-containers-';
const STALE_DIR = new RegExp(`^${WORK_PREFIX}(\\d+)-`);

/**
 * Folders of servers that died without running their exit handler (killed): named after their pid, removed when
 * that process no longer exists.
 */
async function removeStaleWorkDirs(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const n of names) {
    const pid = Number(STALE_DIR.exec(n)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') await rm(path.join(tmpdir(), n), { recursive: true, force: true });
    }
  }
}

/** Progress notifications at most this often per request (bytes arrive per 64 KiB chunk). */
const PROGRESS_INTERVAL_MS = 200;

export class ContainerService {
  private workDir: Promise<string> | null = null;
  private workDirPath: string | null = null;
  /** Container id → folder of its latest archive. */
  private readonly archives = new Map<string, string>();

  constructor(private readonly engineFor: (dockerPath: string | undefined) => ContainerEngine, private readonly openImage: OpenImage) {}

  async list(dockerPath?: string, signal?: AbortSignal): Promise<ContainersListResult> {
    try {
      return { connected: true, error: null, containers: await this.engineFor(dockerPath).list(signal) };
    } catch (e) {
      if (e instanceof DockerError && (e.kind === 'engine-unreachable' || e.kind === 'binary-missing')) return { connected: false, error: e.message, containers: [] };
      throw e;
    }
  }

  async inspect(ref: string, dockerPath: string | undefined, signal: AbortSignal, progress: (phase: string, bytes: number, total: number) => void) {
    this.workDir ??= removeStaleWorkDirs().then(() => mkdtemp(path.join(tmpdir(), `${WORK_PREFIX}${process.pid}-`))).then((d) => (this.workDirPath = d));
    const opened = await inspectContainer(this.engineFor(dockerPath), ref, this.openImage, {
      signal, workDir: await this.workDir,
      onProgress: (p) => progress(p.phase, 'bytes' in p ? p.bytes : 0, 'totalBytes' in p ? p.totalBytes : 0),
    });
    // The reader here only served the preview: the explorer opens the archive itself. Keep the file, drop the reader.
    await opened.image.close();
    const id = opened.inspection.container.id;
    const previous = this.archives.get(id);
    this.archives.set(id, path.dirname(opened.inspection.archivePath));
    // An explorer still showing the previous archive keeps its open file handle: deleting the file is safe.
    if (previous) await rm(previous, { recursive: true, force: true });
    return opened.inspection;
  }

  async commit(ref: string, repoTag: string, dockerPath?: string): Promise<{ imageId: string; repoTag: string }> {
    // docker validates the reference itself (and says why); we only refuse the obviously empty.
    if (!repoTag.trim()) throw new ResponseError(2, 'give a repository[:tag] for the new image');
    const imageId = await this.engineFor(dockerPath).commit(ref, repoTag.trim());
    return { imageId, repoTag };
  }

  save(ref: string, file: string, gzip: boolean, dockerPath: string | undefined, signal: AbortSignal, progress: (phase: string, bytes: number, total: number) => void) {
    return saveImageToFile(this.engineFor(dockerPath), [ref], file, { gzip, signal, onProgress: (b, t) => progress('save', b, t) });
  }

  load(file: string, dockerPath: string | undefined, signal: AbortSignal, progress: (phase: string, bytes: number, total: number) => void) {
    return loadArchive(this.engineFor(dockerPath), file, { signal, onProgress: (b, t) => progress('load', b, t) });
  }

  /** Deletes every container archive (server shutdown). Synchronous: runs from process 'exit'. */
  disposeSync(): void {
    if (this.workDirPath) rmSync(this.workDirPath, { recursive: true, force: true });
  }
}

export function registerContainerRequests(c: Connection, guard: FeatureGuard, openImage: OpenImage): ContainerService {
  const service = new ContainerService((dockerPath) => new DockerContainerEngine(new DockerClient({ dockerPath })), openImage);
  process.once('exit', () => service.disposeSync());
  const abortOn = (token: CancellationToken): AbortSignal => {
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    return ac.signal;
  };
  const progressFor = (token: string | undefined) => {
    let last = 0;
    return (phase: string, bytes: number, totalBytes: number) => {
      const now = Date.now();
      if (!token || now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      void c.sendNotification(TransferProgressNotification, { token, phase, bytes, totalBytes });
    };
  };
  // Docker's classified messages are what users must see; anything else is logged once by the guard.
  const fail = (feature: string, e: unknown): never => {
    if (e instanceof ResponseError) throw e;
    if (e instanceof DockerError) throw new ResponseError(e.kind === 'aborted' ? -32800 : 5, e.message);
    guard.record(feature, e);
    throw new ResponseError(6, e instanceof Error ? e.message : String(e));
  };
  c.onRequest(ContainersListRequest, (p, token) => service.list(p.dockerPath, abortOn(token)).catch((e) => fail('containersList', e)));
  c.onRequest(ContainerInspectRequest, (p, token) => service.inspect(p.ref, p.dockerPath, abortOn(token), progressFor(p.progressToken)).catch((e) => fail('containerInspect', e)));
  c.onRequest(ContainerCommitRequest, (p) => service.commit(p.ref, p.repoTag, p.dockerPath).catch((e) => fail('containerCommit', e)));
  c.onRequest(ImageSaveRequest, (p, token) => service.save(p.ref, p.file, p.gzip, p.dockerPath, abortOn(token), progressFor(p.progressToken)).catch((e) => fail('imageSave', e)));
  c.onRequest(ImageLoadRequest, (p, token) => service.load(p.file, p.dockerPath, abortOn(token), progressFor(p.progressToken)).catch((e) => fail('imageLoad', e)));
  return service;
}
