/**
 * `runBuildkitChecks` for one document as it is edited: the previous result when nothing BuildKit's checks read has
 * changed since the previous run, else a new run.
 *
 * Most keystrokes land in a `RUN`'s script, and BuildKit's checks never read a `RUN`'s arguments: they see its keyword,
 * flags, comments, position and empty continuation lines only (the script goes to the shell; `buildkitChecks.ts`
 * reads `rest` for FROM, ARG, ENV, LABEL, COPY, ADD, WORKDIR, USER, STOPSIGNAL, VOLUME, CMD, ENTRYPOINT, EXPOSE).
 * So typing in a script, the costliest place to type in most Dockerfiles, re-runs nothing here. The comparison reads
 * exactly the fields `runBuildkitChecks` reads (keep `sameForBuildkit` in step with it; the random-edit test in
 * test/server/rules/incrementalChecker.test.ts compares every result with a full check) and costs a few field
 * comparisons per instruction: the incremental scan hands back unchanged instructions as the same objects.
 */
import type { DockerfileScan, ScanInstruction } from '../dockerfileScan';
import { runBuildkitChecks, type BuildkitCheckOptions, type BuildkitResult } from './buildkitChecks';

/** Instructions whose arguments (`rest`) `runBuildkitChecks` never reads. */
const REST_UNREAD = new Set(['RUN', 'ONBUILD', 'MAINTAINER', 'SHELL']);

export class BuildkitCheckMemo {
  private last: { scan: DockerfileScan; options: BuildkitCheckOptions; result: BuildkitResult } | undefined;
  /** Whether the last `run` reused the previous result (tests, benchmark). */
  reused = false;

  run(scan: DockerfileScan, options: BuildkitCheckOptions): BuildkitResult {
    const last = this.last;
    if (last && sameOptions(last.options, options) && sameScanForBuildkit(last.scan, scan)) {
      this.last = { scan, options, result: last.result };
      this.reused = true;
      return last.result;
    }
    const result = runBuildkitChecks(scan, options);
    this.last = { scan, options, result };
    this.reused = false;
    return result;
  }
}

function sameOptions(a: BuildkitCheckOptions, b: BuildkitCheckOptions): boolean {
  return (a.dockerignore ?? null) === (b.dockerignore ?? null) && (a.target ?? null) === (b.target ?? null)
    && (a.allStages ?? true) === (b.allStages ?? true) && sameMap(a.buildArgs, b.buildArgs);
}

function sameMap(a: ReadonlyMap<string, string> | undefined, b: ReadonlyMap<string, string> | undefined): boolean {
  if (a === b) return true;
  if ((a?.size ?? 0) !== (b?.size ?? 0)) return false;
  if (!a || !b) return true; // both empty
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function sameScanForBuildkit(a: DockerfileScan, b: DockerfileScan): boolean {
  if (a.escape !== b.escape || a.directives.length !== b.directives.length || a.instructions.length !== b.instructions.length) return false;
  for (let i = 0; i < a.directives.length; i++) {
    if (a.directives[i].name !== b.directives[i].name || a.directives[i].value !== b.directives[i].value) return false;
  }
  for (let i = 0; i < a.instructions.length; i++) if (!sameForBuildkit(a.instructions[i], b.instructions[i])) return false;
  return true;
}

/** Equal in every field `runBuildkitChecks` reads. */
export function sameForBuildkit(a: ScanInstruction, b: ScanInstruction): boolean {
  if (a === b) return true;
  if (a.keyword !== b.keyword || a.upper !== b.upper || a.startLine !== b.startLine || a.endLine !== b.endLine
    || a.textEndLine !== b.textEndLine || a.column !== b.column || a.hasEmptyContinuation !== b.hasEmptyContinuation) return false;
  if (!REST_UNREAD.has(a.upper) && a.rest !== b.rest) return false;
  if (a.flags.length !== b.flags.length || a.prevComments.length !== b.prevComments.length || a.heredocs.length !== b.heredocs.length) return false;
  for (let i = 0; i < a.flags.length; i++) if (a.flags[i].name !== b.flags[i].name || a.flags[i].value !== b.flags[i].value) return false;
  for (let i = 0; i < a.prevComments.length; i++) if (a.prevComments[i] !== b.prevComments[i]) return false;
  for (let i = 0; i < a.heredocs.length; i++) if (a.heredocs[i].name !== b.heredocs[i].name) return false;
  return true;
}
