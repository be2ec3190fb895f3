/**
 * Writes a docker output stream to a file through optional transforms, waiting for both the data and docker's exit
 * status. On failure the partial file is deleted and the most telling error wins: cancelled, then docker's own
 * classified error (engine gone, no such image/container), then the stream error.
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DockerError } from '../docker/dockerError';
import type { DockerStream } from './containerEngine';

export async function streamToFile(ds: DockerStream, stages: Duplex[], file: string, signal?: AbortSignal): Promise<void> {
  try {
    await Promise.all([pipeline([ds.stream, ...stages, createWriteStream(file)], signal ? { signal } : {}), ds.exited]);
  } catch (e) {
    ds.stream.destroy();
    await fsp.rm(file, { force: true });
    if (signal?.aborted) throw new DockerError('aborted', 'cancelled');
    throw await ds.exited.then(() => e, (de: unknown) => de);
  }
}
