/**
 * dockerfile-utils' syntax validation, re-done per edit only for the instructions the edit touched, with the exact
 * result of `validateSyntax` on the whole text (the differential test in test/server/rules/incrementalChecker.test.ts
 * holds it to that). See docs/architecture/rules.md "Incremental diagnostics" for the design; in short:
 *
 * - dockerfile-ast's parser (`Parser.parse`) reads the directives, then loops over top-level items (an instruction,
 *   its heredoc bodies included, or a comment); each item ends at an unescaped line break and the loop carries no
 *   state from one item to the next but the escape character. So an item starting at the same place in the same text
 *   parses the same, and re-parsing can start at the item the edit touched and stop at the first later item start that
 *   lies in the unchanged tail and was an item start before the edit. We drive the parser's own item methods
 *   (`processInstruction`, `processComment`) on the real text, so boundaries and positions are dockerfile-ast's.
 * - dockerfile-utils' per-instruction checks (`validateInstruction`, `checkVariables`, ONBUILD triggers) depend on the
 *   instruction's own text only — except where a variable is resolved: FROM's base name, EXPOSE and STOPSIGNAL expand
 *   `$VAR` against the ARG/ENV instructions before them. Those "variable items" are validated with their context
 *   (every FROM/ARG/ENV and every instruction before the first FROM, parsed into one Dockerfile in file order) and
 *   cached under a key made of that context's text, so an ENV edit re-checks them and a line inserted does not.
 * - The few whole-file checks (directives, no FROM, duplicate stage names, multiple HEALTHCHECK/CMD/ENTRYPOINT per
 *   stage, `# dockerfile-utils: ignore`) run on per-item facts kept from the parse, through the validator's own methods.
 * - Cached problems are stored relative to their item's first line and shifted when lines move.
 * - A letter typed or deleted in a shell-form RUN's script (one line, same line count) is swapped into the item
 *   without parsing when runWordEdit.ts shows that dockerfile-ast and dockerfile-utils would make the same of it.
 *
 * Anything this cannot reproduce cheaply falls back to the full validation: a stage name that `defuseStageNames`
 * would rewrite, or an exception anywhere (then the full run decides what happens: it throws or answers).
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic } from 'vscode-languageserver-types';
import { From, Arg, Env, Cmd, Entrypoint, Healthcheck, Onbuild, type Instruction } from 'dockerfile-ast';
import { Parser } from 'dockerfile-ast/lib/parser';
import { Dockerfile as DockerfileImpl } from 'dockerfile-ast/lib/dockerfile';
import { Validator } from 'dockerfile-utils/lib/dockerValidator';
import { ValidationCode } from 'dockerfile-utils';
import type { StrataDiagnostic } from './strataDiagnostic';
import { newSyntaxValidator, stageNameNeedsDefusing, toStrataSyntax, validateSyntax } from './syntaxValidation';
import { keepsRunItem, runItemTextQualifies, type RunBody } from './runWordEdit';

type Range = Diagnostic['range'];
/** A dockerfile-utils problem: a Diagnostic plus the line of the instruction it is about (null: not tied to one). */
type Problem = Diagnostic & { instructionLine: number | null };

/** dockerfile-ast's Parser, with the item methods its `parse` loop uses (private in its typings). */
interface ParserInternals {
  document: TextDocument;
  buffer: string;
  escapeChar: string;
  getParserDirectives(document: TextDocument, buffer: string): Directive[];
  processInstruction(dockerfile: DockerfileImpl, char: string, start: number): number;
  processComment(dockerfile: DockerfileImpl, start: number): number;
}
interface Directive {
  getDirective(): string;
  getValue(): string;
}
/** dockerfile-utils' Validator, with the per-instruction and whole-file methods `validate` is made of. */
interface ValidatorInternals {
  document: TextDocument;
  settings: unknown;
  checkDirectives(dockerfile: DockerfileImpl, problems: Problem[]): void;
  validateInstruction(document: TextDocument, escapeChar: string, instruction: Instruction, keyword: string, isTrigger: boolean, problems: Problem[]): void;
  checkVariables(instruction: Instruction, problems: Problem[]): void;
  createDuplicatesDiagnostics(problems: Problem[], severity: unknown, instruction: string, instructions: { getInstructionRange(): Range }[]): void;
  createDuplicateBuildStageNameDiagnostics(problems: Problem[], froms: { getBuildStage(): string | null; getInstructionRange(): Range; getBuildStageRange(): Range | null }[]): void;
}
const ValidatorClass = Validator as unknown as { new (settings: unknown): ValidatorInternals; createNoSourceImage(start: Range['start'], end: Range['end']): Problem };

/** What the whole-file checks need to know about one instruction, lines relative to the item's first line. */
interface InstructionFacts {
  keyword: string;
  /** `keyword === 'FROM'`: dockerfile-ast makes a From for exactly that keyword (Parser.createInstruction). */
  isFrom: boolean;
  isArg: boolean;
  isCmd: boolean;
  isEntrypoint: boolean;
  isHealthcheck: boolean;
  isEnv: boolean;
  instructionRange: Range;
  buildStage: string | null;
  buildStageRange: Range | null;
  /** A FROM whose stage name `defuseStageNames` would rewrite (then the whole text is validated the slow way). */
  needsDefusing: boolean;
  /** Resolves a variable (FROM/EXPOSE/STOPSIGNAL/ONBUILD with `$`): validated with its ARG/ENV context. */
  variableItem: boolean;
  /** A shell-form RUN without heredoc: where its arguments start (it can take a word edit unparsed: runWordEdit.ts). */
  runBody: RunBody | null;
}

interface Item {
  /** First and last line (absolute, in the current text). */
  startLine: number;
  endLine: number;
  /** Column of its first character on startLine. */
  column: number;
  /** The item's lines, terminators included: it parses the same wherever it moves. */
  text: string;
  comment: boolean;
  /** Lines (relative) of `# dockerfile-utils: ignore` comments: the item itself, or comments inside an instruction. */
  ignoreLines: number[];
  facts: InstructionFacts | undefined;
  /** validateInstruction + checkVariables problems, then the ONBUILD trigger's; lines relative. */
  problems: Problem[] | undefined;
  triggerProblems: Problem[] | undefined;
  /**
   * dockerfile-utils computes the end of an "invalid proto" range for a one-letter protocol (`EXPOSE 80/x`) from twice
   * the argument's offset, so that range depends on the whole document: such an item is validated again every time.
   */
  volatile: boolean;
  /** For variable items: the context key their problems were computed under. */
  contextKey: string | undefined;
  /** A number per distinct item text (see `IncrementalSyntaxValidator.textIds`): context keys are made of these. */
  textId: number;
  /** The item ran to the end of the text (an open continuation or heredoc): more text after it would extend it. */
  atEnd: boolean;
}

/**
 * An Item, every field set from the start and always in this order: items are made in three places (parsed, taken
 * from the cache, moved with the lines) and filled in later, and objects of one shape keep V8's optimised code of the
 * loops over them from being thrown away ("wrong map") and compiled again, keystroke after keystroke.
 */
function newItem(startLine: number, endLine: number, column: number, text: string, comment: boolean, ignoreLines: number[], textId: number,
  atEnd: boolean, facts: InstructionFacts | undefined = undefined, problems: Problem[] | undefined = undefined,
  triggerProblems: Problem[] | undefined = undefined, volatile = false, contextKey: string | undefined = undefined): Item {
  return { startLine, endLine, column, text, comment, ignoreLines, facts, problems, triggerProblems, volatile, contextKey, textId, atEnd };
}

/** What the item cache keeps of an instruction item: everything but its place, which the text does not decide. */
interface CachedItem {
  text: string;
  /** endLine - startLine. */
  lines: number;
  atEnd: boolean;
  facts: InstructionFacts;
  ignoreLines: number[];
  problems: Problem[];
  triggerProblems: Problem[];
}

interface State {
  /** The text's lines: without terminators when `lfOnly` (every line but the last ends with LF), else with them. */
  lines: string[];
  lfOnly: boolean;
  /** Directive lines (text) and the escape character: a change there re-parses everything. */
  head: string;
  items: Item[];
}

const VARIABLE_KEYWORDS = new Set(['FROM', 'EXPOSE', 'STOPSIGNAL', 'ONBUILD']);
const IGNORE_COMMENT = 'dockerfile-utils: ignore';
const ITEM_CACHE_LIMIT = 256;

/** Splits text into lines that keep their terminators (`\r\n`, `\r`, `\n`); the last line has none (maybe empty). */
export function linesWithTerminators(text: string): string[] {
  if (text.indexOf('\r') < 0) {
    const out = text.split('\n');
    for (let i = 0; i < out.length - 1; i++) out[i] += '\n';
    return out;
  }
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      out.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

export class IncrementalSyntaxValidator {
  private state: State | undefined;
  /** The last answer of `validate` (handed back again when a run finds nothing changed: `UNCHANGED`). */
  private lastAnswer: { lineCount: number; diagnostics: StrataDiagnostic[] } | undefined;
  private validator: ValidatorInternals | undefined;
  /** Item texts of the current document, numbered (rebuilt from the live items when it grows past a bound). */
  private textIds = new Map<string, number>();
  private nextTextId = 0;
  /**
   * Recently edited instructions (their facts and problems, see `CachedItem`) by text, then escape and column (see
   * `run`). The text alone is the outer key: its hash is computed once (for `textIds`) and kept by the string, where a
   * key made by concatenation would be hashed again, all of it, on every lookup.
   */
  private readonly itemCache = new Map<string, Map<string, CachedItem>>();
  /** Statistics of the last run, for tests and the benchmark. */
  lastRun = { full: false, reparsedItems: 0, cachedItems: 0, variableItems: 0, unchanged: false, wordEdit: false };

  /**
   * Same result as `validateSyntax(text, lineCount)` (and throws when it would). `lfLines`: the text split at LF, when
   * the caller has it (a text without CR or byte-order mark).
   */
  validate(text: string, lineCount: number, lfLines?: string[]): StrataDiagnostic[] {
    try {
      const problems = this.run(text, lfLines);
      if (problems === UNCHANGED && this.lastAnswer?.lineCount === lineCount) return this.lastAnswer.diagnostics;
      // (Cannot happen: a run that finds nothing changed follows one that answered. If it did, the full validation.)
      if (problems === UNCHANGED) throw new Error('no previous answer');
      if (problems) {
        const diagnostics = toStrataSyntax(problems, lineCount);
        this.lastAnswer = { lineCount, diagnostics };
        return diagnostics;
      }
    } catch {
      // Below: the full validation decides (it may throw the same error, which the caller's guard reports).
    }
    this.state = undefined;
    this.lastAnswer = undefined;
    this.lastRun = { full: true, reparsedItems: -1, cachedItems: 0, variableItems: -1, unchanged: false, wordEdit: false };
    return validateSyntax(text, lineCount);
  }

  /**
   * The problems `Validator.validate` would give, or null when the full validation must run instead, or UNCHANGED when
   * they are those of the previous run: every item at the same place with the same facts and problems as before (a
   * keystroke that changes no diagnostic, the usual case), so `assemble` would give the same list again.
   */
  private run(text: string, lfLines?: string[]): Problem[] | null | typeof UNCHANGED {
    const document = TextDocument.create('', '', 0, text);
    const parser = new Parser() as unknown as ParserInternals;
    parser.document = document;
    parser.buffer = text;
    const directives = parser.getParserDirectives(document, text);
    let escape = '\\';
    for (const d of directives) {
      if (d.getDirective() === 'escape' && (d.getValue() === '\\' || d.getValue() === '`')) { escape = d.getValue(); break; }
    }
    parser.escapeChar = escape;
    // LF-only text (the usual case): lines without their terminators, compared knowing that every line but the last
    // has one; other texts: lines with their terminators. (Appending the terminators made a new string per line per
    // run, which every comparison below then had to flatten.)
    const lfOnly = text.indexOf('\r') < 0;
    const lines = lfOnly ? lfLines ?? text.split('\n') : linesWithTerminators(text);
    const head = escape + '\u0000' + (directives.length > 0 ? text.slice(0, document.offsetAt({ line: directives.length, character: 0 })) : '');
    const mainStart = directives.length > 0 ? document.offsetAt({ line: directives.length, character: 0 }) : text.charCodeAt(0) === 0xfeff ? 1 : 0;

    const old = this.state && this.state.head === head && this.state.lfOnly === lfOnly ? this.state : undefined;
    // One validator for the document's runs: its state is the document (set here) and its settings (fixed).
    const validator = (this.validator ??= newSyntaxValidator() as unknown as ValidatorInternals);
    validator.document = document;
    const newItems: Item[] = [];
    // Items re-parsed now: their Instruction objects (in a Dockerfile of their own, enough for local checks).
    const fresh = new Map<Item, Instruction>();
    const region = new DockerfileImpl(document);

    let reuseTail: Item[] = [];
    // Old items the edit replaced (between the reused head and the reused tail): cached below, so that undoing the
    // edit finds them.
    let replaced: Item[] = [];
    let delta = 0;
    let from = mainStart;
    let wordEdit = false;
    let cachedItems = 0;
    if (old) {
      const oldLines = old.lines;
      let p = 0;
      const maxCommon = Math.min(oldLines.length, lines.length);
      // (LF-only: a line equals the old one only if both have a terminator or neither does, i.e. neither or both last.)
      while (p < maxCommon && oldLines[p] === lines[p] && (!lfOnly || (p === oldLines.length - 1) === (p === lines.length - 1))) p++;
      let q = 0;
      while (q < maxCommon - p && oldLines[oldLines.length - 1 - q] === lines[lines.length - 1 - q]) q++;
      delta = lines.length - oldLines.length;
      // Items that end before the first changed line parse the same (an item never looks past its own end).
      let f = 0;
      while (f < old.items.length && old.items[f].endLine < p) f++;
      const edited = old.items[f];
      if (delta === 0 && p + q === lines.length - 1 && edited && edited.startLine <= p && !edited.comment && !edited.atEnd
        && !edited.volatile && edited.facts?.runBody && keepsRunItem(oldLines[p], lines[p], p - edited.startLine, edited.facts.runBody, escape)) {
        // One line of a RUN script edited inside its words: the item parses and validates as before (runWordEdit.ts).
        const itemLines = lines.slice(edited.startLine, edited.endLine + 1);
        const itemText = lfOnly ? itemLines.join('\n') + '\n' : itemLines.join('');
        let textId = this.textIds.get(itemText);
        if (textId === undefined) this.textIds.set(itemText, textId = this.nextTextId++);
        newItems.push(...old.items);
        newItems[f] = newItem(edited.startLine, edited.endLine, edited.column, itemText, false, edited.ignoreLines, textId, false,
          edited.facts, edited.problems, edited.triggerProblems, false, edited.contextKey);
        replaced = [edited];
        wordEdit = true;
      } else {
        for (let k = 0; k < f; k++) newItems.push(old.items[k]);
        if (f > 0) from = document.offsetAt({ line: old.items[f - 1].endLine + 1, character: 0 });
        const tailStartNew = lines.length - q;
        const oldStartAt = new Map<number, number>();
        for (let k = f; k < old.items.length; k++) oldStartAt.set(old.items[k].startLine, k);
        // An instruction that starts where an old one did, on the same lines, may have a text seen before (a backspace
        // after a key, an undo): then it is that cached item, not parsed again. Exact: an item that did not run to the
        // end of its text ended at its last line's break, having read nothing after it, so the same characters at the
        // same column parse the same (with the same escape); the cache holds what its parse and validation gave.
        const cached = delta !== 0 ? undefined : (startLine: number, column: number): CachedItem | undefined => {
          const k = oldStartAt.get(startLine);
          if (k === undefined || old.items[k].column !== column || old.items[k].comment) return undefined;
          const endLine = old.items[k].endLine;
          const candidate = text.slice(document.offsetAt({ line: startLine, character: 0 }), document.offsetAt({ line: endLine + 1, character: 0 }));
          const entry = this.itemCache.get(candidate)?.get(escape + column);
          return entry && !entry.atEnd ? entry : undefined;
        };
        cachedItems = this.parseItems(parser, region, text, from, document, newItems, fresh, (startLine, column) => {
          if (startLine < tailStartNew) return false;
          const k = oldStartAt.get(startLine - delta);
          // Same column too: the old item may have started after a byte-order mark that is now an ordinary character.
          if (k === undefined || old.items[k].column !== column) return false;
          reuseTail = old.items.slice(k);
          return true;
        }, cached);
        replaced = old.items.slice(f, old.items.length - reuseTail.length);
      }
    } else {
      this.parseItems(parser, region, text, from, document, newItems, fresh, () => false);
    }
    for (const it of reuseTail) {
      newItems.push(delta === 0 ? it : newItem(it.startLine + delta, it.endLine + delta, it.column, it.text, it.comment, it.ignoreLines, it.textId,
        it.atEnd, it.facts, it.problems, it.triggerProblems, it.volatile, it.contextKey));
    }
    this.lastRun = { full: !old, reparsedItems: fresh.size, cachedItems, variableItems: 0, unchanged: false, wordEdit };

    // Items whose problems depend on the whole document (see Item.volatile) are re-parsed like edited ones.
    if (old) {
      for (const it of newItems) {
        if (!it.volatile || fresh.has(it) || it.facts?.variableItem) continue;
        const start = document.offsetAt({ line: it.startLine, character: it.column });
        const count = region.getInstructions().length;
        parser.processInstruction(region, text.charAt(start), start);
        fresh.set(it, region.getInstructions()[count]);
      }
    }
    // Facts first: a stage name that the full validation defuses must not reach dockerfile-utils' regex here (it
    // backtracks exponentially); such a text takes the full path.
    for (const [item, ins] of fresh) if (!item.comment) item.facts = instructionFacts(ins, item);
    if (newItems.some((it) => it.facts?.needsDefusing)) return null;
    // Local problems of the re-parsed items; an edit that restores an instruction's earlier text (a backspace after a
    // key, undo) finds its problems in the item cache (they depend on its text, column and the escape only).
    for (const [item, ins] of fresh) {
      if (item.comment || item.facts!.variableItem) continue;
      const where = escape + item.column;
      const hit = old ? this.itemCache.get(item.text)?.get(where) : undefined;
      if (hit) {
        item.problems = hit.problems;
        item.triggerProblems = hit.triggerProblems;
        item.volatile = false;
        continue;
      }
      validateItem(validator, document, escape, item, ins);
      if (old) this.remember(item, escape);
    }
    for (const item of replaced) this.remember(item, escape);
    if (!old) region.organizeComments();
    this.validateVariableItems(parser, validator, document, escape, newItems, fresh, !old);

    this.state = { lines, lfOnly, head, items: newItems };
    if (this.textIds.size > 4 * newItems.length + 1000) {
      // Renumbering would change every context key: drop the variable items' keys so they are re-validated once.
      this.textIds = new Map();
      this.nextTextId = 0;
      for (const it of newItems) {
        let id = this.textIds.get(it.text);
        if (id === undefined) this.textIds.set(it.text, id = this.nextTextId++);
        it.textId = id;
        it.contextKey = undefined;
      }
    }
    // (Variable items re-validated this run had their problems replaced in place: no comparison with before.)
    if (old && this.lastRun.variableItems === 0 && lines.length === old.lines.length && sameItems(old.items, newItems)) {
      this.lastRun.unchanged = true;
      return UNCHANGED;
    }
    return assemble(validator, document, directives, escape, newItems);
  }

  /** Puts a validated instruction item in the item cache (not one whose problems depend on more than its text). */
  private remember(item: Item, escape: string): void {
    if (item.comment || item.volatile || !item.facts || item.facts.variableItem || !item.problems || !item.triggerProblems) return;
    let byPlace = this.itemCache.get(item.text);
    if (!byPlace) {
      if (this.itemCache.size >= ITEM_CACHE_LIMIT) this.itemCache.delete(this.itemCache.keys().next().value as string);
      this.itemCache.set(item.text, byPlace = new Map());
    }
    byPlace.set(escape + item.column, {
      text: item.text, lines: item.endLine - item.startLine, atEnd: item.atEnd, facts: item.facts, ignoreLines: item.ignoreLines,
      problems: item.problems, triggerProblems: item.triggerProblems,
    });
  }

  /**
   * The parse loop of `Parser.parse` from `offset`, one item at a time, until `converged(line, column)` says an item
   * starting there is known already (then the caller reuses the old items from there on). Returns how many items it
   * took from the item cache (`cached`) instead of parsing them.
   */
  private parseItems(parser: ParserInternals, dockerfile: DockerfileImpl, text: string, offset: number, document: TextDocument,
    out: Item[], fresh: Map<Item, Instruction>, converged: (startLine: number, column: number) => boolean,
    cached?: (startLine: number, column: number) => CachedItem | undefined): number {
    let hits = 0;
    for (let i = offset; i < text.length; i++) {
      const c = text.charAt(i);
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
      const startLine = document.positionAt(i).line;
      const lineStart = document.offsetAt({ line: startLine, character: 0 });
      if (converged(startLine, i - lineStart)) return hits;
      const hit = c === '#' ? undefined : cached?.(startLine, i - lineStart);
      if (hit) {
        let textId = this.textIds.get(hit.text);
        if (textId === undefined) this.textIds.set(hit.text, textId = this.nextTextId++);
        out.push(newItem(startLine, startLine + hit.lines, i - lineStart, hit.text, false, hit.ignoreLines, textId, false,
          hit.facts, hit.problems, hit.triggerProblems));
        hits++;
        // on the last character of the item's last line break; the loop goes on after it
        i = document.offsetAt({ line: startLine + hit.lines + 1, character: 0 }) - 1;
        continue;
      }
      const commentsBefore = dockerfile.getComments().length;
      const instructionsBefore = dockerfile.getInstructions().length;
      const end = c === '#' ? parser.processComment(dockerfile, i) : parser.processInstruction(dockerfile, c, i);
      const endLine = document.positionAt(end).line;
      // A slice would keep this version's whole text alive for as long as the item is reused: copy it.
      const itemText = copyString(text.slice(lineStart, document.offsetAt({ line: endLine + 1, character: 0 })));
      let textId = this.textIds.get(itemText);
      if (textId === undefined) this.textIds.set(itemText, textId = this.nextTextId++);
      const item = newItem(startLine, endLine, i - lineStart, itemText, c === '#', [], textId, end >= text.length);
      for (const comment of dockerfile.getComments().slice(commentsBefore)) {
        if (comment.getContent() === IGNORE_COMMENT) item.ignoreLines.push(comment.getRange().start.line - startLine);
      }
      const ins = dockerfile.getInstructions()[instructionsBefore];
      fresh.set(item, ins);
      out.push(item);
      i = end;
    }
    return hits;
  }

  /**
   * Variable items, validated in a Dockerfile holding their context: every FROM, ARG and ENV, and every instruction
   * before the first FROM (variables resolve against those only, see dockerfile-ast's `resolveVariable`). An item's
   * problems are kept while the context before it and its own text stay the same.
   */
  private validateVariableItems(parser: ParserInternals, validator: ValidatorInternals, document: TextDocument, escape: string,
    items: Item[], fresh: Map<Item, Instruction>, cold: boolean): void {
    let key = '';
    let beforeFirstFrom = true;
    const isContext = (it: Item) => beforeFirstFrom || it.facts!.isFrom || it.facts!.isArg || it.facts!.isEnv;
    const stale: Item[] = [];
    for (const it of items) {
      if (it.comment) continue;
      const f = it.facts!;
      if (f.variableItem) {
        const k = key + '|' + it.textId;
        if (it.contextKey !== k || fresh.has(it) || it.volatile) stale.push(it);
        it.contextKey = k;
      }
      if (isContext(it)) key += ',' + it.textId;
      if (f.isFrom) beforeFirstFrom = false;
    }
    this.lastRun.variableItems = stale.length;
    if (stale.length === 0) return;
    if (cold) {
      // Everything was parsed into one Dockerfile, exactly as Validator.validate does: validate there.
      for (const it of stale) validateItem(validator, document, escape, it, fresh.get(it)!);
      return;
    }
    // Re-parse context + stale items in file order into one Dockerfile, as far as the last stale item.
    const last = stale[stale.length - 1];
    const staleSet = new Set(stale);
    const dockerfile = new DockerfileImpl(document);
    const parsed = new Map<Item, Instruction>();
    beforeFirstFrom = true;
    for (const it of items) {
      if (it.comment) continue;
      if (isContext(it) || staleSet.has(it)) {
        const start = document.offsetAt({ line: it.startLine, character: it.column });
        const count = dockerfile.getInstructions().length;
        parser.processInstruction(dockerfile, document.getText().charAt(start), start);
        parsed.set(it, dockerfile.getInstructions()[count]);
      }
      if (it.facts!.isFrom) beforeFirstFrom = false;
      if (it === last) break;
    }
    for (const it of stale) validateItem(validator, document, escape, it, parsed.get(it)!);
  }
}

function instructionFacts(ins: Instruction, item: Item): InstructionFacts {
  const rel = (r: Range): Range => ({ start: { line: r.start.line - item.startLine, character: r.start.character }, end: { line: r.end.line - item.startLine, character: r.end.character } });
  const keyword = ins.getKeyword();
  const isFrom = ins instanceof From;
  let needsDefusing = false;
  let buildStage: string | null = null;
  let buildStageRange: Range | null = null;
  if (isFrom) {
    const arg = ins.getArguments()[2];
    needsDefusing = !!arg && stageNameNeedsDefusing(arg.getValue().toLowerCase());
    buildStage = ins.getBuildStage();
    const r = ins.getBuildStageRange();
    buildStageRange = r ? rel(r) : null;
  }
  let variableItem = false;
  if (item.text.includes('$')) {
    const trigger = ins instanceof Onbuild ? ins.getTriggerInstruction() : null;
    variableItem = VARIABLE_KEYWORDS.has(keyword) || (!!trigger && VARIABLE_KEYWORDS.has(trigger.getKeyword()));
  }
  let runBody: RunBody | null = null;
  if (keyword === 'RUN' && runItemTextQualifies(item.text)) {
    const r = ins.getArgumentsRange();
    // (exec form: dockerfile-utils' single-quoted JSON check reads the whole argument text)
    const document = (ins as unknown as { document: TextDocument }).document;
    if (r && document.getText().charAt(document.offsetAt(r.start)) !== '[') {
      runBody = { line: r.start.line - item.startLine, character: r.start.character };
    }
  }
  return {
    keyword, isFrom, isArg: ins instanceof Arg, isCmd: ins instanceof Cmd, isEntrypoint: ins instanceof Entrypoint,
    isHealthcheck: ins instanceof Healthcheck, isEnv: ins instanceof Env,
    instructionRange: rel(ins.getInstructionRange()), buildStage, buildStageRange, needsDefusing, variableItem, runBody,
  };
}

/** What `run` answers when the problems are the previous run's. */
const UNCHANGED = Symbol('unchanged');

/**
 * Whether `assemble` gives the same problems for `b` as for `a`: the same items in the same places, with the same
 * facts, problems (relative to the item), trigger problems and ignore comments, and none whose problems depend on the
 * whole document (volatile). Items reused as they were are the same objects; an edited or cached one is compared.
 */
function sameItems(a: readonly Item[], b: readonly Item[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.volatile || y.volatile) return false;
    if (x === y) continue;
    if (x.startLine !== y.startLine || x.endLine !== y.endLine || x.column !== y.column || x.comment !== y.comment) return false;
    if (!sameNumbers(x.ignoreLines, y.ignoreLines)) return false;
    if (x.comment) continue;
    if (!x.facts || !y.facts || !sameFacts(x.facts, y.facts)) return false;
    if (!sameProblems(x.problems, y.problems) || !sameProblems(x.triggerProblems, y.triggerProblems)) return false;
  }
  return true;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameRange(a: Range | null, b: Range | null): boolean {
  if (a === null || b === null) return a === b;
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

function sameFacts(a: InstructionFacts, b: InstructionFacts): boolean {
  return a.keyword === b.keyword && a.isFrom === b.isFrom && a.isArg === b.isArg && a.isCmd === b.isCmd && a.isEntrypoint === b.isEntrypoint
    && a.isHealthcheck === b.isHealthcheck && a.isEnv === b.isEnv && a.buildStage === b.buildStage && a.needsDefusing === b.needsDefusing
    && a.variableItem === b.variableItem && sameRange(a.instructionRange, b.instructionRange) && sameRange(a.buildStageRange, b.buildStageRange)
    && (a.runBody === b.runBody || (!!a.runBody && !!b.runBody && a.runBody.line === b.runBody.line && a.runBody.character === b.runBody.character));
}

/** Problems compared as `assemble` and `toStrataSyntax` read them (JSON: a handful of small objects, most often none). */
function sameProblems(a: Problem[] | undefined, b: Problem[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.length === 0 || JSON.stringify(a) === JSON.stringify(b);
}

/** A copy of `s` that does not share (and so does not retain) the string it was sliced from. */
function copyString(s: string): string {
  return (' ' + s).slice(1);
}

/** Sets an item's problems (its own and its ONBUILD trigger's) and whether they must be recomputed every run. */
function validateItem(validator: ValidatorInternals, document: TextDocument, escape: string, item: Item, ins: Instruction): void {
  item.problems = localProblems(validator, document, escape, ins, item.startLine);
  item.triggerProblems = triggerProblems(validator, document, escape, ins, item.startLine);
  item.volatile = isVolatile(item.problems) || isVolatile(item.triggerProblems);
}

function isVolatile(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.code === ValidationCode.INVALID_PROTO);
}

/** What `Validator.validate` says about one instruction in its main loop (without the no-FROM check), lines relative. */
function localProblems(validator: ValidatorInternals, document: TextDocument, escape: string, ins: Instruction, startLine: number): Problem[] {
  const problems: Problem[] = [];
  validator.validateInstruction(document, escape, ins, ins.getKeyword(), false, problems);
  validator.checkVariables(ins, problems);
  return problems.map((p) => shift(p, -startLine));
}

function triggerProblems(validator: ValidatorInternals, document: TextDocument, escape: string, ins: Instruction, startLine: number): Problem[] {
  if (!(ins instanceof Onbuild)) return [];
  const trigger = ins.getTriggerInstruction();
  if (!trigger) return [];
  const problems: Problem[] = [];
  validator.validateInstruction(document, escape, trigger, trigger.getKeyword(), true, problems);
  return problems.map((p) => shift(p, -startLine));
}

function shift(p: Problem, by: number): Problem {
  if (by === 0) return p;
  return {
    ...p,
    instructionLine: p.instructionLine === null ? null : p.instructionLine + by,
    range: { start: { line: p.range.start.line + by, character: p.range.start.character }, end: { line: p.range.end.line + by, character: p.range.end.character } },
  };
}

function absolute(r: Range, line: number): Range {
  return { start: { line: r.start.line + line, character: r.start.character }, end: { line: r.end.line + line, character: r.end.character } };
}

/** `Validator.validate`'s order: directives, no source image, duplicates, stage names, instructions, triggers, ignores. */
function assemble(validator: ValidatorInternals, document: TextDocument, directives: Directive[], escape: string, items: Item[]): Problem[] {
  const problems: Problem[] = [];
  const head = new DockerfileImpl(document);
  head.setDirectives(directives as never);
  validator.checkDirectives(head, problems);
  const instructions = items.filter((it) => !it.comment);
  if (instructions.length === 0 || instructions.every((it) => it.facts!.isArg)) {
    problems.push(ValidatorClass.createNoSourceImage(document.positionAt(0), document.positionAt(0)));
  }
  const settings = validator.settings as Record<string, unknown>;
  const byRange = (it: Item) => ({ getInstructionRange: () => absolute(it.facts!.instructionRange, it.startLine) });
  let cmds: Item[] = [];
  let entrypoints: Item[] = [];
  let healthchecks: Item[] = [];
  const flush = () => {
    validator.createDuplicatesDiagnostics(problems, settings.instructionCmdMultiple, 'CMD', cmds.map(byRange));
    validator.createDuplicatesDiagnostics(problems, settings.instructionEntrypointMultiple, 'ENTRYPOINT', entrypoints.map(byRange));
    validator.createDuplicatesDiagnostics(problems, settings.instructionHealthcheckMultiple, 'HEALTHCHECK', healthchecks.map(byRange));
    cmds = [];
    entrypoints = [];
    healthchecks = [];
  };
  for (const it of instructions) {
    const f = it.facts!;
    if (f.isCmd) cmds.push(it);
    else if (f.isEntrypoint) entrypoints.push(it);
    else if (f.isHealthcheck) healthchecks.push(it);
    else if (f.isFrom) flush();
  }
  flush();
  validator.createDuplicateBuildStageNameDiagnostics(problems, instructions.filter((it) => it.facts!.isFrom).map((it) => ({
    getBuildStage: () => it.facts!.buildStage,
    getInstructionRange: () => absolute(it.facts!.instructionRange, it.startLine),
    getBuildStageRange: () => (it.facts!.buildStageRange ? absolute(it.facts!.buildStageRange, it.startLine) : null),
  })));
  let hasFrom = false;
  for (const it of instructions) {
    const keyword = it.facts!.keyword;
    if (keyword === 'FROM') hasFrom = true;
    else if (!hasFrom && keyword !== 'ARG') {
      const r = absolute(it.facts!.instructionRange, it.startLine);
      problems.push(ValidatorClass.createNoSourceImage(r.start, r.end));
      hasFrom = true;
    }
    for (const p of it.problems!) problems.push(shift(p, it.startLine));
  }
  for (const it of instructions) for (const p of it.triggerProblems!) problems.push(shift(p, it.startLine));
  const ignored = new Set<number>();
  for (const it of items) for (const l of it.ignoreLines) ignored.add(it.startLine + l + 1);
  if (ignored.size === 0) return problems;
  return problems.filter((p) => p.instructionLine === null || !ignored.has(p.instructionLine));
}
