/**
 * Maps BuildKit vertex names to Dockerfile lines.
 *
 * A step vertex is named `[<platform> <stage> <i>/<n>] <instruction as written, continuations joined, ARGs maybe
 * expanded>`; `<stage>` is the `AS` name, `stage-<index>` for unnamed stages of a multi-stage file, absent for a
 * single stage; `<i>` may be space-padded (`[ 3/14]`). We do not trust the counter alone (engines differ in which
 * instructions they count, and identical FROMs are deduplicated into one vertex): the stage comes from the name,
 * the instruction from its keyword and text (exact, then with `$VAR`s as wildcards), and the counter only breaks
 * ties between identical instructions of one stage.
 */
import { VERTEX_KEYWORDS, type DockerfileModel, type DockerfileStep } from './dockerfileSteps';

export type VertexKind = 'step' | 'definition' | 'dockerignore' | 'metadata' | 'context' | 'export' | 'auth' | 'other';

export interface VertexMapping {
  kind: VertexKind;
  step: DockerfileStep | null;
  /** The `i/n` counter, when the name has one. */
  index: number | null;
  total: number | null;
  /** The instruction part of the name (`RUN npm ci`), or the whole name for internal vertices. */
  label: string;
}

const STEP_NAME = /^\[([^\]]*?)\s*(\d+)\/(\d+)\]\s+(.*)$/s;

export class VertexLineMapper {
  private readonly byName = new Map<string, VertexMapping>();
  private readonly claimed = new Set<DockerfileStep>();

  constructor(private readonly model: DockerfileModel) {}

  map(name: string): VertexMapping {
    const known = this.byName.get(name);
    if (known) return known;
    const mapping = this.compute(name);
    if (mapping.step) this.claimed.add(mapping.step);
    this.byName.set(name, mapping);
    return mapping;
  }

  private compute(name: string): VertexMapping {
    const internal = internalKind(name);
    if (internal) return { kind: internal, step: null, index: null, total: null, label: name };
    const m = STEP_NAME.exec(name);
    if (!m) return { kind: 'other', step: null, index: null, total: null, label: name };
    const prefix = m[1]!.trim().split(/\s+/).filter((t) => t && !t.includes('/'));
    const index = Number(m[2]);
    const total = Number(m[3]);
    const label = m[4]!;
    const stageToken = prefix.at(-1)?.toLowerCase();
    const step = this.findStep(stageToken, index, label);
    return { kind: 'step', step, index, total, label };
  }

  private findStep(stageToken: string | undefined, index: number, label: string): DockerfileStep | null {
    const stages = this.model.stages;
    let candidates = stages;
    if (stageToken) {
      const named = stages.filter((s) => s.name === stageToken);
      const numbered = /^stage-(\d+)$/.exec(stageToken);
      candidates = named.length > 0 ? named : numbered ? stages.filter((s) => s.index === Number(numbered[1])) : [];
      if (candidates.length === 0) candidates = stages;
    }
    const keyword = /^(\S+)/.exec(label)?.[1]?.toUpperCase() ?? '';
    const rest = normalize(label.slice(keyword.length));
    let best: { step: DockerfileStep; score: number } | null = null;
    for (const stage of candidates) {
      let ordinal = 0;
      for (const step of stage.steps) {
        const counted = step.keyword === 'FROM' ? stage.parent === null : VERTEX_KEYWORDS.has(step.keyword);
        if (counted) ordinal++;
        if (step.keyword !== keyword) continue;
        let score = 1;
        const own = normalize(step.text.slice(step.keyword.length));
        if (keyword === 'FROM') score = 4; // one FROM per stage: the stage decides
        else if (own === rest) score = 4;
        else if (wildcardMatch(own, rest)) score = 3;
        if (counted && ordinal === index) score += 0.5;
        if (!this.claimed.has(step)) score += 0.25;
        if (!best || score > best.score) best = { step, score };
      }
    }
    return best?.step ?? null;
  }
}

function internalKind(name: string): VertexKind | null {
  if (/^\[[^\]]*internal\] load build definition/.test(name)) return 'definition';
  if (/^\[[^\]]*internal\] load \.dockerignore/.test(name)) return 'dockerignore';
  if (/load build context$/.test(name) || /^\[[^\]]*context [^\]]*\]/.test(name)) return 'context';
  if (/^\[[^\]]*internal\] load metadata for /.test(name) || /^resolve image config for /.test(name)) return 'metadata';
  if (/^\[auth\]/.test(name)) return 'auth';
  if (/^exporting (to|cache|layers|manifest|config)/.test(name) || /^(writing|naming|unpacking) /.test(name)) return 'export';
  if (/^\[[^\]]*internal\]/.test(name)) return 'other';
  return null;
}

function normalize(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** `echo $V ${W:-x}` matches `echo 7 x`: each variable reference may have become any text. */
function wildcardMatch(pattern: string, text: string): boolean {
  if (!/\$/.test(pattern)) return false;
  const parts = pattern.split(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/);
  const re = new RegExp(`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?')}$`, 's');
  return re.test(text);
}
