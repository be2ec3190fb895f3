import type { StrataDiagnostic } from './strataDiagnostic';
import { validateSyntax } from './syntaxValidation';

export interface CheckOptions {
  /** Build args given on the command line (the `BUILDKIT_DOCKERFILE_CHECK` form of the check directive among them). */
  buildArgs?: ReadonlyMap<string, string>;
  /** Per-rule severity overrides (`strata.rules.<id>` settings, `.strata.json`). */
  severities?: Readonly<Record<string, string>>;
  /** Called once per rule that threw: the rule is isolated, the others still report. */
  onRuleError?: (rule: string, error: unknown) => void;
}

/** Every diagnostic for one Dockerfile text. Pure: no I/O, never throws. */
export function checkDockerfile(text: string, options: CheckOptions = {}): StrataDiagnostic[] {
  const lineCount = countLines(text);
  try {
    return validateSyntax(text, lineCount);
  } catch (e) {
    options.onRuleError?.('syntax', e);
    return [];
  }
}

export function countLines(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) n++;
  }
  return n;
}
