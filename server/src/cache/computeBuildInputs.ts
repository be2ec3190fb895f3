import { createHash } from 'node:crypto';
import { parseDockerfileModel } from '../dockerfile/dockerfileModel';
import { evaluateDockerfile, type EvaluatedInstruction } from '../dockerfile/evaluateDockerfile';
import { BUILD_INPUTS_VERSION, type BuildInputs, type StepDetail, type StepInputs } from './buildInputs';
import type { ContextIndex } from './contextIndex';
import { isHttpSource, type RemoteResolver } from './remoteSources';

/** Resolves an image reference to what identifies its content (image id / digest); null when unknown. */
export type ImageResolver = (ref: string, platform: string | null) => Promise<string | null>;

export interface ComputeOptions {
  dockerfile: string;
  context: string;
  dockerfileText: string;
  target: string | null;
  buildArgs: Record<string, string>;
  /** Already scanned. */
  index: ContextIndex;
  resolveImage?: ImageResolver;
  signal?: AbortSignal;
  /** Downloads an `ADD <url>` source to hash it; none: such steps are `unknown` (BuildKit re-checks them). */
  resolveRemote?: RemoteResolver;
  /** Include the per-entry manifest (`BuildInputs.files`): build records need it, live predictions do not. */
  manifest?: boolean;
}

const MAX_IGNORED_ROOTS = 10_000;

/**
 * One snapshot of every step's cache-key inputs. Each step's chain key folds its parent's chain key with its own
 * key, its base image digest, its source files' digest and the chain of a `--from` stage: equal chain = BuildKit
 * finds the step in its cache (dockerfile2llb builds exactly such a DAG; solver/ keys each vertex by its inputs' keys).
 */
export async function computeBuildInputs(o: ComputeOptions): Promise<BuildInputs> {
  const model = parseDockerfileModel(o.dockerfileText);
  const ev = evaluateDockerfile(model, { buildArgs: o.buildArgs, target: o.target });
  const steps: StepInputs[] = [];
  const stageLast: (number | null)[] = [];
  const baseDigests = new Map<string, string | null>();
  // Everything any step selects is hashed in one request first, so the workers share the whole job.
  const stepSources = ev.steps.map(contextSources);
  await o.index.prepare(stepSources.filter((x): x is string[] => x !== null), o.signal);
  const manifest: Record<string, string> | undefined = o.manifest ? {} : undefined;

  for (const [n, e] of ev.steps.entries()) {
    o.signal?.throwIfAborted();
    const i = steps.length;
    const detail = toDetail(e);
    const step: StepInputs = {
      line: e.ins.line,
      endLine: e.ins.endLine,
      stage: e.stage,
      stageIndex: e.stageIndex,
      instruction: e.ins.keyword,
      kind: e.kind,
      skipped: e.stageIndex >= 0 && !ev.needed.has(e.stageIndex),
      key: ownKey(e, detail),
      detail,
      parent: null,
      chain: null,
    };
    if (e.problems.length) step.problem = e.problems[0];
    if (e.stageIndex < 0) {
      // A global ARG: no step of its own; its values reach FROM lines through expansion.
      step.chain = sha(step.key);
      steps.push(step);
      continue;
    }
    if (e.kind === 'base') {
      stageLast[e.stageIndex] = i;
      if (e.baseStage !== undefined) {
        const src = stageLast[e.baseStage];
        step.base = { ref: e.baseRef ?? '', platform: e.platform ?? null, digest: null, stageRef: e.baseStage };
        step.parent = src ?? null;
        step.chain = src != null && !step.problem ? steps[src]!.chain : null;
        if (src != null && steps[src]!.chain === null && !step.problem) step.problem = steps[src]!.problem ?? `stage ${steps[src]!.stage} cannot be predicted`;
      } else {
        const ref = e.baseRef ?? '';
        const cacheKey = `${ref}\0${e.platform ?? ''}`;
        if (!baseDigests.has(cacheKey)) {
          baseDigests.set(cacheKey, ref.toLowerCase() === 'scratch' ? 'scratch' : await (o.resolveImage?.(ref, e.platform ?? null) ?? Promise.resolve(null)).catch(() => null));
        }
        const digest = baseDigests.get(cacheKey) ?? null;
        step.base = { ref, platform: e.platform ?? null, digest, stageRef: null };
        // The chain uses the reference text; the digest is compared on its own (predictCache), so an engine that is
        // unreachable now but was reachable at the baseline does not turn every step into a miss.
        step.chain = step.problem ? null : sha(`FROM\0${e.platform ?? ''}\0${ref}`);
      }
      steps.push(step);
      continue;
    }
    // Body instruction: parent is the previous step of the same stage.
    const parent = stageLast[e.stageIndex]!;
    step.parent = parent;
    stageLast[e.stageIndex] = i;
    const parentChain = steps[parent]!.chain;
    if (e.kind === 'config') {
      step.chain = parentChain;
      steps.push(step);
      continue;
    }
    let extra = '';
    if (e.fromStage !== undefined) {
      step.fromStage = e.fromStage;
      const last = stageLast[e.fromStage];
      const c = last == null ? null : steps[last]!.chain;
      if (c === null && !step.problem) step.problem = `stage ${steps[last ?? 0]?.stage ?? e.fromStage} it copies from cannot be predicted`;
      extra = `from:${c}`;
    } else if (e.fromImage) {
      const ck = `${e.fromImage}\0`;
      if (!baseDigests.has(ck)) baseDigests.set(ck, await (o.resolveImage?.(e.fromImage, null) ?? Promise.resolve(null)).catch(() => null));
      extra = `image:${baseDigests.get(ck) ?? e.fromImage}`;
    } else if (e.ins.keyword === 'ADD' && !hasHeredoc(e) && remoteSource(e)) {
      const remote = await remoteInputs(e, o);
      if (typeof remote === 'string') step.problem ??= remote;
      else {
        step.remote = remote;
        extra = `url:${remote.map((r) => `${r.url}\0${r.digest}`).join('\n')}`;
      }
    } else {
      const sources = stepSources[n];
      if (sources) {
        const sel = await o.index.digestSelection(sources, o.signal);
        if (sel.missing.length && !step.problem) step.problem = `${sel.missing.join(', ')}: not found in the build context (the build would fail)`;
        if (sel.problem) step.problem ??= sel.problem;
        step.sources = { digest: sel.digest, select: sources, count: sel.count };
        if (manifest) o.index.selectionKeys(sources, manifest);
        extra = `src:${sel.digest}`;
      }
    }
    step.chain = parentChain === null || step.problem ? null : sha(`${parentChain}\n${step.key}\n${extra}`);
    steps.push(step);
  }

  return {
    version: BUILD_INPUTS_VERSION,
    dockerfile: o.dockerfile,
    context: o.context,
    target: o.target,
    buildArgs: { ...o.buildArgs },
    ignoreDigest: o.index.ignoreText ? sha(o.index.ignoreText) : '',
    steps,
    problems: ev.problems,
    ignoredRoots: o.index.ignoredRoots.slice(0, MAX_IGNORED_ROOTS),
    ...(manifest ? { files: manifest } : {}),
  };
}

/** The context sources a COPY/ADD reads (not `--from`, heredocs or ADD of a URL/git source), else null. */
function contextSources(e: EvaluatedInstruction): string[] | null {
  if ((e.ins.keyword !== 'COPY' && e.ins.keyword !== 'ADD') || !e.sources || hasHeredoc(e)) return null;
  if (e.fromStage !== undefined || e.fromImage) return null;
  if (e.ins.keyword === 'ADD' && remoteSource(e)) return null;
  return e.sources;
}

/**
 * The content digests of an `ADD <url>…` step's sources, or why they cannot be known: no resolver (predictions that
 * do not download), git sources, sources mixed with context files, or a download that failed.
 */
async function remoteInputs(e: EvaluatedInstruction, o: ComputeOptions): Promise<NonNullable<StepInputs['remote']> | string> {
  const first = remoteSource(e)!;
  const recheck = `ADD ${first}: BuildKit downloads remote sources on every build`;
  if (!o.resolveRemote) return `${recheck}; enable checking remote sources (setting strata.prediction.checkRemoteSources, or strata predict --check-remote) to compare the content`;
  const sources = e.sources ?? [];
  if (!sources.every(isHttpSource)) {
    return sources.some((s) => !isRemoteText(s))
      ? `${recheck}; an ADD mixing remote and context sources is not predicted`
      : `ADD ${first}: git sources are re-checked on every build and not fetched for predictions`;
  }
  const out: NonNullable<StepInputs['remote']> = [];
  for (const url of sources) {
    const r = await o.resolveRemote(url, o.signal);
    if ('problem' in r) return r.problem;
    out.push({ url, digest: r.digest, size: r.size });
  }
  return out;
}

/** A source BuildKit fetches instead of reading the context: an http(s) URL or a git source. */
function isRemoteText(s: string): boolean {
  return /^(https?:\/\/|git@)/.test(s) || s.endsWith('.git');
}

function remoteSource(e: EvaluatedInstruction): string | undefined {
  return e.sources?.find(isRemoteText);
}

/** The context could not be walked: every build step is `unknown` with that reason (not "file not found"). */
export function markContextProblem(inputs: BuildInputs, problem: string): void {
  inputs.problems.push(problem);
  for (const st of inputs.steps) {
    if (st.kind === 'config' || st.kind === 'base' || st.stageIndex < 0) continue;
    st.problem = problem; // the root cause: outranks "not found" from the empty index
    st.chain = null;
  }
}

function hasHeredoc(e: EvaluatedInstruction): boolean {
  return /<<-?\s*["']?[A-Za-z_]/.test(e.ins.args);
}

function toDetail(e: EvaluatedInstruction): StepDetail {
  const vars: StepDetail['vars'] = {};
  for (const [k, v] of Object.entries(e.vars)) vars[k] = { value: v.value ?? null, origin: v.origin };
  const env: StepDetail['env'] = {};
  for (const k of Object.keys(e.env).sort()) env[k] = { value: e.env[k]!.value ?? '', origin: e.env[k]!.origin };
  return {
    // Continuations joined and comment lines dropped exactly as BuildKit's parser does: the whitespace a
    // continuation leaves inside a RUN command is part of the command (and of its cache key).
    raw: [e.ins.keyword, ...e.ins.flags.map((f) => `--${f.name}${f.value == null ? '' : `=${f.value}`}`), e.ins.args].join(' '),
    expanded: e.expanded,
    vars,
    env,
    workdir: e.workdir,
    user: e.user,
    shell: JSON.stringify(e.shell),
  };
}

/** The step's own cache key: what dockerfile2llb puts in the vertex besides its inputs. */
function ownKey(e: EvaluatedInstruction, d: StepDetail): string {
  switch (e.ins.keyword) {
    case 'RUN': {
      const env = Object.entries(d.env).map(([k, v]) => `${k}=${v.value}`).join('\0');
      // Shell form runs through SHELL; exec form does not.
      const shell = e.ins.json ? '' : d.shell;
      const heredoc = hasHeredoc(e) ? e.ins.source : '';
      return `RUN\n${e.expanded}\n${heredoc}\nenv:${env}\ncwd:${d.workdir}\nuser:${d.user}\nshell:${shell}`;
    }
    case 'COPY':
    case 'ADD':
      return `${e.expanded}\n${hasHeredoc(e) ? e.ins.source : ''}`;
    case 'WORKDIR':
      // The mkdir runs as the current USER (the directory is owned by it): a USER change re-runs WORKDIR.
      return `${e.expanded}\nuser:${d.user}`;
    default:
      return e.expanded;
  }
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
