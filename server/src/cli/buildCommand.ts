import * as path from 'node:path';
import { BuildBusyError } from '../build/buildLock';
import { resolveStateDir } from '../build/buildRecordStore';
import { BuildInputError, runBuild, type BuildResult } from '../build/buildRunner';
import { DockerClient } from '../docker/dockerClient';
import { DockerError } from '../docker/dockerError';
import type { ParsedArgs } from './cliArgs';
import { CliError } from './cliError';
import type { CliIO } from './cliIO';

/**
 * `strata build`: the real build, progress streamed on stderr as docker prints it, then the record saved in the state
 * dir, failures as `file:line:col: error code: message` lines on stdout (the `strata` problem matcher reads them),
 * and docker's exit status. `--json` prints the result (record included) on stdout instead.
 */
export async function buildCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const context = path.resolve(io.cwd, args.common.context);
  const dockerfile = path.resolve(io.cwd, args.common.file ?? path.join(args.common.context, 'Dockerfile'));
  const stateDir = resolveStateDir(args.flags.get('state-dir')?.at(-1), io.env);
  const docker = new DockerClient({ dockerPath: args.flags.get('docker')?.at(-1), env: io.env });
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: BuildResult;
  try {
    result = await runBuild(docker, {
      dockerfile,
      context,
      target: args.common.target ?? null,
      buildArgs: Object.fromEntries(args.common.buildArgs),
      tags: args.flags.get('tag') ?? [],
      stateDir,
      noCache: args.switches.has('no-cache'),
    }, {
      signal: controller.signal,
      onOutput: (line) => io.stderr.write(line + '\n'),
      onNotice: (text) => io.err(`strata: ${text}`),
    });
  } catch (e) {
    if (e instanceof BuildInputError) throw new CliError(e.what, e.why);
    if (e instanceof BuildBusyError) throw new CliError('build', e.message);
    if (e instanceof DockerError && e.kind === 'aborted') {
      io.err(`strata: build: ${e.message}`);
      return 130;
    }
    if (e instanceof DockerError) throw new CliError('build', e.message);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  report(result, io, args.common.json);
  return result.exitCode;
}

function report(r: BuildResult, io: CliIO, json: boolean): void {
  if (json) {
    io.out(JSON.stringify({
      exitCode: r.exitCode, cancelled: r.cancelled, error: r.error, recordFile: r.recordFile,
      diagnostics: r.diagnostics, prediction: r.prediction, record: r.record,
    }, null, 2));
  } else {
    for (const d of r.diagnostics) {
      io.out(`${r.record.dockerfile}:${d.line}:1: error ${d.code}: ${d.message.split('\n').filter(Boolean).join(' | ')}`);
    }
  }
  if (r.error) io.err(`strata: build: ${r.error}`);
  const counts = new Map<string, number>();
  for (const s of r.record.steps) counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
  const parts = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
  const secs = (r.record.durationMs / 1000).toFixed(1);
  const what = r.cancelled ? 'build cancelled' : r.exitCode === 0 ? `built ${r.record.image?.id ?? ''}`.trim() : `build failed (exit ${r.exitCode})`;
  io.err(`strata: ${what} in ${secs} s${parts ? `: ${parts}` : ''}${r.recordFile ? `; record ${r.recordFile}` : ''}`);
}
