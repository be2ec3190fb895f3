/**
 * What Strata remembers about a build: saved by `strata build` / the Build command in the state dir, read back as the
 * cache model's baseline. Versioned: a record of another version or a truncated file is ignored with a notice.
 *
 * Ownership: the build runner (server/src/build/) writes `steps`, `image`, timings; the cache model (server/src/cache/)
 * computes `inputs` before the build (what each step's cache key depends on) and compares against them later.
 */
export const BUILD_RECORD_VERSION = 1;

export interface BuildRecord {
  version: typeof BUILD_RECORD_VERSION;
  /** Unique id of this build (random, hex). */
  id: string;
  /** ISO 8601 time the build started. */
  builtAt: string;
  /** Absolute paths. */
  dockerfile: string;
  context: string;
  target: string | null;
  buildArgs: Record<string, string>;
  tags: string[];
  /** Snapshot of every step's cache-key inputs, computed by the cache model before the build (opaque to the runner). */
  inputs: unknown;
  /** What BuildKit did, per Dockerfile step (instruction line, 1-based). */
  steps: BuildStepRecord[];
  image: { id: string | null; layers: { diffId: string; size: number; line: number | null; createdBy: string }[] } | null;
  exitCode: number;
  durationMs: number;
}

export interface BuildStepRecord {
  /** 1-based first line of the instruction in the Dockerfile. */
  line: number;
  endLine: number;
  stage: string;
  instruction: string;
  /** BuildKit's vertex name, e.g. `[build 3/5] RUN npm ci`. */
  vertex: string;
  /**
   * BuildKit's verdict: `cached` (CACHED), `built` (ran; for FROM: resolved — BuildKit prints DONE for an unchanged
   * local base too), `failed`, `canceled` (build interrupted while it ran), `not-run` (stage not needed for the target,
   * or never reached because an earlier step failed). Steps are the ones BuildKit runs: FROM of an image, RUN, COPY,
   * ADD, WORKDIR; metadata-only instructions (ENV, LABEL, …) have no step record.
   */
  outcome: 'cached' | 'built' | 'failed' | 'canceled' | 'not-run';
  durationMs: number | null;
  error?: string;
}
