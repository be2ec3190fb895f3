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
  const piped = pipeline([ds.stream, ...stages, createWriteStream(file)], signal ? { signal } : {});
  try {
    await Promise.all([piped, ds.exited]);
  } catch (e) {
    ds.stream.destroy();
    // docker may fail before the write stream has even opened the file: wait until the pipeline has settled (the file
    // created and closed, if it got that far), or the removal below could run first and leave a partial file behind.
    await piped.catch(() => undefined);
    await fsp.rm(file, { force: true });
    if (signal?.aborted) throw new DockerError('aborted', 'cancelled');
    throw await ds.exited.then(() => e, (de: unknown) => de);
  }
}
