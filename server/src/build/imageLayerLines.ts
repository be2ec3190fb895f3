/**
 * Which Dockerfile line produced each layer of the built image. The image's top layers are the layer-making steps
 * (RUN/COPY/ADD/WORKDIR) of the target stage and the stages it is `FROM`, in order; everything below them is the
 * base image (attributed to the root stage's FROM line). `docker history` gives each layer's size and command;
 * we pair them from the top and keep a line only where the command's keyword agrees with the step.
 */
import type { ImageHistoryEntry } from '../docker/dockerClient';
import { VERTEX_KEYWORDS, type DockerfileModel, type DockerfileStep } from './dockerfileSteps';

export interface LayerLine { diffId: string; size: number; line: number | null; createdBy: string }

export function mapImageLayers(model: DockerfileModel, target: string | null, diffIds: string[], history: ImageHistoryEntry[]): LayerLine[] {
  const layerHistory = history.filter((h) => !h.emptyLayer);
  // When the empty-layer guess and the real layer count disagree, pair from the top (newest) and let the rest go.
  const offset = layerHistory.length - diffIds.length;
  const chain = stageChain(model, target);
  const layerSteps: DockerfileStep[] = chain.flatMap((i) => model.stages[i]!.steps.filter((s) => VERTEX_KEYWORDS.has(s.keyword)));
  const baseLine = chain.length > 0 ? model.stages[chain[0]!]!.fromLine : null;
  const out: LayerLine[] = [];
  for (let i = 0; i < diffIds.length; i++) {
    const h = layerHistory[i + offset];
    const fromTop = diffIds.length - 1 - i;
    const step = layerSteps[layerSteps.length - 1 - fromTop];
    let line: number | null = null;
    const createdBy = h?.createdBy ?? '';
    if (step) line = keywordOf(createdBy) === step.keyword ? step.line : null;
    else line = baseLine;
    out.push({ diffId: diffIds[i]!, size: h?.size ?? 0, line, createdBy });
  }
  return out;
}

/** Stage indexes from the root (FROM an image) to the target, following `FROM <stage>`. */
function stageChain(model: DockerfileModel, target: string | null): number[] {
  let i = model.stages.length - 1;
  if (target) {
    const t = target.toLowerCase();
    const named = model.stages.find((s) => s.name === t);
    if (named) i = named.index;
    else if (/^\d+$/.test(target)) i = Number(target);
  }
  const chain: number[] = [];
  const seen = new Set<number>();
  while (i >= 0 && i < model.stages.length && !seen.has(i)) {
    seen.add(i);
    chain.unshift(i);
    const p = model.stages[i]!.parent;
    if (p === null) break;
    i = p;
  }
  return chain;
}

/** `RUN /bin/sh -c x # buildkit` → RUN; classic `/bin/sh -c #(nop) COPY …` → COPY; `/bin/sh -c x` → RUN. */
function keywordOf(createdBy: string): string {
  const t = createdBy.trim();
  const nop = /^\/bin\/sh -c #\(nop\)\s*([A-Za-z]+)/.exec(t);
  if (nop) return nop[1]!.toUpperCase();
  if (/^\/bin\/sh -c /.test(t)) return 'RUN';
  return /^([A-Za-z]+)/.exec(t)?.[1]?.toUpperCase() ?? '';
}
