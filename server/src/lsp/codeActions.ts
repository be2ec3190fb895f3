/**
 * Quick fixes for Strata's and BuildKit's diagnostics: the rule's own fix where it is certain, "ignore this rule
 * here" (`# strata-ignore <id>`, or `# check=skip=<Rule>` for BuildKit's rules so `docker build --check` honours it
 * too), and fix-all in file (as a quick fix and as `source.fixAll`). The fixes are recomputed from the current text
 * (cheap next to a round trip) and matched to the client's diagnostics by rule and start position.
 */
import { CodeAction, CodeActionKind, type CodeActionParams, type Diagnostic, type TextEdit } from 'vscode-languageserver';
import { checkDockerfile, type StrataDiagnosticWithFix } from '../rules/checkDockerfile';
import { toCheckOptions, type SerializableCheckOptions } from '../rules/checkSettings';
import { scanDockerfile } from '../rules/dockerfileScan';
import { BUILDKIT_RULE_BY_NAME } from '../rules/buildkit/buildkitRules';

const FILE_LEVEL_BUILDKIT = new Set(['ConsistentInstructionCasing', 'DuplicateStageName', 'ReservedStageName', 'InvalidDefaultArgInFrom', 'NoEmptyContinuation']);

export const FIX_ALL_KIND = CodeActionKind.SourceFixAll + '.strata';

function toLspEdits(d: StrataDiagnosticWithFix): TextEdit[] {
  return (d.fix?.edits ?? []).map((e) => ({ range: { start: { line: e.line, character: e.character }, end: { line: e.endLine, character: e.endCharacter } }, newText: e.newText }));
}

/** Non-overlapping edits of every fixable finding (first come first served; a fix is taken whole or not at all). */
export function fixAllEdits(found: StrataDiagnosticWithFix[]): TextEdit[] {
  const taken: TextEdit[] = [];
  const key = (p: { line: number; character: number }) => p.line * 1e6 + p.character;
  const overlaps = (a: TextEdit, b: TextEdit) => key(a.range.start) <= key(b.range.end) && key(b.range.start) <= key(a.range.end);
  for (const d of found) {
    if (!d.fix) continue;
    const edits = toLspEdits(d);
    if (edits.some((e) => taken.some((t) => overlaps(e, t)))) continue;
    taken.push(...edits);
  }
  return taken;
}

export function computeCodeActions(text: string, params: CodeActionParams, settings?: SerializableCheckOptions): CodeAction[] {
  const uri = params.textDocument.uri;
  const only = params.context.only;
  const wantsFixAll = !!only?.some((k) => FIX_ALL_KIND.startsWith(k) || k === CodeActionKind.Source);
  const ours = params.context.diagnostics.filter((d) => d.source === 'strata' && typeof d.code === 'string');
  if (!wantsFixAll && ours.length === 0) return [];
  const found = checkDockerfile(text, toCheckOptions(settings));
  const actions: CodeAction[] = [];
  if (wantsFixAll) {
    const edits = fixAllEdits(found);
    if (edits.length > 0) actions.push({ title: 'Fix all auto-fixable Strata problems', kind: FIX_ALL_KIND, edit: { changes: { [uri]: edits } } });
    if (only && only.every((k) => k.startsWith(CodeActionKind.Source))) return actions;
  }
  const scan = ours.length > 0 ? scanDockerfile(text) : null;
  let fixableCount = 0;
  for (const d of ours) {
    const rule = String(d.code);
    const match = found.find((f) => f.rule === rule && f.line === d.range.start.line && f.character === d.range.start.character)
      ?? found.find((f) => f.rule === rule && f.line === d.range.start.line);
    if (match?.fix) {
      fixableCount++;
      actions.push({ title: match.fix.title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true, edit: { changes: { [uri]: toLspEdits(match) } } });
    }
    if (rule.startsWith('syntax/') || !scan) continue;
    const suppress = suppressAction(scan, text, uri, d, rule);
    if (suppress) actions.push(suppress);
  }
  if (fixableCount > 0) {
    const edits = fixAllEdits(found);
    if (edits.length > 1) actions.push({ title: 'Fix all auto-fixable Strata problems in this file', kind: CodeActionKind.QuickFix, edit: { changes: { [uri]: edits } } });
  }
  return actions;
}

function suppressAction(scan: ReturnType<typeof scanDockerfile>, text: string, uri: string, d: Diagnostic, rule: string): CodeAction | null {
  const line = d.range.start.line;
  const ins = scan.instructions.find((i) => i.startLine <= line && line <= i.endLine);
  if (!ins) return null;
  const indent = (scan.lines[ins.startLine] ?? '').match(/^\s*/)![0];
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  // BuildKit honours a per-instruction `# check=skip=` only for rules checked per instruction, and only the first
  // such comment; otherwise fall back to `# strata-ignore` (honoured by Strata, not by docker build --check).
  const buildkit = BUILDKIT_RULE_BY_NAME.has(rule) && !FILE_LEVEL_BUILDKIT.has(rule)
    && !ins.prevComments.some((c) => /^check\s*=/.test(c));
  const comment = buildkit ? `# check=skip=${rule}` : `# strata-ignore ${rule}`;
  return {
    title: buildkit ? `Skip ${rule} for this instruction (# check=skip)` : `Ignore ${rule} for this instruction`,
    kind: CodeActionKind.QuickFix,
    diagnostics: [d],
    edit: { changes: { [uri]: [{ range: { start: { line: ins.startLine, character: 0 }, end: { line: ins.startLine, character: 0 } }, newText: indent + comment + eol }] } },
  };
}
