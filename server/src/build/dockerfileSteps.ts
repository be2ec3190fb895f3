/**
 * The Dockerfile as the build runner sees it: stages and their instructions with 1-based lines, the text BuildKit
 * would show for each (continuations joined), and which stages a target needs.
 */
import { DockerfileParser, type From } from 'dockerfile-ast';

export interface DockerfileStep {
  /** 1-based lines. */
  line: number;
  endLine: number;
  stageIndex: number;
  keyword: string;
  /** The instruction as BuildKit prints it: continuation lines joined, e.g. `RUN a &&     b`. */
  text: string;
  /** For FROM: the image or stage reference (may contain `$VARS`). */
  from?: string;
}

export interface DockerfileStage {
  index: number;
  /** `AS name` (lowercased, as BuildKit treats stage names), or null. */
  name: string | null;
  /** Index of the stage this one is `FROM`, or null when it starts from an image (or `scratch`). */
  parent: number | null;
  fromLine: number;
  steps: DockerfileStep[];
}

export interface DockerfileModel {
  stages: DockerfileStage[];
  steps: DockerfileStep[];
}

export function parseDockerfileSteps(text: string): DockerfileModel {
  const doc = DockerfileParser.parse(text);
  const escape = doc.getEscapeCharacter();
  const lines = text.split(/\r?\n/);
  const stages: DockerfileStage[] = [];
  const steps: DockerfileStep[] = [];
  for (const ins of doc.getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase();
    const r = ins.getRange();
    const step: DockerfileStep = {
      line: r.start.line + 1,
      endLine: r.end.line + 1,
      stageIndex: keyword === 'FROM' ? stages.length : Math.max(0, stages.length - 1),
      keyword,
      text: joinContinuations(lines.slice(r.start.line, r.end.line + 1), escape),
    };
    if (keyword === 'FROM') {
      const from = ins as From;
      const image = from.getImage() ?? '';
      const name = from.getBuildStage();
      const lower = image.toLowerCase();
      const parent = stages.find((s) => s.name !== null && s.name === lower)?.index ?? (/^\d+$/.test(image) && Number(image) < stages.length ? Number(image) : null);
      step.from = image;
      stages.push({ index: stages.length, name: name ? name.toLowerCase() : null, parent, fromLine: step.line, steps: [] });
    }
    if (stages.length === 0) continue; // ARG before the first FROM: global, not a build step
    stages[stages.length - 1]!.steps.push(step);
    steps.push(step);
  }
  return { stages, steps };
}

/** Joins an instruction's physical lines like BuildKit: drop the escape+newline and comment lines in between. */
function joinContinuations(physical: string[], escape: string): string {
  let out = '';
  physical.forEach((l, i) => {
    if (i > 0 && /^\s*#/.test(l)) return;
    const trimmedEnd = l.replace(/\s+$/, '');
    if (i < physical.length - 1 && trimmedEnd.endsWith(escape)) out += trimmedEnd.slice(0, -1);
    else out += l;
  });
  return out.trim();
}

/**
 * Stages the build of `target` executes: the target and everything it reaches through FROM, `COPY --from` and
 * `RUN --mount=from=`. BuildKit skips the rest (it does not build unused stages).
 */
export function neededStages(model: DockerfileModel, target: string | null): Set<number> {
  const byName = new Map<string, number>();
  for (const s of model.stages) if (s.name) byName.set(s.name, s.index);
  const resolve = (ref: string): number | null => {
    const lower = ref.toLowerCase();
    if (byName.has(lower)) return byName.get(lower)!;
    if (/^\d+$/.test(ref) && Number(ref) < model.stages.length) return Number(ref);
    return null;
  };
  let root = model.stages.length - 1;
  if (target) root = resolve(target) ?? root;
  const need = new Set<number>();
  const visit = (i: number) => {
    if (need.has(i) || i < 0) return;
    need.add(i);
    const stage = model.stages[i]!;
    if (stage.parent !== null) visit(stage.parent);
    for (const st of stage.steps) {
      for (const m of st.text.matchAll(/(?:^|[\s,])(?:--)?from=("?)([^\s",]+)\1/g)) {
        const j = resolve(m[2]!);
        if (j !== null) visit(j);
      }
    }
  };
  if (root >= 0) visit(root);
  return need;
}

/** Instructions that run something (get their own vertex) in every BuildKit version we know. */
export const VERTEX_KEYWORDS = new Set(['RUN', 'COPY', 'ADD', 'WORKDIR']);
