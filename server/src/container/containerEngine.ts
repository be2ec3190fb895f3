/**
 * The docker commands the container features need, on top of the shared DockerClient (argument arrays only,
 * classified errors). A narrow interface so the logic above it can be tested with an in-memory fake.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { DockerClient } from '../docker/dockerClient';
import { DockerError } from '../docker/dockerError';
import type { ContainerState, ContainerSummary, EngineChange } from './containerModel';
import { parseDockerDiff } from './dockerDiff';

export interface ContainerEngine {
  list(signal?: AbortSignal): Promise<ContainerSummary[]>;
  inspect(ref: string, signal?: AbortSignal): Promise<ContainerSummary>;
  diff(id: string, signal?: AbortSignal): Promise<EngineChange[]>;
  /** `docker container export` as a stream; errors (container gone, engine gone) arrive as a DockerError on it. */
  exportStream(id: string, signal?: AbortSignal): DockerStream;
  saveStream(refs: string[], signal?: AbortSignal): DockerStream;
  imageTags(imageId: string, signal?: AbortSignal): Promise<{ tags: string[]; size: number }>;
  commit(id: string, ref: string | null, opts?: { pause?: boolean; message?: string; signal?: AbortSignal }): Promise<string>;
  load(file: string, opts?: { signal?: AbortSignal; onBytes?: (n: number) => void }): Promise<LoadResult>;
}

/** docker's stdout as a stream, and its exit: `exited` rejects with a classified DockerError on failure (a stream
 * can end cleanly before docker says the output was truncated, so callers must await both). */
export interface DockerStream {
  stream: Readable;
  exited: Promise<void>;
}

export interface LoadResult {
  /** `repo:tag` lines docker printed (`Loaded image: …`). */
  tags: string[];
  /** Image ids for untagged images (`Loaded image ID: sha256:…`). */
  ids: string[];
}

const MAX_STDERR = 64 * 1024;

export class DockerContainerEngine implements ContainerEngine {
  constructor(private readonly docker: DockerClient) {}

  async list(signal?: AbortSignal): Promise<ContainerSummary[]> {
    const ids = (await this.docker.check(['container', 'ls', '--all', '--quiet', '--no-trunc'], { signal })).split('\n').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) return [];
    // A container removed between ls and inspect makes inspect exit 1 but still print the others.
    const r = await this.docker.run(['container', 'inspect', '--', ...ids], { signal });
    const list = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>[]) : [];
    if (list.length === 0 && r.code !== 0) throw this.docker.classify(['container'], r.stderr, r.code);
    return list.map(toSummary);
  }

  async inspect(ref: string, signal?: AbortSignal): Promise<ContainerSummary> {
    let out: string;
    try {
      out = await this.docker.check(['container', 'inspect', '--', ref], { signal });
    } catch (e) {
      if (e instanceof DockerError && e.kind === 'not-found') throw new DockerError('not-found', `no such container: ${ref}`, e.stderr, e.exitCode);
      throw e;
    }
    const [one] = JSON.parse(out) as Record<string, unknown>[];
    if (!one) throw new DockerError('not-found', `no such container: ${ref}`);
    return toSummary(one);
  }

  async diff(id: string, signal?: AbortSignal): Promise<EngineChange[]> {
    return parseDockerDiff(await this.docker.check(['container', 'diff', id], { signal, maxStdout: 512 * 1024 * 1024 }));
  }

  exportStream(id: string, signal?: AbortSignal): DockerStream {
    return this.streamOut(['container', 'export', id], signal);
  }

  saveStream(refs: string[], signal?: AbortSignal): DockerStream {
    return this.streamOut(['image', 'save', '--', ...refs], signal);
  }

  async imageTags(imageId: string, signal?: AbortSignal): Promise<{ tags: string[]; size: number }> {
    const i = await this.docker.imageInspect(imageId, signal);
    return { tags: i.repoTags, size: i.size };
  }

  async commit(id: string, ref: string | null, opts: { pause?: boolean; message?: string; signal?: AbortSignal } = {}): Promise<string> {
    const args = ['container', 'commit', `--pause=${opts.pause !== false}`];
    if (opts.message) args.push('--message', opts.message);
    args.push(id);
    if (ref) args.push(ref);
    return (await this.docker.check(args, { signal: opts.signal })).trim();
  }

  load(file: string, opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const child = this.docker.spawn(['image', 'load'], { stdio: ['pipe', 'pipe', 'pipe'], ...(opts.signal ? { signal: opts.signal } : {}) });
      let out = '';
      let err = '';
      let bytes = 0;
      let failure: Error | undefined;
      child.stdout!.on('data', (d: Buffer) => { if (out.length < MAX_STDERR) out += d.toString('utf8'); });
      child.stderr!.on('data', (d: Buffer) => { if (err.length < MAX_STDERR) err += d.toString('utf8'); });
      const input = createReadStream(file);
      input.on('data', (d) => { bytes += d.length; opts.onBytes?.(bytes); });
      input.on('error', (e) => { failure ??= new DockerError('command-failed', `cannot read ${file}: ${e.message}`); child.kill('SIGTERM'); });
      child.stdin!.on('error', () => undefined); // EPIPE when docker exits early: its stderr says why
      input.pipe(child.stdin!);
      child.on('error', (e: NodeJS.ErrnoException) => {
        input.destroy();
        reject(e.name === 'AbortError' ? new DockerError('aborted', 'cancelled') : this.docker.spawnError(e));
      });
      child.on('close', (code) => {
        input.destroy();
        if (failure) return reject(failure);
        if (opts.signal?.aborted) return reject(new DockerError('aborted', 'cancelled'));
        if (code !== 0) return reject(this.docker.classify(['load'], err || out, code));
        resolve(parseLoadOutput(out));
      });
    });
  }

  /** Starts docker with stdout as the returned stream; killing happens when the stream is destroyed or aborted. */
  private streamOut(args: string[], signal?: AbortSignal): DockerStream {
    const child = this.docker.spawn(args, signal ? { signal } : {});
    const stream = child.stdout!;
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { if (err.length < MAX_STDERR) err += d.toString('utf8'); });
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', (e: NodeJS.ErrnoException) => {
        const de = e.name === 'AbortError' ? new DockerError('aborted', 'cancelled') : this.docker.spawnError(e);
        stream.destroy(de);
        reject(de);
      });
      child.on('close', (code, sig) => {
        if (signal?.aborted) return reject(new DockerError('aborted', 'cancelled'));
        if (code === 0) return resolve();
        const de = this.docker.classify(args.slice(0, 2), err || (sig ? `killed by ${sig}` : ''), code);
        if (!stream.destroyed) stream.destroy(de);
        reject(de);
      });
    });
    exited.catch(() => undefined);
    stream.on('close', () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); });
    return { stream, exited };
  }
}

export function parseLoadOutput(out: string): LoadResult {
  const tags: string[] = [];
  const ids: string[] = [];
  for (const line of out.split('\n')) {
    const t = /^Loaded image: (.+)$/.exec(line.trim());
    if (t) tags.push(t[1]!.trim());
    const i = /^Loaded image ID: (sha256:[a-f0-9]+)$/.exec(line.trim());
    if (i) ids.push(i[1]!);
  }
  return { tags, ids };
}

function toSummary(raw: Record<string, unknown>): ContainerSummary {
  const state = (raw.State ?? {}) as Record<string, unknown>;
  const config = (raw.Config ?? {}) as Record<string, unknown>;
  const status = String(state.Status ?? 'created') as ContainerState;
  return {
    id: String(raw.Id ?? ''),
    name: String(raw.Name ?? '').replace(/^\//, ''),
    image: String(config.Image ?? raw.Image ?? ''),
    imageId: String(raw.Image ?? ''),
    state: state.Paused === true ? 'paused' : status,
    status: describeState(state),
  };
}

function describeState(s: Record<string, unknown>): string {
  if (s.Paused === true) return 'paused';
  if (s.Running === true) return `running since ${String(s.StartedAt ?? '').slice(0, 19).replace('T', ' ')}`;
  if (s.Status === 'exited') return `exited (${String(s.ExitCode ?? '?')})`;
  return String(s.Status ?? 'unknown');
}
