/**
 * The cache model's snapshot of everything a build's cache keys depend on, taken right before a build
 * (stored as `BuildRecord.inputs`) and again whenever a prediction is asked for. Comparing the two, step by step,
 * is the prediction. JSON-serialisable, versioned.
 */
export const BUILD_INPUTS_VERSION = 1;

export interface BuildInputs {
  version: typeof BUILD_INPUTS_VERSION;
  /** Absolute paths, as given. */
  dockerfile: string;
  context: string;
  target: string | null;
  buildArgs: Record<string, string>;
  /** sha256 of the .dockerignore text ('' when absent). */
  ignoreDigest: string;
  /** One entry per instruction line of the Dockerfile, FROM included, in file order. */
  steps: StepInputs[];
  /** Snapshot-level problems (unreadable Dockerfile…); per-step ones are on the steps. */
  problems: string[];
  /** Context paths excluded by .dockerignore where the walk stopped (for `ignore-changed`), capped. */
  ignoredRoots: string[];
  /**
   * Manifest of every context entry some COPY/ADD selected: relative path → `<type>:<mode octal>[:<sha256>|:<link>]`,
   * once for all steps. Written into build records (the baseline names changed files from it); live predictions
   * leave it out and ask the index for a missed step's entries instead.
   */
  files?: Record<string, string>;
}

export interface StepInputs {
  /** 1-based first and last line of the instruction. */
  line: number;
  endLine: number;
  stage: string;
  stageIndex: number;
  instruction: string;
  /** RUN/COPY/ADD produce a layer; WORKDIR a step with an empty layer; the rest change the image config only. */
  kind: 'base' | 'layer' | 'empty-layer' | 'config';
  /** The stage is not needed for the target: BuildKit does not run it. */
  skipped: boolean;
  /**
   * The step's own cache-key inputs (everything but the parent and file contents), canonical text:
   * expanded instruction + flags, plus the env/user/workdir/shell a RUN sees. Equal text = equal own key.
   */
  key: string;
  /** The parts of `key`, kept apart to name the first cause of a miss. */
  detail: StepDetail;
  /** For FROM: the reference after ARG expansion and what it resolved to (image id) when the engine was reachable. */
  base?: { ref: string; platform: string | null; digest: string | null; stageRef: number | null };
  /** For COPY/ADD from the context: digest of the selected entries and the sources that select them. */
  sources?: SourceSnapshot;
  /** For `ADD <url>`: each URL and the sha256 of its content when the snapshot was taken (BuildKit keys by it). */
  remote?: { url: string; digest: string; size: number }[];
  /** For COPY --from=<stage>: the stage index it reads. For an external image: its reference/digest in `key`. */
  fromStage?: number;
  /** Index (in `steps`) of the step whose result this step builds on; null for a stage's FROM. */
  parent: number | null;
  /** Why this step's key could not be computed; such a step predicts `unknown`. */
  problem?: string;
  /** Chain key: sha256 over the parent's chain key, `key`, base digest and source digest. Null when not computable. */
  chain: string | null;
}

export interface SourceSnapshot {
  /** sha256 over the sorted selected entries' `<path>\0<key>\n` lines (keys as in `BuildInputs.files`). */
  digest: string;
  /** The COPY/ADD sources after expansion: with `BuildInputs.files` (or the live index) they give the entries. */
  select?: string[];
  /** How many entries the digest covers. */
  count?: number;
  /** Records written before the manifest existed: relative path → key for every selected entry. */
  files?: Record<string, string>;
}

export interface StepDetail {
  /** Instruction source text, whitespace-normalised (comments and continuations do not matter). */
  raw: string;
  /** After variable expansion (what the key really uses). */
  expanded: string;
  /** Variables the text referenced: name → value (null: unset) and origin. */
  vars: Record<string, { value: string | null; origin: 'arg' | 'env' | 'global' }>;
  /** RUN only: the environment, name → value and origin. */
  env: Record<string, { value: string; origin: 'arg' | 'env' | 'global' }>;
  workdir: string;
  user: string;
  shell: string;
}
