import type { BuildRecord } from '../build/buildRecord';
import { BUILD_INPUTS_VERSION, type BuildInputs, type StepInputs } from './buildInputs';
import { selectFromManifest } from './selectSources';

/** The live side's per-entry keys of a selection (ContextIndex.selectionKeys), when the snapshot has no manifest. */
export type SelectionKeys = (sources: readonly string[]) => Record<string, string>;

/** `strata predict --json` shapes (../shared/contract.md); extra fields are ours. */
export type CacheOutcome = 'hit' | 'miss' | 'unknown' | 'skipped';

export interface PredictionReason {
  code: string;
  message: string;
  paths?: string[];
  /** For parent-miss / stage-changed: the line whose miss causes this one. */
  causeLine?: number;
}

export interface PredictedInstruction {
  line: number;
  endLine: number;
  stage: string;
  stageIndex: number;
  instruction: string;
  createsLayer: boolean;
  kind: StepInputs['kind'];
  cache: CacheOutcome;
  reason: PredictionReason;
  /** Size of the layer this step produced in the baseline (hit only), bytes. */
  size?: number;
  /** Hover text: the inputs of the key and what changed, one line each. */
  explanation: string[];
}

export interface Prediction {
  dockerfile: string;
  target: string | null;
  baseline: { id: string; builtAt: string } | null;
  instructions: PredictedInstruction[];
  summary: { hit: number; miss: number; unknown: number; skipped: number };
  notice?: string;
  /** Problems of the whole snapshot (unknown target, unreadable context). */
  problems?: string[];
}

interface Status { cache: CacheOutcome; reason: PredictionReason; baselineStep?: StepInputs }

/**
 * Compares a fresh snapshot with the baseline build's snapshot, per stage as a chain: a step hits only if its parent
 * hit and its chain key is in the baseline (= BuildKit's cache of that build); the first cause of a miss is named by
 * diffing the step against the baseline step that followed the same parent. Pure.
 */
export function predictCache(current: BuildInputs, baseline: BuildRecord | null, notice?: string, currentKeys?: SelectionKeys): Prediction {
  const base = baseline && isInputs(baseline.inputs) ? baseline.inputs : null;
  const baseNotice = baseline && !base ? 'the last build record has no usable cache snapshot; build again with Strata' : notice;
  const ran = base && baseline ? ranSteps(base, baseline) : [];
  const byChain = new Map<string, StepInputs>();
  const children = new Map<string, StepInputs[]>();
  for (const s of ran) {
    if (s.kind === 'config' || s.stageIndex < 0 || !s.chain) continue;
    if (!byChain.has(s.chain)) byChain.set(s.chain, s);
    const pc = s.parent != null ? base!.steps[s.parent]!.chain : null;
    if (pc && s.kind !== 'base') {
      const list = children.get(pc) ?? [];
      list.push(s);
      children.set(pc, list);
    }
  }
  const sizes = new Map<number, number>();
  for (const l of baseline?.image?.layers ?? []) if (l.line != null) sizes.set(l.line, (sizes.get(l.line) ?? 0) + l.size);
  const ignoreChanged = !!base && base.ignoreDigest !== current.ignoreDigest;

  const status: Status[] = [];
  const stageLast = new Map<number, number>();
  for (let i = 0; i < current.steps.length; i++) {
    const s = current.steps[i]!;
    status.push(decide(s, i));
    if (s.stageIndex >= 0) stageLast.set(s.stageIndex, i);
  }

  function stageStatus(stageIndex: number): Status | null {
    const last = stageLast.get(stageIndex);
    return last === undefined ? null : status[last]!;
  }

  function decide(s: StepInputs, i: number): Status {
    if (s.skipped) {
      return { cache: 'skipped', reason: { code: 'stage-not-needed', message: `stage not needed for target ${current.target ?? 'the last stage'}` } };
    }
    if (!base) {
      return { cache: 'unknown', reason: { code: 'no-baseline', message: baseNotice ?? 'no baseline: build once with Strata: Build Image' } };
    }
    if (s.stageIndex < 0) return { cache: 'hit', reason: { code: 'config-only', message: 'global ARG: no build step; its value reaches FROM lines' } };
    if (s.problem) return { cache: 'unknown', reason: { code: 'cannot-tell', message: s.problem } };
    const parent = s.parent != null ? status[s.parent]! : null;

    if (s.kind === 'base') {
      if (s.base?.stageRef != null) {
        const st = stageStatus(s.base.stageRef)!;
        const name = current.steps.find((x) => x.stageIndex === s.base!.stageRef)?.stage ?? String(s.base.stageRef);
        if (st.cache === 'hit') return { cache: 'hit', reason: { code: 'unchanged', message: `stage ${name} is unchanged` } };
        return { cache: st.cache === 'miss' ? 'miss' : 'unknown', reason: { code: 'stage-changed', message: `stage ${name} ${st.cache === 'miss' ? 're-runs' : 'cannot be predicted'}: ${st.reason.message}`, causeLine: st.reason.causeLine ?? lineOf(st) } };
      }
      const prev = base.steps.filter((b) => b.kind === 'base' && !b.skipped && b.base?.stageRef == null);
      const same = prev.find((b) => b.chain === s.chain && sameDigest(b, s));
      if (same) return { cache: 'hit', reason: { code: 'unchanged', message: `base image ${s.base?.ref} unchanged${s.base?.digest ? ` (${short(s.base.digest)})` : ''}` }, baselineStep: same };
      const byRef = prev.find((b) => b.base?.ref === s.base?.ref && b.base?.platform === s.base?.platform);
      const was = byRef ?? prev.find((b) => b.stageIndex === s.stageIndex) ?? prev[0];
      const msg = byRef
        ? `base image ${s.base?.ref} now resolves to ${short(s.base?.digest)} (was ${short(byRef.base?.digest)})`
        : `base image changed: ${was?.base?.ref ?? '(none)'}${was?.base?.platform ? ` (${was.base.platform})` : ''} → ${s.base?.ref}${s.base?.platform ? ` (${s.base.platform})` : ''}`;
      return { cache: 'miss', reason: { code: 'base-changed', message: msg, causeLine: s.line } };
    }

    if (!parent) return { cache: 'unknown', reason: { code: 'cannot-tell', message: 'no parent step' } };
    if (s.kind === 'config') {
      if (parent.cache === 'hit') return { cache: 'hit', reason: { code: 'config-only', message: 'config only: no build step, the image config changes' } };
      if (parent.cache === 'miss') {
        const line = parent.reason.causeLine ?? current.steps[s.parent!]!.line;
        return { cache: 'miss', reason: { code: 'parent-miss', message: `re-runs: line ${line} missed`, causeLine: line } };
      }
      return { cache: parent.cache, reason: { ...parent.reason } };
    }
    if (parent.cache === 'miss') {
      const line = parent.reason.causeLine ?? current.steps[s.parent!]!.line;
      return { cache: 'miss', reason: { code: 'parent-miss', message: `re-runs: line ${line} missed`, causeLine: line } };
    }
    if (parent.cache !== 'hit') return { cache: 'unknown', reason: { code: parent.reason.code === 'parent-unknown' ? 'parent-unknown' : 'parent-unknown', message: `depends on line ${parent.reason.causeLine ?? current.steps[s.parent!]!.line}, which cannot be predicted`, causeLine: parent.reason.causeLine ?? current.steps[s.parent!]!.line } };
    if (s.fromStage !== undefined) {
      const st = stageStatus(s.fromStage);
      if (st && st.cache !== 'hit') {
        const name = current.steps.find((x) => x.stageIndex === s.fromStage)?.stage ?? String(s.fromStage);
        return { cache: 'unknown', reason: { code: 'stage-changed', message: `stage ${name} re-runs (line ${st.reason.causeLine ?? lineOf(st)}); the outcome depends on what it outputs`, causeLine: st.reason.causeLine } };
      }
    }
    const same = s.chain ? byChain.get(s.chain) : undefined;
    if (same) return { cache: 'hit', reason: { code: 'unchanged', message: 'inputs unchanged since the last build' }, baselineStep: same };
    const cause = firstCause(s, current.steps[s.parent!]!.chain);
    // The baseline has no content digest for this URL (recorded by an older Strata): BuildKit may still hit.
    if (cause.code === 'remote-unrecorded') return { cache: 'unknown', reason: { ...cause, code: 'cannot-tell', causeLine: s.line } };
    return { cache: 'miss', reason: { ...cause, causeLine: s.line } };
  }

  function lineOf(st: Status): number | undefined { return st.reason.causeLine; }

  function firstCause(s: StepInputs, parentChain: string | null): PredictionReason {
    const cands = (parentChain ? children.get(parentChain) : undefined) ?? [];
    const was = cands.find((c) => c.line === s.line && c.instruction === s.instruction)
      ?? cands.find((c) => c.instruction === s.instruction) ?? cands[0];
    if (!was && s.remote && parentChain) {
      // The baseline could not key this ADD (recorded without downloading its URL, so its chain is null): BuildKit
      // may well hit, so this is not a miss.
      const unkeyed = base!.steps.find((b) => b.line === s.line && b.instruction === s.instruction && !b.chain && !b.remote
        && b.parent != null && base!.steps[b.parent]!.chain === parentChain);
      if (unkeyed) return { code: 'remote-unrecorded', message: `the last build recorded no content digest for ${s.remote[0]!.url}` };
    }
    if (!was) return { code: 'instruction-changed', message: 'new step: nothing like it followed the previous step in the last build' };
    if (was.instruction !== s.instruction) return { code: 'instruction-changed', message: `${was.instruction} (line ${was.line}) became ${s.instruction}` };
    const a = was.detail;
    const b = s.detail;
    if (a.raw !== b.raw) return { code: 'instruction-changed', message: 'instruction text changed' };
    if (a.expanded !== b.expanded) {
      for (const [k, v] of Object.entries(b.vars)) {
        const o = a.vars[k];
        if (!o || o.value !== v.value) {
          return { code: v.origin === 'env' ? 'env-changed' : 'arg-changed', message: `${v.origin === 'env' ? 'ENV' : 'ARG'} ${k} changed: ${show(o?.value)} → ${show(v.value)}` };
        }
      }
      return { code: 'instruction-changed', message: 'expanded instruction changed' };
    }
    const names = new Set([...Object.keys(a.env), ...Object.keys(b.env)]);
    for (const k of [...names].sort()) {
      const o = a.env[k];
      const v = b.env[k];
      if (o?.value !== v?.value) {
        const origin = (v ?? o)!.origin;
        return { code: origin === 'env' ? 'env-changed' : 'arg-changed', message: `${origin === 'env' ? 'ENV' : 'ARG'} ${k} changed: ${show(o?.value)} → ${show(v?.value)}` };
      }
    }
    if (a.workdir !== b.workdir) return { code: 'workdir-changed', message: `WORKDIR changed: ${a.workdir} → ${b.workdir}` };
    if (a.user !== b.user) return { code: 'user-changed', message: `USER changed: ${a.user || '(root)'} → ${b.user || '(root)'}` };
    if (a.shell !== b.shell && s.instruction === 'RUN') return { code: 'shell-changed', message: `SHELL changed: ${a.shell} → ${b.shell}` };
    if (s.sources && was.sources) return fileCause(was, s);
    if (s.remote) return remoteCause(was, s);
    return { code: 'instruction-changed', message: 'cache key changed' };
  }

  function remoteCause(was: StepInputs, s: StepInputs): PredictionReason {
    const before = new Map((was.remote ?? []).map((r) => [r.url, r]));
    for (const r of s.remote ?? []) {
      const o = before.get(r.url);
      if (!o) return { code: 'remote-unrecorded', message: `the last build recorded no content digest for ${r.url}` };
      if (o.digest !== r.digest) {
        return { code: 'remote-changed', message: `${r.url} changed since the last build (${short(o.digest)}, ${o.size} bytes → ${short(r.digest)}, ${r.size} bytes)`, paths: [r.url] };
      }
    }
    return { code: 'instruction-changed', message: 'cache key changed' };
  }

  function fileCause(was: StepInputs, s: StepInputs): PredictionReason {
    const A = entriesOf(base!, was);
    const B = entriesOf(current, s, currentKeys);
    if (!A || !B) return { code: 'file-changed', message: 'the selected files changed since the last build' };
    const changed: string[] = [];
    const meta: string[] = [];
    const added: string[] = [];
    const removed: string[] = [];
    for (const [p, k] of Object.entries(B)) {
      const o = A[p];
      if (o === undefined) added.push(p);
      else if (o !== k) (sameContent(o, k) ? meta : changed).push(p);
    }
    for (const p of Object.keys(A)) if (!(p in B)) removed.push(p);
    const underIgnored = (p: string, roots: string[]) => roots.some((r) => p === r || p.startsWith(r + '/'));
    const ignoredNow = removed.filter((p) => underIgnored(p, current.ignoredRoots));
    const ignoredBefore = added.filter((p) => underIgnored(p, base!.ignoredRoots ?? []));
    const pick = (code: string, paths: string[], what: string): PredictionReason => ({
      code,
      message: `${paths.length === 1 ? paths[0] : `${paths[0]} and ${paths.length - 1} more`} ${what}`,
      paths: paths.slice(0, 50),
    });
    if (ignoreChanged && (ignoredNow.length || ignoredBefore.length)) {
      const paths = [...ignoredNow, ...ignoredBefore];
      return pick('ignore-changed', paths, `${ignoredNow.length ? 'now excluded' : 'now included'} by .dockerignore`);
    }
    if (changed.length) return pick('file-changed', changed, 'changed since the last build');
    if (added.length) return pick('file-added', added, 'added since the last build');
    if (removed.length) return pick('file-removed', removed, 'removed since the last build');
    if (meta.length) return pick('metadata-changed', meta, 'changed mode or link target');
    return { code: 'instruction-changed', message: 'cache key changed' };
  }

  const instructions: PredictedInstruction[] = current.steps.map((s, i) => {
    const st = status[i]!;
    const out: PredictedInstruction = {
      line: s.line,
      endLine: s.endLine,
      stage: s.stageIndex < 0 ? '' : s.stage,
      stageIndex: s.stageIndex,
      instruction: s.instruction,
      createsLayer: s.kind === 'layer',
      kind: s.kind,
      cache: st.cache,
      reason: st.reason,
      explanation: explain(s, st),
    };
    if (st.cache === 'hit' && st.baselineStep && sizes.has(st.baselineStep.line) && s.kind !== 'config') out.size = sizes.get(st.baselineStep.line);
    return out;
  });
  const summary = { hit: 0, miss: 0, unknown: 0, skipped: 0 };
  for (const p of instructions) if (p.kind !== 'config') summary[p.cache]++;
  return {
    dockerfile: current.dockerfile,
    target: current.target,
    baseline: baseline && base ? { id: baseline.id, builtAt: baseline.builtAt } : null,
    instructions,
    summary,
    ...(baseNotice && !base ? { notice: baseNotice } : {}),
    ...(current.problems.length ? { problems: current.problems } : {}),
  };
}

/** Hover lines: what the key is made of, and the verdict. */
function explain(s: StepInputs, st: Status): string[] {
  const lines: string[] = [];
  const verdict = st.cache === 'hit' ? 'cache hit' : st.cache === 'miss' ? 'cache miss' : st.cache;
  lines.push(`${verdict}: ${st.reason.message} [${st.reason.code}]`);
  if (st.reason.paths?.length) lines.push(`paths: ${st.reason.paths.slice(0, 10).join(', ')}${st.reason.paths.length > 10 ? ', …' : ''}`);
  if (s.kind === 'config') {
    lines.push('config only: changes the image config, no build step and no layer');
    return lines;
  }
  lines.push('cache key inputs:');
  if (s.kind === 'base') {
    lines.push(`- base image: ${s.base?.ref}${s.base?.platform ? ` (${s.base.platform})` : ''}${s.base?.digest ? ` = ${short(s.base.digest)}` : s.base?.stageRef != null ? ' (a stage of this file)' : ' (digest not resolved: engine unreachable or image not local)'}`);
    return lines;
  }
  lines.push('- the previous step\'s cache key (chain)');
  lines.push(`- instruction: ${s.detail.expanded}`);
  if (s.instruction === 'RUN') {
    const env = Object.entries(s.detail.env).map(([k, v]) => `${k}=${v.value}${v.origin === 'arg' ? ' (ARG)' : ''}`);
    lines.push(`- environment: ${env.length ? env.join(', ') : '(none)'}`);
    lines.push(`- workdir ${s.detail.workdir}, user ${s.detail.user || 'root'}, shell ${s.detail.shell}`);
  }
  if (s.sources) lines.push(`- content of ${s.sources.count ?? Object.keys(s.sources.files ?? {}).length} selected context entries (after .dockerignore; content, mode, link targets, not mtimes): ${s.sources.digest.slice(0, 12)}`);
  for (const r of s.remote ?? []) lines.push(`- content of ${r.url} (downloaded for this prediction, as BuildKit does on every build): ${short(r.digest)}, ${r.size} bytes`);
  if (s.fromStage !== undefined) lines.push(`- the output of stage ${s.fromStage}`);
  return lines;
}

/** A step's selected entries (path → key): from a legacy per-step map, the snapshot's manifest, or the live index. */
function entriesOf(inputs: BuildInputs, s: StepInputs, live?: SelectionKeys): Record<string, string> | null {
  const src = s.sources;
  if (!src) return null;
  if (src.files) return src.files;
  if (!src.select) return null;
  if (inputs.files) return selectFromManifest(inputs.files, src.select);
  return live ? live(src.select) : null;
}

function ranSteps(inputs: BuildInputs, record: BuildRecord): StepInputs[] {
  const outcome = new Map<number, string>();
  for (const st of record.steps ?? []) outcome.set(st.line, st.outcome);
  return inputs.steps.filter((s) => {
    if (s.skipped || !s.chain) return false;
    const o = outcome.get(s.line);
    if (o !== undefined) return o === 'cached' || o === 'built';
    // Steps BuildKit shows no vertex for (config, FROM of a local image, FROM <stage>): count when the build succeeded.
    return record.exitCode === 0;
  });
}

function isInputs(x: unknown): x is BuildInputs {
  return !!x && typeof x === 'object' && (x as BuildInputs).version === BUILD_INPUTS_VERSION && Array.isArray((x as BuildInputs).steps);
}

function sameDigest(a: StepInputs, b: StepInputs): boolean {
  const x = a.base?.digest ?? null;
  const y = b.base?.digest ?? null;
  return x === null || y === null || x === y;
}

function sameContent(a: string, b: string): boolean {
  const [ta, , ...ra] = a.split(':');
  const [tb, , ...rb] = b.split(':');
  return ta === tb && ra.join(':') === rb.join(':') && ta !== 'symlink';
}

function short(d: string | null | undefined): string {
  if (!d) return '(unresolved)';
  return d.replace(/^sha256:/, '').slice(0, 12);
}

function show(v: string | null | undefined): string {
  return v === undefined || v === null ? '(unset)' : JSON.stringify(v);
}
