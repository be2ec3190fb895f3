/**
 * Quick fixes for BuildKit findings where the rewrite is certain: FromAsCasing, StageNameCasing,
 * MaintainerDeprecated (→ LABEL), JSONArgsRecommended (→ exec form, when the command uses no shell syntax),
 * LegacyKeyValueFormat (`ENV a b` → `ENV a=b`). Single-line instructions only.
 */
import { perInstruction, type DockerfileScan, type ScanInstruction } from '../dockerfileScan';
import type { RuleFix } from '../ruleContext';

function replaceLine(ins: ScanInstruction, line: string, start: number, end: number, text: string, title: string): RuleFix {
  void line;
  return { title, edits: [{ line: ins.startLine, character: start, endLine: ins.startLine, endCharacter: end, newText: text }] };
}

/**
 * Fixes by instruction and rule: a fix depends on the instruction and its own line only, and the incremental scan
 * hands unchanged instructions back as the same objects (never mutated), so a finding an edit did not touch keeps its
 * fix without the regular expressions below running again on every keystroke. Callers never mutate a fix.
 */
const fixesOf = perInstruction((): Map<string, RuleFix | undefined> => new Map());

export function buildkitFix(rule: string, ins: ScanInstruction | undefined, scan: DockerfileScan): RuleFix | undefined {
  if (!ins) return undefined;
  const byRule = fixesOf(ins, scan.escape);
  if (byRule.has(rule)) return byRule.get(rule);
  const fix = computeFix(rule, ins, scan);
  byRule.set(rule, fix);
  return fix;
}

function computeFix(rule: string, ins: ScanInstruction, scan: DockerfileScan): RuleFix | undefined {
  if (ins.startLine !== ins.textEndLine) return undefined;
  const line = scan.lines[ins.startLine];
  const restStart = line.length - line.trimStart().length + ins.keyword.length;
  switch (rule) {
    case 'FromAsCasing': {
      const m = /(\s)(as)(\s+\S+\s*)$/i.exec(line);
      if (!m) return undefined;
      const as = ins.keyword === ins.keyword.toUpperCase() ? 'AS' : 'as';
      const at = m.index + m[1].length;
      return replaceLine(ins, line, at, at + 2, as, `Change '${m[2]}' to '${as}'`);
    }
    case 'StageNameCasing': {
      const m = /(\s)(\S+)(\s*)$/.exec(line);
      if (!m) return undefined;
      const at = m.index + m[1].length;
      return replaceLine(ins, line, at, at + m[2].length, m[2].toLowerCase(), `Rename stage to '${m[2].toLowerCase()}'`);
    }
    case 'MaintainerDeprecated': {
      const who = ins.rest.trim();
      return replaceLine(ins, line, ins.column, line.length, `LABEL org.opencontainers.image.authors=${JSON.stringify(who)}`, 'Replace MAINTAINER with a LABEL');
    }
    case 'JSONArgsRecommended': {
      const cmd = ins.rest.trim();
      if (ins.flags.length > 0 || cmd === '' || /[$`'"\\|&;<>(){}*?~#\[\]]/.test(cmd)) return undefined;
      const words = cmd.split(/\s+/);
      return replaceLine(ins, line, restStart, line.length, ' ' + JSON.stringify(words).replace(/","/g, '", "'), `Use the exec form ${ins.upper} [...]`);
    }
    case 'LegacyKeyValueFormat': {
      const m = /^(\S+)\s+([\s\S]*?)\s*$/.exec(ins.rest.trim());
      if (!m || /["'\\]/.test(m[2]) || m[1].includes('=')) return undefined;
      const value = /\s/.test(m[2]) ? `"${m[2]}"` : m[2];
      return replaceLine(ins, line, restStart, line.length, ` ${m[1]}=${value}`, `Use ${ins.upper} ${m[1]}=…`);
    }
    default:
      return undefined;
  }
}
