import { ValidationCode, ValidatorSettings, ValidationSeverity } from 'dockerfile-utils';
import { Validator } from 'dockerfile-utils/lib/dockerValidator';
import type { Diagnostic } from 'vscode-languageserver-types';
import { DockerfileParser } from 'dockerfile-ast';
import { TextDocument } from 'vscode-languageserver-textdocument';
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
export const DEDUPLICATED: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.IGNORE, // MaintainerDeprecated
  instructionCasing: ValidationSeverity.IGNORE, // ConsistentInstructionCasing
  instructionCmdMultiple: ValidationSeverity.IGNORE, // MultipleInstructionsDisallowed
  instructionEntrypointMultiple: ValidationSeverity.IGNORE, // MultipleInstructionsDisallowed
  instructionWorkdirRelative: ValidationSeverity.IGNORE, // WorkdirRelativePath
  instructionJSONInSingleQuotes: ValidationSeverity.WARNING,
};

/**
 * dockerfile-utils checks a stage name with `/^[a-z]([a-z0-9_\-.]*)*$/`, whose nested quantifier backtracks
 * exponentially: `FROM a AS aaaa…a!` with 40 letters takes seconds, with 60 it never ends (found by the fuzz test).
 * Before validating, an invalid stage name gets its first character replaced by `0`, which fails that regex at once
 * (the name stays invalid, same length, so the same diagnostic lands on the same range); the message is then given
 * back the real name. Valid names, and every other text, reach the validator unchanged.
 */
const VALID_STAGE_NAME = /^[a-z][a-z0-9_\-.]*$/;

/** Whether a FROM's third argument (its stage name, lower-cased) would be defused (see above). */
export function stageNameNeedsDefusing(name: string): boolean {
  // Only a name that passes `^[a-z]` can backtrack, and a short one cannot backtrack for long.
  return name.length >= 12 && /^[a-z]/.test(name) && !VALID_STAGE_NAME.test(name);
}

/**
 * The quick test before any defusing: a text without an `f` holds no FROM. It cannot look for `as`: dockerfile-utils
 * tests the third argument of every three-argument FROM, `AS` or not (`FROM img:x{y FROM aaaa…a[b]`, without "as"
 * anywhere, hung the 100,000-file fuzz run), and a keyword may be split by a line continuation (`FR\⏎OM`).
 */
function mayNeedDefusing(text: string): boolean {
  return /[Ff]/.test(text);
}

export function defuseStageNames(text: string): { text: string; renamed: Map<string, string> } {
  const renamed = new Map<string, string>();
  if (!mayNeedDefusing(text)) return { text, renamed };
  // The name as dockerfile-utils sees it: the FROM's third argument, joined across line continuations. The parse is
  // shared with the validator's own (DockerfileParser.parse remembers its last text, see dockerfile/astShims.ts).
  const offsets: number[] = [];
  let doc: TextDocument | undefined;
  for (const from of DockerfileParser.parse(text).getFROMs()) {
    const arg = from.getArguments()[2];
    if (!arg) continue;
    const name = arg.getValue().toLowerCase();
    if (!stageNameNeedsDefusing(name)) continue;
    doc ??= TextDocument.create('file:///Dockerfile', 'dockerfile', 0, text);
    // The character that gives the name its first letter: the argument's first, or the one after it when that is
    // the escape character (`\abc` is `abc`). Swapping that letter keeps the line's split into arguments.
    const start = doc.offsetAt(arg.getRange().start);
    offsets.push(text[start]?.toLowerCase() !== name[0] && text[start + 1]?.toLowerCase() === name[0] ? start + 1 : start);
    renamed.set('0' + name.slice(1), name);
  }
  if (offsets.length === 0) return { text, renamed };
  let out = '';
  let last = 0;
  for (const o of offsets.sort((a, b) => a - b)) {
    out += text.slice(last, o) + '0';
    last = o + 1;
  }
  return { text: out + text.slice(last), renamed };
}

export function validateSyntax(text: string, lineCount: number): StrataDiagnostic[] {
  const defused = defuseStageNames(text);
  // What dockerfile-utils' `validate(text, settings)` does, with our validator.
  const problems = newSyntaxValidator().validate(TextDocument.create('', '', 0, defused.text)) as Diagnostic[];
  return toStrataSyntax(problems, lineCount, defused.renamed);
}

/** The instruction methods the shortcuts use (typed loosely: dockerfile-utils declares these methods private). */
interface CheckedInstruction {
  getKeyword(): string;
  getTextContent(): string;
  getArgumentsRange(): { start: { line: number; character: number } } | null;
  document: { getText(): string; offsetAt(position: { line: number; character: number }): number };
}
type Check = (this: unknown, instruction: CheckedInstruction, problems: unknown[]) => void;

/**
 * dockerfile-utils' Validator with DEDUPLICATED settings and shortcuts with the same output (held to it by
 * test/server/rules/syntaxValidationStock.test.ts, against stock dockerfile-utils). `checkVariables`
 * reports only variables with a modifier (`${A:?}`-style) outside RUN, CMD and ENTRYPOINT, but first builds every
 * variable of every instruction, resolving each against the stage (`Dockerfile.resolveVariable`, a walk over the
 * stage's ENV and ARG instructions) for fields it never reads: after the shared parse, that was the biggest single
 * cost of validating a large file (docs/architecture/rules.md "Cold check"). So it is skipped where it cannot report:
 * for RUN/CMD/ENTRYPOINT (the keywords it exempts) and for an instruction whose text holds no `${` (only dockerfile-ast's
 * `${…}` form, a `$` followed at once by `{` in an argument's raw text, can give a variable a modifier; arguments lie
 * within the instruction's text).
 *
 * `checkJSONQuotes` (CMD, ENTRYPOINT, RUN, VOLUME, SHELL…) reports a JSON array written with single quotes; it
 * rebuilds the arguments' content across continuation lines first (`getArgumentsContent`, the costliest call on a
 * long RUN). Its scan reaches the report only through a `'` after a `[`, both characters of that content, which is
 * made of pieces of the instruction's text: without both in the text it cannot report, and is skipped. Its scan
 * also stops at the first character unless that is `[`, and the content starts at the first argument's start
 * (`getArgumentsRange()`, answered without building the arguments: astShims.ts), so that is checked first too.
 *
 * `getHeredocLines` (RUN and COPY, for the empty-continuation check) asks dockerfile-ast for the instruction's
 * heredocs, a scan of its whole text. dockerfile-ast only makes a heredoc of an argument whose value starts with
 * `<<`, and argument values are made of the text's own characters (escapes and line continuations only remove
 * some): an instruction without a `<` has none, and gets the empty answer at once.
 *
 * `checkArguments` copies every argument of the instruction (a RUN has one per shell word). dockerfile-utils 0.16
 * reaches it for a RUN (or an ONBUILD RUN trigger) only from `validateInstruction`'s RUN case, with a validator that
 * accepts every argument, and a RUN without arguments is exempt from its missing-argument report: for RUN it can
 * report nothing, and is skipped.
 */
export function newSyntaxValidator(): Validator {
  const validator = new Validator(DEDUPLICATED);
  const internals = validator as unknown as {
    checkVariables: Check; checkJSONQuotes: Check; checkArguments: (this: unknown, instruction: CheckedInstruction, ...rest: unknown[]) => void;
    getHeredocLines(instruction: CheckedInstruction): number[];
  };
  const checkVariables = internals.checkVariables;
  internals.checkVariables = function (instruction, problems) {
    switch (instruction.getKeyword()) {
      case 'RUN': case 'CMD': case 'ENTRYPOINT': return;
    }
    if (instruction.getTextContent().indexOf('${') < 0) return;
    checkVariables.call(this, instruction, problems);
  };
  const checkJSONQuotes = internals.checkJSONQuotes;
  internals.checkJSONQuotes = function (instruction, problems) {
    const text = instruction.getTextContent();
    if (text.indexOf("'") < 0 || text.indexOf('[') < 0) return;
    // Its scan stops at once unless the content's first character is `[`; that content starts at the first
    // argument's first character (and is null exactly when there is no argument).
    const args = instruction.getArgumentsRange();
    if (args === null || instruction.document.getText().charAt(instruction.document.offsetAt(args.start)) !== '[') return;
    checkJSONQuotes.call(this, instruction, problems);
  };
  const checkArguments = internals.checkArguments;
  internals.checkArguments = function (instruction, ...rest) {
    if (instruction.getKeyword() === 'RUN') return;
    checkArguments.call(this, instruction, ...rest);
  };
  const getHeredocLines = internals.getHeredocLines;
  internals.getHeredocLines = function (this: unknown, instruction) {
    if (instruction.getTextContent().indexOf('<') < 0) return [];
    return getHeredocLines.call(this, instruction);
  };
  return validator;
}

/** dockerfile-utils' problems as Strata diagnostics (ids, severities, clamped ranges, real stage names). */
export function toStrataSyntax(problems: readonly Diagnostic[], lineCount: number, renamed: Map<string, string> = new Map()): StrataDiagnostic[] {
  const out: StrataDiagnostic[] = [];
  for (const d of problems) {
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
      message: restoreNames(typeof d.message === 'string' ? d.message : (d.message as { value: string }).value, renamed),
      fixable: false,
      equivalents: [],
      tags: d.tags?.includes(2) ? ['deprecated'] : d.tags?.includes(1) ? ['unnecessary'] : undefined,
    });
  }
  return out;
}

function restoreNames(message: string, renamed: Map<string, string>): string {
  if (renamed.size === 0) return message;
  for (const [safe, name] of renamed) message = message.split(safe).join(name);
  return message;
}
