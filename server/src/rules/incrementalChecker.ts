/**
 * Diagnostics for one document as it is edited: the same result as `checkDockerfile(text, options)` after every edit,
 * computed from the previous run's work. dockerfile-utils' syntax validation (the dominant cost: a dockerfile-ast
 * parse plus per-instruction checks, several times a bare parse) is redone only for the instructions an edit
 * touched (incrementalSyntax.ts); Strata's scan re-scans only from the instruction an edit touched (incrementalScan.ts);
 * RUN scripts hit the shell-parse memo (shellScript.ts); BuildKit's checks are re-run only when something they read
 * changed (buildkit/buildkitCheckMemo.ts: not when typing in a RUN's script); the rules run on the whole scan (a few
 * milliseconds for 3,000 lines). Keep one checker per document.
 */
import { checkDockerfileWith, type CheckOptions, type CheckParts, type StrataDiagnosticWithFix } from './checkDockerfile';
import { BuildkitCheckMemo } from './buildkit/buildkitCheckMemo';
import { IncrementalSyntaxValidator } from './incrementalSyntax';
import { IncrementalScanner } from './incrementalScan';
import { installAstShims } from '../dockerfile/astShims';

export class IncrementalChecker {
  private readonly syntax = new IncrementalSyntaxValidator();
  private readonly scanner = new IncrementalScanner();
  private readonly buildkit = new BuildkitCheckMemo();
  private readonly parts: CheckParts = {
    syntax: (t, lineCount, lfLines) => this.syntax.validate(t, lineCount, lfLines),
    scan: (t, lfLines) => this.scanner.scan(t, lfLines),
    buildkit: (scan, options) => this.buildkit.run(scan, options),
  };

  constructor() {
    // The incremental validation drives dockerfile-ast's parser item by item; its guards (a heredoc lookup that throws,
    // an unbounded variable recursion) must be in place as they are for the full validation in the server and CLI.
    installAstShims();
  }

  check(text: string, options: CheckOptions = {}): StrataDiagnosticWithFix[] {
    return checkDockerfileWith(text, options, this.parts);
  }

  /** What the last check re-did (for tests and the benchmark). */
  get lastRun(): { full: boolean; reparsedItems: number; cachedItems: number; variableItems: number; unchanged: boolean; wordEdit: boolean } {
    return this.syntax.lastRun;
  }
}
