/**
 * The one place Strata runs the docker client. Everything goes through argument arrays (never a shell string), the
 * caller's environment (DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG, TLS variables pass through untouched), and
 * classified errors (`DockerError`) with messages a user can act on.
 *
 * We drive the CLI rather than the Engine API socket on purpose: the CLI already resolves contexts, TLS, ssh:// and
 * npipe hosts, credential helpers and the buildx plugin exactly as the user's own `docker` would.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import {
  binaryMissingMessage,
  DockerError,
  engineUnreachableMessage,
  isEngineUnreachable,
  isNotFound,
} from './dockerError';

export interface DockerClientOptions {
  /** The `strata.dockerPath` setting or `--docker` flag; `docker`/empty means "not set". */
  dockerPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** `strata.dockerPath` (when set to something other than the default), else STRATA_DOCKER, else `docker` on PATH. */
export function resolveDockerBinary(setting: string | undefined, env: NodeJS.ProcessEnv): string {
  const s = setting?.trim();
  if (s && s !== 'docker') return s;
  return env.STRATA_DOCKER?.trim() || 'docker';
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Largest stdout kept (bytes); beyond it the command fails rather than eat memory. */
  maxStdout?: number;
  extraEnv?: NodeJS.ProcessEnv;
}

/** One image as `docker image ls` would show it, with exact numbers. */
export interface EngineImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: string;
  size: number;
}

/** The parts of `docker image inspect` Strata uses (the full JSON is in `raw`). */
export interface ImageInspect {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: string;
  size: number;
  architecture: string;
  os: string;
  variant?: string;
  /** RootFS.Layers: the uncompressed layer digests, bottom first. */
  diffIds: string[];
  config: { env: string[]; cmd: string[] | null; entrypoint: string[] | null; workingDir: string; user: string; labels: Record<string, string> };
  raw: Record<string, unknown>;
}

/** One `docker history` row, oldest first (docker prints newest first; we reverse). */
export interface ImageHistoryEntry {
  createdBy: string;
  created: string;
  comment: string;
  size: number;
  /** Heuristic (the CLI does not print `empty_layer`): true for steps that cannot have made a layer. */
  emptyLayer: boolean;
}

const MAX_STDOUT = 64 * 1024 * 1024;
const MAX_STDERR = 64 * 1024;

export class DockerClient {
  readonly binary: string;
  readonly env: NodeJS.ProcessEnv;
  private buildx: Promise<boolean> | undefined;

  constructor(opts: DockerClientOptions = {}) {
    this.env = opts.env ?? process.env;
    this.binary = resolveDockerBinary(opts.dockerPath, this.env);
  }

  /** Starts docker with `args` (an array, no shell). Spawn failures surface as the child's 'error' event. */
  spawn(args: string[], opts: SpawnOptions & { extraEnv?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const { extraEnv, ...rest } = opts;
    return spawn(this.binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...rest,
      shell: false,
      windowsHide: true,
      env: { ...this.env, ...extraEnv },
    });
  }

  /** Runs docker to completion; resolves with its exit code (non-zero included) or rejects with a DockerError for
   * a missing binary, an abort, or oversized output. Use `check()` for "non-zero is an error". */
  run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const max = opts.maxStdout ?? MAX_STDOUT;
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new DockerError('aborted', 'cancelled'));
      const child = this.spawn(args, { extraEnv: opts.extraEnv });
      const out: Buffer[] = [];
      let outBytes = 0;
      let err = '';
      let failed: DockerError | undefined;
      const onAbort = () => { failed = new DockerError('aborted', 'cancelled'); child.kill('SIGTERM'); };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout!.on('data', (d: Buffer) => {
        outBytes += d.length;
        if (outBytes > max) {
          failed ??= new DockerError('command-failed', `docker ${args[0]} printed more than ${max} bytes`);
          child.kill('SIGTERM');
          return;
        }
        out.push(d);
      });
      child.stderr!.on('data', (d: Buffer) => { if (err.length < MAX_STDERR) err += d.toString('utf8'); });
      child.on('error', (e: NodeJS.ErrnoException) => {
        opts.signal?.removeEventListener('abort', onAbort);
        reject(this.spawnError(e));
      });
      child.on('close', (code, sig) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (failed) return reject(failed);
        resolve({ code: code ?? (sig ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: err });
      });
    });
  }

  /** Runs docker and returns stdout; a non-zero exit becomes a classified DockerError. */
  async check(args: string[], opts: RunOptions = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw this.classify(args, r.stderr, r.code);
    return r.stdout;
  }

  /** Turns a failed command's stderr into a DockerError with an actionable message. */
  classify(args: string[], stderr: string, code: number | null): DockerError {
    const text = stderr.trim();
    if (isEngineUnreachable(text)) return new DockerError('engine-unreachable', engineUnreachableMessage(this.env, text), text, code);
    if (isNotFound(text)) return new DockerError('not-found', firstLine(text) || 'not found', text, code);
    return new DockerError('command-failed', `docker ${args[0] ?? ''} failed (exit ${code}): ${firstLine(text) || 'no message'}`, text, code);
  }

  spawnError(e: NodeJS.ErrnoException): DockerError {
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'ENOTDIR') {
      return new DockerError('binary-missing', binaryMissingMessage(this.binary));
    }
    return new DockerError('command-failed', `could not run ${this.binary}: ${e.message}`);
  }

  /** Server version; throws `engine-unreachable` / `binary-missing` with the message users should see. */
  async ping(signal?: AbortSignal): Promise<string> {
    const out = await this.check(['version', '--format', '{{.Server.Version}}'], signal ? { signal } : {});
    return out.trim();
  }

  /** Whether `docker buildx` is available (cached). Only a missing plugin is false; a missing binary throws. */
  hasBuildx(): Promise<boolean> {
    this.buildx ??= this.run(['buildx', 'version']).then((r) => r.code === 0);
    return this.buildx;
  }

  async listImages(signal?: AbortSignal): Promise<EngineImage[]> {
    const ids = [...new Set((await this.check(['image', 'ls', '--quiet', '--no-trunc'], { signal })).split('\n').map((s) => s.trim()).filter(Boolean))];
    if (ids.length === 0) return [];
    const inspected = await this.inspectMany(ids, signal);
    return inspected.map((i) => ({ id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, created: i.created, size: i.size }));
  }

  async imageInspect(ref: string, signal?: AbortSignal): Promise<ImageInspect> {
    const [one] = await this.inspectMany([ref], signal);
    if (!one) throw new DockerError('not-found', `No such image: ${ref}`);
    return one;
  }

  private async inspectMany(refs: string[], signal?: AbortSignal): Promise<ImageInspect[]> {
    const out = await this.check(['image', 'inspect', '--', ...refs], { signal });
    const list = JSON.parse(out) as Record<string, unknown>[];
    return list.map(toImageInspect);
  }

  async imageHistory(ref: string, signal?: AbortSignal): Promise<ImageHistoryEntry[]> {
    const out = await this.check(['image', 'history', '--no-trunc', '--human=false', '--format', '{{json .}}', '--', ref], { signal });
    const rows = out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, string>);
    return rows.reverse().map((r) => {
      const createdBy = r.CreatedBy ?? '';
      const size = Number(r.Size) || 0;
      return { createdBy, created: r.CreatedAt ?? '', comment: r.Comment ?? '', size, emptyLayer: isEmptyLayerStep(createdBy, size) };
    });
  }

  /**
   * `docker save refs…` as a stream (a docker-archive tar). Errors (engine down, unknown ref) are emitted as a
   * DockerError on the stream after docker exits; destroying the stream kills docker.
   */
  saveImage(refs: string[], signal?: AbortSignal): Readable {
    const child = this.spawn(['image', 'save', '--', ...refs], signal ? { signal } : {});
    // The tar ends only once docker exited 0: a failure after partial output must reach the reader as an error,
    // not as a clean (truncated) end of stream.
    const out = new PassThrough();
    child.stdout!.pipe(out, { end: false });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { if (err.length < MAX_STDERR) err += d.toString('utf8'); });
    child.on('error', (e: NodeJS.ErrnoException) => {
      out.destroy(e.name === 'AbortError' ? new DockerError('aborted', 'cancelled') : this.spawnError(e));
    });
    child.on('close', (code) => {
      if (out.destroyed) return;
      if (code === 0) out.end();
      else out.destroy(this.classify(['save'], err, code));
    });
    out.on('close', () => { if (child.exitCode === null) child.kill('SIGTERM'); });
    return out;
  }
}

/**
 * `docker history` does not print `empty_layer`, so infer it: metadata-only instructions (ENV, LABEL, CMD, …) never
 * make a layer; RUN/COPY/ADD/WORKDIR and imports do. Callers that know the layer count should reconcile.
 */
export function isEmptyLayerStep(createdBy: string, size: number): boolean {
  if (size > 0) return false;
  let text = createdBy.trim();
  const nop = /^\/bin\/sh -c #\(nop\)\s*/.exec(text);
  if (nop) text = text.slice(nop[0].length);
  else if (/^\/bin\/sh -c /.test(text)) return false; // classic builder RUN
  const keyword = /^([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? '';
  if (keyword === '') return false; // imported rootfs etc.
  return !['RUN', 'COPY', 'ADD', 'WORKDIR'].includes(keyword);
}

function toImageInspect(raw: Record<string, unknown>): ImageInspect {
  const cfg = (raw.Config ?? {}) as Record<string, unknown>;
  const rootfs = (raw.RootFS ?? {}) as { Layers?: string[] };
  return {
    id: String(raw.Id ?? ''),
    repoTags: (raw.RepoTags as string[] | null) ?? [],
    repoDigests: (raw.RepoDigests as string[] | null) ?? [],
    created: String(raw.Created ?? ''),
    size: Number(raw.Size ?? 0),
    architecture: String(raw.Architecture ?? ''),
    os: String(raw.Os ?? ''),
    ...(raw.Variant ? { variant: String(raw.Variant) } : {}),
    diffIds: rootfs.Layers ?? [],
    config: {
      env: (cfg.Env as string[] | null) ?? [],
      cmd: (cfg.Cmd as string[] | null) ?? null,
      entrypoint: (cfg.Entrypoint as string[] | null) ?? null,
      workingDir: String(cfg.WorkingDir ?? ''),
      user: String(cfg.User ?? ''),
      labels: (cfg.Labels as Record<string, string> | null) ?? {},
    },
    raw,
  };
}

function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
}
