// Helpers for the real-engine cache suite: build with /usr/bin/docker (BuildKit, --progress=plain), read the
// per-step outcome from the log (`#N [stage i/n] …` then `#N CACHED`), map vertices to Dockerfile lines.
import { execFile } from 'node:child_process';
import { parseDockerfileModel } from '../../server/src/dockerfile/dockerfileModel';
import { evaluateDockerfile } from '../../server/src/dockerfile/evaluateDockerfile';

export const DOCKER = process.env.STRATA_DOCKER ?? '/usr/bin/docker';
export const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';

export function engineAvailable(): boolean {
  return !!process.env.DOCKER_HOST;
}

export function docker(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(DOCKER, args, { cwd: opts.cwd, env: { ...process.env, DOCKER_BUILDKIT: '1' }, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, out: `${stdout}${stderr}` });
      });
  });
}

export interface StepOutcome { line: number; vertex: string; cached: boolean }

/**
 * Per Dockerfile line, what BuildKit did. Vertex `[stage i/n]`: i counts the stage's steps that make a vertex
 * (FROM of an image, then RUN/COPY/ADD/WORKDIR; a FROM naming a stage makes none) — dockerfile2llb's numbering.
 */
export function parseBuildLog(log: string, dockerfileText: string, buildArgs: Record<string, string>, target: string | null): StepOutcome[] {
  const model = parseDockerfileModel(dockerfileText);
  const ev = evaluateDockerfile(model, { buildArgs, target });
  const vertexLines = new Map<string, number[]>();
  for (const s of ev.steps) {
    if (s.stageIndex < 0) continue;
    const makes = s.kind === 'base' ? s.baseStage === undefined : s.kind !== 'config';
    if (!makes) continue;
    const list = vertexLines.get(s.stage) ?? [];
    list.push(s.ins.line);
    vertexLines.set(s.stage, list);
  }
  const single = model.stages.length === 1;
  const byId = new Map<string, StepOutcome>();
  for (const line of log.split('\n')) {
    const m = /^#(\d+) \[(?:(\S+) )?(\d+)\/(\d+)\] (.*)$/.exec(line);
    if (m) {
      const stage = m[2] ?? (single ? ev.steps.find((s) => s.stageIndex === 0)!.stage : 'stage-0');
      const lines = vertexLines.get(stage);
      const l = lines?.[Number(m[3]) - 1];
      if (l !== undefined && !byId.has(m[1]!)) byId.set(m[1]!, { line: l, vertex: `[${m[2] ?? ''} ${m[3]}/${m[4]}] ${m[5]}`, cached: false });
      continue;
    }
    const c = /^#(\d+) CACHED/.exec(line);
    if (c && byId.has(c[1]!)) byId.get(c[1]!)!.cached = true;
  }
  return [...byId.values()].sort((a, b) => a.line - b.line);
}
