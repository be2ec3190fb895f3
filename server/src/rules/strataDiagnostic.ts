/**
 * A finding, independent of LSP and of VS Code: the CLI prints it, the server converts it to an LSP Diagnostic.
 * Positions are 0-based here (LSP's convention); the CLI adds 1 when printing.
 */
export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface StrataDiagnostic {
  /** Stable rule id: BuildKit's check names (`FromAsCasing`) or ours (`cache/copy-before-install`, `syntax/unknown-instruction`). */
  rule: string;
  line: number;
  character: number;
  endLine: number;
  endCharacter: number;
  severity: Severity;
  message: string;
  /** True when a quick fix for this finding is certain (see the rule's `fix`). */
  fixable: boolean;
  /** The same check's ids in other linters (hadolint `DL3008`, …). */
  equivalents: string[];
  /** Where the rule is documented. */
  docsUrl?: string;
  /** Marks code that is unnecessary or deprecated, for editors that grey it out. */
  tags?: ('unnecessary' | 'deprecated')[];
}
