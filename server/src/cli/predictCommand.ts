import { statSync } from 'node:fs';
import * as path from 'node:path';
import { resolveStateDir } from '../build/buildRecordStore';
import type { PredictedInstruction } from '../cache/predictCache';
import { predictForFiles } from '../cache/predictForFiles';
import { httpRemoteResolver } from '../cache/remoteSources';
import type { ParsedArgs } from './cliArgs';
import { CliError } from './cliError';
import type { CliIO } from './cliIO';
import { describeFsError } from './checkCommand';
import { targetNotFound } from '../dockerfile/evaluateDockerfile';

/** `strata predict`: per instruction, whether the next build hits the cache, against the last recorded build. */
export async function predictCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const context = path.resolve(io.cwd, args.common.context);
  const dockerfile = path.resolve(io.cwd, args.common.file ?? path.join(args.common.context, 'Dockerfile'));
  for (const [what, p, dir] of [['--context', context, true], ['--file', dockerfile, false]] as const) {
    try {
      const st = statSync(p);
      if (dir !== st.isDirectory()) throw new CliError(p, dir ? 'is not a directory' : 'is a directory, not a Dockerfile');
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`${what} ${p}`, describeFsError(e));
    }
  }
  const stateDir = resolveStateDir(args.flags.get('state-dir')?.at(-1), io.env);
  const prediction = await predictForFiles({
    dockerfile, context, stateDir,
    target: args.common.target ?? null,
    buildArgs: Object.fromEntries(args.common.buildArgs),
    // `ADD <url>` steps: download and hash the content as BuildKit will (opt-in: it is network traffic).
    ...(args.switches.has('check-remote') ? { resolveRemote: httpRemoteResolver() } : {}),
  });
  const target = args.common.target;
  if (target && prediction.problems?.includes(targetNotFound(target))) throw new CliError(`--target ${target}`, 'stage not found');
  const relative = path.relative(io.cwd, dockerfile);
  const rel = relative && !relative.startsWith('..') ? relative : dockerfile;
  if (args.common.json) {
    io.out(JSON.stringify({ ...prediction, dockerfile: rel }, null, 2));
    return 0;
  }
  if (prediction.notice) io.err(`strata: ${prediction.notice}`);
  for (const p of prediction.problems ?? []) io.err(`strata: ${p}`);
  for (const p of prediction.instructions) io.out(formatLine(rel, p));
  const s = prediction.summary;
  io.err(`strata: ${s.hit} hit, ${s.miss} miss, ${s.unknown} unknown, ${s.skipped} skipped` +
    (prediction.baseline ? ` (baseline ${prediction.baseline.id}, ${prediction.baseline.builtAt})` : ''));
  return 0;
}

function formatLine(file: string, p: PredictedInstruction): string {
  const what = p.kind === 'config' ? 'config' : p.kind === 'base' ? 'base' : p.kind === 'empty-layer' ? 'step' : 'layer';
  return `${file}:${p.line}: ${p.instruction.padEnd(10)} ${what.padEnd(6)} ${p.cache.padEnd(7)} ${p.reason.message}`;
}
