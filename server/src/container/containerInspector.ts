/**
 * Reads a container as an image with one more layer: `docker save` of its image, then its writable layer (from
 * `docker diff` + a streamed `docker container export`) appended as the top layer of that archive, then the image
 * reader over the result. Everything the reader offers (kinds against the merged lower tree, merged view, wasted
 * bytes, the layer explorer) therefore works on the writable layer unchanged.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { DockerError } from '../docker/dockerError';
import type { ImageReaderLimits, OpenedImage, OpenImage } from '../image/imageModel';
import { appendLayerToArchive } from './archiveAppend';
import { commitPreview, writableChanges } from './commitPreview';
import type { ContainerEngine } from './containerEngine';
import type { ContainerInspection, ContainerProgress, ContainerSummary } from './containerModel';
import { streamToFile } from './streamToFile';
import { writeWritableLayer } from './writableLayerWriter';

export interface InspectContainerOptions {
  signal?: AbortSignal;
  onProgress?: (p: ContainerProgress) => void;
  /** Parent folder for the archive (default: the OS temp dir). The caller owns the returned files. */
  workDir?: string;
  limits?: Partial<ImageReaderLimits>;
}

export interface OpenedContainer {
  inspection: ContainerInspection;
  image: OpenedImage;
  /** Closes the reader and deletes the archive. */
  dispose(): Promise<void>;
}

export const WRITABLE_CREATED_BY = 'strata: writable layer of container';

export async function inspectContainer(engine: ContainerEngine, ref: string, openImage: OpenImage, opts: InspectContainerOptions = {}): Promise<OpenedContainer> {
  const { signal } = opts;
  const container = await engine.inspect(ref, signal);
  const dir = await fsp.mkdtemp(path.join(opts.workDir ?? tmpdir(), 'strata-container-'));
  let image: OpenedImage | null = null;
  try {
    opts.onProgress?.({ phase: 'diff' });
    const changes = await engine.diff(container.id, signal).catch((e: unknown) => rethrowIfGone(engine, container, e));
    const { tags, size: imageSize } = await engine.imageTags(container.imageId, signal);
    const archive = path.join(dir, 'container.tar');

    const saved = engine.saveStream([container.imageId], signal);
    let savedBytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _e, cb) {
        savedBytes += chunk.length;
        opts.onProgress?.({ phase: 'save-image', bytes: savedBytes, totalBytes: imageSize });
        cb(null, chunk);
      },
    });
    await streamToFile(saved, [count], archive, signal);

    const layerFile = path.join(dir, 'writable.tar');
    const exported = engine.exportStream(container.id, signal);
    let written;
    try {
      [written] = await Promise.all([
        writeWritableLayer(exported.stream, changes, layerFile, {
          signal, onBytes: (bytes) => opts.onProgress?.({ phase: 'export', bytes, totalBytes: imageSize }),
        }),
        exported.exited,
      ]);
    } catch (e) {
      exported.stream.destroy();
      await exported.exited.catch(() => undefined);
      if (signal?.aborted) throw new DockerError('aborted', 'cancelled');
      return await rethrowIfGone(engine, container, await exported.exited.then(() => e, (de: unknown) => de));
    }
    const repoTags = tags.includes(container.image) ? [container.image, ...tags.filter((t) => t !== container.image)] : tags;
    await appendLayerToArchive(archive, {
      layerFile, diffId: written.diffId, repoTags,
      createdBy: `${WRITABLE_CREATED_BY} ${container.name} (${container.id.slice(0, 12)})`,
      comment: 'not committed: what `docker commit` would add',
    });
    await fsp.rm(layerFile, { force: true });

    opts.onProgress?.({ phase: 'read-layers' });
    image = await openImage(archive, { ...(signal ? { signal } : {}), ...(opts.limits ? { limits: opts.limits } : {}) });
    await image.done;
    const info = image.info.images[0]!;
    const failed = info.layers.find((l) => l.status === 'failed');
    if (failed) throw new DockerError('command-failed', `layer ${failed.index} of ${container.name}'s image could not be read: ${failed.error}`);
    const writableIndex = info.layers.length - 1;
    const list = await writableChanges(image, 0, writableIndex, signal);
    const inspection: ContainerInspection = {
      container, archivePath: archive, writableIndex, changes: list,
      preview: commitPreview(image, 0, writableIndex, list),
      warnings: written.missing.map((p) => `${p}: listed by docker diff but gone from the export (changed while reading)`),
    };
    const opened = image;
    return {
      inspection, image: opened,
      dispose: async () => {
        await opened.close();
        await fsp.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await image?.close().catch(() => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
    if (signal?.aborted) throw new DockerError('aborted', 'cancelled');
    throw e;
  }
}

/** A failure while reading a container that has since disappeared gets a message saying so. */
async function rethrowIfGone(engine: ContainerEngine, c: ContainerSummary, e: unknown): Promise<never> {
  if (e instanceof DockerError && (e.kind === 'engine-unreachable' || e.kind === 'aborted' || e.kind === 'binary-missing')) throw e;
  let gone = false;
  try {
    await engine.inspect(c.id);
  } catch (ie) {
    if (ie instanceof DockerError && ie.kind === 'engine-unreachable') throw ie;
    gone = ie instanceof DockerError && ie.kind === 'not-found';
  }
  if (gone) throw new DockerError('not-found', `container ${c.name} (${c.id.slice(0, 12)}) was removed while Strata was reading it`);
  if (e instanceof DockerError) throw e;
  throw new DockerError('command-failed', `reading container ${c.name}: ${(e as Error)?.message ?? String(e)}`);
}
