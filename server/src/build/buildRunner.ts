/**
 * Runs one real build on the user's engine and turns it into a BuildRecord: used by `strata build` (CLI process) and
 * by the language server for the Build command (so the extension host never waits on docker).
 *
 *   validate → lock → snapshot inputs (cache model) → docker build --progress=plain --iidfile → parse progress
 *   → map vertices to lines → inspect image + history (layers → lines) → save record → predicted vs actual
 */
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BuildInputs } from '../cache/buildInputs';
import type { BuildParams } from '../protocol/lspMessages';
import { predictCache } from '../cache/predictCache';
import { snapshotBuildInputs } from '../cache/snapshotBuildInputs';
import type { DockerClient } from '../docker/dockerClient';
import { DockerError } from '../docker/dockerError';
import { acquireBuildLock } from './buildLock';
import { BuildProgressParser, builderError, type Vertex } from './buildProgressParser';
import { BUILD_RECORD_VERSION, type BuildRecord, type BuildStepRecord } from './buildRecord';
import { loadLatestBuildRecord, newBuildId, recordKey, saveBuildRecord } from './buildRecordStore';
import { neededStages, parseDockerfileSteps, VERTEX_KEYWORDS, type DockerfileModel, type DockerfileStep } from './dockerfileSteps';
import { mapImageLayers } from './imageLayerLines';
import { VertexLineMapper, type VertexMapping } from './vertexLineMapper';
import { httpRemoteResolver } from '../cache/remoteSources';

/** What a build needs: the `strata/build` request's parameters (defined once in the protocol) minus the client's ids. */
export type BuildOptions = Omit<BuildParams, 'buildId' | 'dockerPath'>;

/** A step's state changed (for progress UI and line decorations). */
export interface StepUpdate {
  vertexId: number;
  /** `[2/5] RUN npm ci` as BuildKit named it. */
  name: string;
  kind: VertexMapping['kind'];
  line: number | null;
  endLine: number | null;
  index: number | null;
  total: number | null;
  state: Vertex['state'];
  durationMs: number | null;
}

export interface BuildDiagnostic {
  /** 1-based. */
  line: number;
  endLine: number;
  /** `build/step-failed`, `build/dockerfile-error`. */
  code: string;
  message: string;
}

export interface BuildHooks {
  signal?: AbortSignal;
  /** Every output line of docker, as printed (the caller bounds what it keeps). */
  onOutput?(line: string): void;
  onStep?(update: StepUpdate): void;
  /** Something the user should read that is not docker output (record notices, prediction summary). */
  onNotice?(text: string): void;
}

export interface BuildResult {
  /** docker's exit status (130 when cancelled before docker reported one). */
  exitCode: number;
  cancelled: boolean;
  record: BuildRecord;
  recordFile: string | null;
  diagnostics: BuildDiagnostic[];
  /** A problem that is not a Dockerfile line (engine down, context missing): one line for the user. */
  error: string | null;
  /** `12/14 steps as predicted; …` lines, when a prediction was available. */
  prediction: string[];
}

/** Input problems found before docker runs (missing context…): the CLI reports them as usage errors. */
export class BuildInputError extends Error {
  constructor(readonly what: string, readonly why: string) {
    super(`${what}: ${why}`);
  }
}

/** What the comparison needs from the cache model's per-line prediction (`PredictedInstruction`). */
export interface PredictedLine { line: number; cache: string; reason?: { code?: string; message?: string }; explanation?: string[] }

const KILL_GRACE_MS = 5000;

export async function runBuild(docker: DockerClient, opts: BuildOptions, hooks: BuildHooks = {}): Promise<BuildResult> {
  const dockerfile = path.resolve(opts.dockerfile);
  const context = path.resolve(opts.context);
  await validateInputs(dockerfile, context);
  const text = await fs.readFile(dockerfile, 'utf8');
  const model = parseDockerfileSteps(text);
  const release = await acquireBuildLock(path.join(opts.stateDir, 'builds', recordKey({ dockerfile, context, target: opts.target })));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'strata-build-'));
  try {
    const started = Date.now();
    const builtAt = new Date(started).toISOString();
    const inputs = await snapshotInputs({ ...opts, dockerfile, context }, hooks);
    const predicted = await predictBefore(inputs, opts.stateDir, { dockerfile, context, target: opts.target }, hooks);
    const useBuildx = await docker.hasBuildx();
    const iidfile = path.join(tmp, 'iid');
    const args = buildArgs(useBuildx, { ...opts, dockerfile, context }, iidfile);
    const mapper = new VertexLineMapper(model);
    const parser = new BuildProgressParser((e) => {
      if (e.type === 'vertex-start' || e.type === 'vertex-end') {
        const m = mapper.map(e.vertex.name);
        hooks.onStep?.({
          vertexId: e.vertex.id, name: e.vertex.name, kind: m.kind,
          line: m.step?.line ?? null, endLine: m.step?.endLine ?? null, index: m.index, total: m.total,
          state: e.vertex.state, durationMs: e.vertex.durationMs,
        });
      }
    });
    const run = await spawnBuild(docker, args, useBuildx, parser, hooks);
    parser.end();
    const cancelled = run.cancelled;
    const exitCode = run.exitCode;
    const vertices = parser.list();
    const steps = stepRecords(model, mapper, vertices, opts.target, cancelled || exitCode !== 0);
    const diagnostics = failureDiagnostics(model, mapper, vertices, parser.messages);
    let error: string | null = run.error;
    if (!error && exitCode !== 0 && !cancelled && diagnostics.length === 0) {
      error = docker.classify(['build'], parser.messages.join('\n'), exitCode).message;
    }
    const imageId = exitCode === 0 ? (await fs.readFile(iidfile, 'utf8').catch(() => '')).trim() || null : null;
    let image: BuildRecord['image'] = null;
    if (imageId) {
      try {
        const [inspect, history] = await Promise.all([docker.imageInspect(imageId), docker.imageHistory(imageId)]);
        image = { id: imageId, layers: mapImageLayers(model, opts.target, inspect.diffIds, history) };
      } catch (e) {
        hooks.onNotice?.(`could not read the built image's layers: ${(e as Error).message}`);
        image = { id: imageId, layers: [] };
      }
    }
    const record: BuildRecord = {
      version: BUILD_RECORD_VERSION,
      id: newBuildId(),
      builtAt,
      dockerfile,
      context,
      target: opts.target,
      buildArgs: { ...opts.buildArgs },
      tags: [...opts.tags],
      inputs,
      steps,
      image,
      exitCode,
      durationMs: Date.now() - started,
    };
    // A build that never reached BuildKit (engine down) says nothing about the cache: keep the previous baseline.
    let recordFile: string | null = null;
    if (vertices.length > 0) {
      try {
        recordFile = await saveBuildRecord(opts.stateDir, record);
      } catch (e) {
        hooks.onNotice?.(`could not save the build record in ${opts.stateDir}: ${(e as Error).message}`);
      }
    }
    const prediction = predicted && !cancelled ? comparePrediction(predicted, steps) : [];
    for (const p of prediction) hooks.onNotice?.(p);
    return { exitCode, cancelled, record, recordFile, diagnostics, error, prediction };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await release();
  }
}

async function validateInputs(dockerfile: string, context: string): Promise<void> {
  const st = await fs.stat(context).catch(() => null);
  if (!st) throw new BuildInputError(context, 'build context folder does not exist');
  if (!st.isDirectory()) throw new BuildInputError(context, 'build context is not a folder');
  const df = await fs.stat(dockerfile).catch(() => null);
  if (!df) throw new BuildInputError(dockerfile, 'no such Dockerfile');
  if (!df.isFile()) throw new BuildInputError(dockerfile, 'is not a file');
}

async function snapshotInputs(opts: BuildOptions, hooks: BuildHooks): Promise<unknown> {
  // The single call site of the cache model: its snapshot is the baseline the next prediction compares against.
  try {
    return await snapshotBuildInputs({
      dockerfile: opts.dockerfile, context: opts.context, target: opts.target, buildArgs: opts.buildArgs,
      // The build downloads `ADD <url>` sources anyway; recording their digest lets predictions compare them.
      resolveRemote: httpRemoteResolver(),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
    });
  } catch (e) {
    if (hooks.signal?.aborted) throw new DockerError('aborted', 'cancelled before docker started');
    hooks.onNotice?.(`cache inputs could not be recorded (${(e as Error).message}); the next prediction will have no baseline`);
    return null;
  }
}

/**
 * The cache model's prediction for this build, against the previous record (loaded before this build replaces it).
 * Computed from the same snapshot that becomes this build's `inputs`, so "predicted vs actual" compares like with like.
 */
async function predictBefore(inputs: unknown, stateDir: string, key: { dockerfile: string; context: string; target: string | null }, hooks: BuildHooks): Promise<PredictedLine[] | null> {
  if (!inputs) return null;
  try {
    const loaded = await loadLatestBuildRecord(stateDir, key);
    if (!loaded.record) return null; // first build: nothing to compare with (the notice is the prediction's business)
    return predictCache(inputs as BuildInputs, loaded.record, loaded.notice).instructions;
  } catch (e) {
    hooks.onNotice?.(`prediction unavailable: ${(e as Error).message}`);
    return null;
  }
}

/** The docker command line (an argument array, never a shell string). */
export function buildArgs(useBuildx: boolean, opts: BuildOptions, iidfile: string): string[] {
  const args = useBuildx ? ['buildx', 'build', '--load'] : ['build'];
  args.push('--progress=plain', '--file', opts.dockerfile, '--iidfile', iidfile);
  for (const t of opts.tags) args.push('--tag', t);
  if (opts.target) args.push('--target', opts.target);
  for (const [k, v] of Object.entries(opts.buildArgs)) args.push('--build-arg', `${k}=${v}`);
  if (opts.noCache) args.push('--no-cache');
  args.push(opts.context);
  return args;
}

interface SpawnOutcome { exitCode: number; cancelled: boolean; error: string | null }

function spawnBuild(docker: DockerClient, args: string[], useBuildx: boolean, parser: BuildProgressParser, hooks: BuildHooks): Promise<SpawnOutcome> {
  return new Promise((resolve, reject) => {
    if (hooks.signal?.aborted) return resolve({ exitCode: 130, cancelled: true, error: null });
    // DOCKER_BUILDKIT=1 makes the classic `docker build` use BuildKit (default only from Docker 23).
    const child = docker.spawn(args, { extraEnv: useBuildx ? {} : { DOCKER_BUILDKIT: '1' } });
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      cancelled = true;
      // SIGINT is what Ctrl+C sends: the client cancels the solve on the engine and exits.
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    let pending = '';
    const feed = (d: Buffer) => {
      const s = d.toString('utf8');
      parser.push(s);
      if (hooks.onOutput) {
        const lines = (pending + s).split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) hooks.onOutput(l.replace(/\r$/, ''));
      }
    };
    child.stdout!.on('data', feed);
    child.stderr!.on('data', feed);
    child.on('error', (e: NodeJS.ErrnoException) => {
      hooks.signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      reject(docker.spawnError(e));
    });
    child.on('close', (code, sig) => {
      hooks.signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (pending && hooks.onOutput) hooks.onOutput(pending);
      const exitCode = code ?? (sig === 'SIGINT' ? 130 : sig === 'SIGKILL' ? 137 : 1);
      let error: string | null = null;
      const text = parser.messages.join('\n');
      if (exitCode !== 0 && parser.vertices.size === 0) {
        const classified = docker.classify(['build'], text, exitCode);
        if (classified.kind === 'engine-unreachable' || /buildx|unknown (flag|command)/.test(text)) error = classified.message;
      }
      resolve({ exitCode, cancelled, error });
    });
  });
}

function outcomeOf(v: Vertex | undefined, stopped: boolean): BuildStepRecord['outcome'] {
  if (!v) return 'not-run';
  switch (v.state) {
    case 'cached': return 'cached';
    case 'done': return 'built';
    case 'error': return 'failed';
    case 'canceled': return 'canceled';
    default: return stopped ? 'canceled' : 'built';
  }
}

/** One record per step that BuildKit runs (FROM of an image, RUN, COPY, ADD, WORKDIR), in file order. */
function stepRecords(model: DockerfileModel, mapper: VertexLineMapper, vertices: Vertex[], target: string | null, stopped: boolean): BuildStepRecord[] {
  const byStep = new Map<DockerfileStep, Vertex>();
  const fromVertices: { ref: string; v: Vertex }[] = [];
  for (const v of vertices) {
    const m = mapper.map(v.name);
    if (m.step) byStep.set(m.step, v);
    if (m.kind === 'step' && /^FROM\s/i.test(m.label)) fromVertices.push({ ref: normalizeRef(m.label.slice(5).trim()), v });
  }
  const needed = neededStages(model, target);
  const out: BuildStepRecord[] = [];
  for (const stage of model.stages) {
    for (const step of stage.steps) {
      const runs = step.keyword === 'FROM' ? stage.parent === null : VERTEX_KEYWORDS.has(step.keyword);
      if (!runs) continue;
      let v = byStep.get(step);
      // BuildKit merges identical FROMs into one vertex, named after one of the stages: share its outcome.
      if (!v && step.keyword === 'FROM' && needed.has(stage.index)) {
        v = fromVertices.find((f) => f.ref === normalizeRef(step.from ?? '') || f.ref.split('@')[0] === normalizeRef(step.from ?? ''))?.v;
      }
      out.push({
        line: step.line,
        endLine: step.endLine,
        stage: stage.name ?? `stage-${stage.index}`,
        instruction: step.keyword,
        vertex: v?.name ?? '',
        outcome: outcomeOf(v, stopped),
        durationMs: v?.durationMs ?? null,
        ...(v?.error ? { error: v.error } : {}),
      });
    }
  }
  return out;
}

/** `alpine` → `docker.io/library/alpine:latest`, as BuildKit prints references. */
export function normalizeRef(ref: string): string {
  let r = ref.trim();
  if (!r || /\$/.test(r)) return r;
  const first = r.split('/')[0]!;
  const hasRegistry = r.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) r = `docker.io/${r.includes('/') ? '' : 'library/'}${r}`;
  const last = r.split('/').at(-1)!;
  if (!last.includes(':') && !last.includes('@')) r += ':latest';
  return r;
}

/** Failing steps and builder errors as diagnostics on their Dockerfile lines, with docker's last output lines. */
function failureDiagnostics(model: DockerfileModel, mapper: VertexLineMapper, vertices: Vertex[], messages: string[]): BuildDiagnostic[] {
  const out: BuildDiagnostic[] = [];
  for (const v of vertices) {
    if (v.state !== 'error') continue;
    const m = mapper.map(v.name);
    const tail = v.logTail.slice(-10);
    const message = [`${m.kind === 'step' ? m.label : v.name} failed: ${v.error ?? 'error'}`, ...(tail.length ? ['', ...tail] : [])].join('\n');
    if (m.step) out.push({ line: m.step.line, endLine: m.step.endLine, code: 'build/step-failed', message });
    else out.push({ line: model.steps[0]?.line ?? 1, endLine: model.steps[0]?.line ?? 1, code: 'build/step-failed', message });
  }
  if (out.length === 0) {
    const b = builderError(messages);
    if (b) {
      const line = b.line ?? model.steps[0]?.line ?? 1;
      const step = model.steps.find((s) => s.line <= line && line <= s.endLine);
      out.push({ line, endLine: step?.endLine ?? line, code: 'build/dockerfile-error', message: b.message });
    }
  }
  return out;
}

/**
 * "Predicted vs actual": compares the cache model's prediction (hit/miss per line) with what BuildKit did
 * (CACHED or built). FROM is left out (BuildKit reports a resolved base as DONE even when nothing changed), as are
 * steps that did not run and predictions of `unknown`/`skipped`. The first line is the summary; each mismatch then
 * gets a line with the model's reason code and explanation, which is what improving the model needs.
 */
export function comparePrediction(predicted: PredictedLine[], steps: BuildStepRecord[]): string[] {
  let agree = 0;
  let total = 0;
  const mismatches: string[] = [];
  const details: string[] = [];
  for (const s of steps) {
    if (s.instruction === 'FROM' || (s.outcome !== 'cached' && s.outcome !== 'built')) continue;
    const p = predicted.find((x) => x.line === s.line);
    if (!p || (p.cache !== 'hit' && p.cache !== 'miss')) continue;
    total++;
    const actual = s.outcome === 'cached' ? 'hit' : 'miss';
    if (p.cache === actual) { agree++; continue; }
    mismatches.push(`line ${s.line} predicted ${p.cache}, was a ${actual}: ${s.vertex}${p.reason?.message ? ` (model: ${p.reason.message})` : ''}`);
    details.push(`mismatch at line ${s.line}: model said ${p.cache} [${p.reason?.code ?? 'no reason'}]${p.explanation?.length ? `; inputs: ${p.explanation.join(' | ')}` : ''}`);
  }
  if (total === 0) return [];
  return [`${agree}/${total} steps as predicted${mismatches.length ? `; ${mismatches.join('; ')}` : ''}`, ...details];
}
