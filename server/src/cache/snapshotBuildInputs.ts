import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { BuildInputs } from './buildInputs';
import { computeBuildInputs, markContextProblem, type ImageResolver } from './computeBuildInputs';
import { nodeContextFs } from './contextFs';
import { ContextIndex, type IndexOptions } from './contextIndex';
import type { RemoteResolver } from './remoteSources';

export interface SnapshotOptions {
  /** Absolute or cwd-relative paths. */
  dockerfile: string;
  context: string;
  target: string | null;
  buildArgs: Record<string, string>;
  signal?: AbortSignal;
  /** Reuse an index (the language server keeps one per context); else a fresh one is scanned. */
  index?: ContextIndex;
  /** Skip the rescan of a provided index (the caller refreshed it incrementally). */
  indexFresh?: boolean;
  /** Base image resolution; default: `docker image inspect` on the engine (STRATA_DOCKER or `docker`). */
  resolveImage?: ImageResolver;
  /** `ADD <url>` content; none: such steps are `unknown` (see remoteSources.ts). */
  resolveRemote?: RemoteResolver;
  indexOptions?: IndexOptions;
}

/**
 * Everything the next build's cache keys depend on, computed now. The build runner calls this right before
 * `docker build` and stores the result as `BuildRecord.inputs`; predictions compare a fresh snapshot with it.
 * Never throws for bad contexts (problems are recorded per step and predict `unknown`); throws on abort and when the
 * Dockerfile itself cannot be read.
 */
export async function snapshotBuildInputs(opts: SnapshotOptions): Promise<BuildInputs> {
  const dockerfile = path.resolve(opts.dockerfile);
  const context = path.resolve(opts.context);
  const text = await fs.readFile(dockerfile, 'utf8');
  const index = opts.index ?? new ContextIndex(nodeContextFs(context), opts.indexOptions);
  const problems: string[] = [];
  if (!opts.indexFresh) {
    try {
      await index.scan(opts.signal);
    } catch (e) {
      opts.signal?.throwIfAborted();
      problems.push(`build context ${context}: ${(e as Error).message}`);
    }
  }
  const inputs = await computeBuildInputs({
    dockerfile, context, dockerfileText: text, target: opts.target, buildArgs: opts.buildArgs, index,
    resolveImage: opts.resolveImage ?? dockerImageResolver(), resolveRemote: opts.resolveRemote, signal: opts.signal, manifest: true,
  });
  for (const p of problems) markContextProblem(inputs, p);
  return inputs;
}

/**
 * Resolves a reference to its image id with `docker image inspect` (argument array, never a shell), on the engine
 * DOCKER_HOST names. Null when docker or the image is not there: the model then compares the reference text.
 */
export function dockerImageResolver(env: NodeJS.ProcessEnv = process.env, timeoutMs = 5000): ImageResolver {
  const docker = env.STRATA_DOCKER || 'docker';
  return (ref) => new Promise((resolve) => {
    execFile(docker, ['image', 'inspect', '--format', '{{.Id}}', '--', ref], { env, timeout: timeoutMs }, (err, stdout) => {
      const id = String(stdout ?? '').trim();
      resolve(err || !/^sha256:[0-9a-f]{64}$/.test(id) ? null : id);
    });
  });
}
