/**
 * The language server's side of "Strata: Build Image": runs `runBuild` for a BuildRequest, streams progress as
 * notifications (output lines batched so a chatty build cannot flood the connection), and turns every expected
 * failure (docker missing, engine down, context missing, another build running) into `error`, never a throw.
 */
import type { BuildProgressParams, BuildParams, BuildResultInfo } from '../protocol/lspMessages';
import { DockerClient } from '../docker/dockerClient';
import { DockerError } from '../docker/dockerError';
import { BuildBusyError } from './buildLock';
import { BuildInputError, runBuild } from './buildRunner';

export interface CancellationLike {
  isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/** Output lines are sent at most every 100 ms, and at most 500 per batch (the rest are counted, not sent). */
const FLUSH_MS = 100;
const MAX_LINES_PER_BATCH = 500;

export async function handleBuildRequest(
  params: BuildParams,
  token: CancellationLike | undefined,
  send: (p: BuildProgressParams) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BuildResultInfo> {
  const controller = new AbortController();
  const sub = token?.onCancellationRequested(() => controller.abort());
  if (token?.isCancellationRequested) controller.abort();
  let batch: string[] = [];
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (dropped > 0) batch.push(`… ${dropped} more lines not shown (the build was printing faster than they could be displayed)`);
    if (batch.length > 0) send({ buildId: params.buildId, kind: 'output', lines: batch });
    batch = [];
    dropped = 0;
  };
  const started = Date.now();
  try {
    const docker = new DockerClient({ dockerPath: params.dockerPath, env });
    const r = await runBuild(docker, {
      dockerfile: params.dockerfile,
      context: params.context,
      target: params.target,
      buildArgs: params.buildArgs,
      tags: params.tags,
      stateDir: params.stateDir,
      noCache: params.noCache ?? false,
    }, {
      signal: controller.signal,
      onOutput: (line) => {
        if (batch.length < MAX_LINES_PER_BATCH) batch.push(line);
        else dropped++;
        timer ??= setTimeout(flush, FLUSH_MS);
      },
      onStep: (u) => send({
        buildId: params.buildId, kind: 'step',
        step: { vertexId: u.vertexId, name: u.name, line: u.line, endLine: u.endLine, index: u.index, total: u.total, state: u.state, durationMs: u.durationMs },
      }),
      onNotice: (text) => send({ buildId: params.buildId, kind: 'notice', text }),
    });
    return {
      exitCode: r.exitCode,
      cancelled: r.cancelled,
      error: r.error,
      diagnostics: r.diagnostics,
      imageId: r.record.image?.id ?? null,
      tags: r.record.tags,
      recordFile: r.recordFile,
      steps: r.record.steps.map((s) => ({ line: s.line, endLine: s.endLine, outcome: s.outcome, durationMs: s.durationMs, vertex: s.vertex })),
      prediction: r.prediction,
      durationMs: r.record.durationMs,
    };
  } catch (e) {
    if (e instanceof BuildInputError || e instanceof BuildBusyError || e instanceof DockerError) {
      return failed(e.message, Date.now() - started, e instanceof DockerError && e.kind === 'aborted');
    }
    throw e;
  } finally {
    sub?.dispose();
    if (timer) clearTimeout(timer);
    flush();
  }
}

function failed(error: string, durationMs: number, cancelled: boolean): BuildResultInfo {
  return { exitCode: cancelled ? 130 : 2, cancelled, error, diagnostics: [], imageId: null, tags: [], recordFile: null, steps: [], prediction: [], durationMs };
}
