import { validate, ValidationCode, ValidatorSettings, ValidationSeverity } from 'dockerfile-utils';
import type { StrataDiagnostic, Severity } from './strataDiagnostic';

/**
 * dockerfile-utils' syntax validation (unknown instructions, bad flags, invalid ports, …) under stable string ids.
 * Its numeric codes are an implementation detail of that package; users see `syntax/<kebab-name>`.
 */
export function syntaxRuleId(code: unknown): string {
  const name = typeof code === 'number' ? ValidationCode[code] : undefined;
  if (!name) return 'syntax/invalid';
  return 'syntax/' + name.toLowerCase().replace(/_/g, '-');
}

/**
 * Settings that turn off the dockerfile-utils checks that BuildKit's rules report better (same finding, BuildKit's name
 * and message), so users never see the same problem twice.
 */
const DEDUPLICATED: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.IGNORE, // MaintainerDeprecated
  instructionCasing: ValidationSeverity.IGNORE, // ConsistentInstructionCasing
  instructionCmdMultiple: ValidationSeverity.IGNORE, // MultipleInstructionsDisallowed
  instructionEntrypointMultiple: ValidationSeverity.IGNORE, // MultipleInstructionsDisallowed
  instructionWorkdirRelative: ValidationSeverity.IGNORE, // WorkdirRelativePath
  instructionJSONInSingleQuotes: ValidationSeverity.WARNING,
};

export function validateSyntax(text: string, lineCount: number): StrataDiagnostic[] {
  const out: StrataDiagnostic[] = [];
  for (const d of validate(text, DEDUPLICATED)) {
    const severity: Severity = d.severity === 1 ? 'error' : d.severity === 2 ? 'warning' : d.severity === 3 ? 'info' : 'hint';
    // dockerfile-utils can report a range one line past the end (empty continuation at EOF): clamp into the document.
    const clampLine = (l: number) => Math.max(0, Math.min(l, Math.max(0, lineCount - 1)));
    const line = clampLine(d.range.start.line);
    const endLine = clampLine(d.range.end.line);
    out.push({
      rule: syntaxRuleId(d.code),
      line,
      character: line === d.range.start.line ? d.range.start.character : 0,
      endLine,
      endCharacter: endLine === d.range.end.line ? d.range.end.character : 0,
      severity,
      message: typeof d.message === 'string' ? d.message : (d.message as { value: string }).value,
      fixable: false,
      equivalents: [],
      tags: d.tags?.includes(2) ? ['deprecated'] : d.tags?.includes(1) ? ['unnecessary'] : undefined,
    });
  }
  return out;
}
