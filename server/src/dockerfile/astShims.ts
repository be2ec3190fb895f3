/**
 * Shims on dockerfile-ast 0.7.1, installed once when the language server (and its diagnostics worker) and the CLI
 * start.
 *
 * 1. `DockerfileParser.parse` remembers its last text and result. dockerfile-language-service parses the full text
 *    again in every feature (hover, symbols, folding, highlight…), and an editor asks for several of them per
 *    edit; with the memo they share one parse per document version. The AST is only read by those features.
 *
 * 2. A guard around one known crash:
 * `Instruction.getHeredocs` (behind `Run`/`Copy`/`Add.getHeredocs`) throws a TypeError (reading `getRange` of an
 * undefined heredoc definition) when an escaped line such as `\#h` follows `RUN \` and the file ends with a newline:
 * its scan thinks it left the instruction's first line and looks up a heredoc opener that does not exist. Every
 * feature that asks for heredocs (validation, definition, highlight, rename) then fails as a whole; that is what
 * kills dockerfile-language-server-nodejs. Such an instruction has no heredoc, so answering "no heredocs" is the
 * correct answer and lets those features give their normal result for the rest of the document.
 *
 * 3. A guard around unbounded recursion (found by test/fuzz/rules): `Dockerfile.resolveVariable` asks
 * `getContainingImage(line)`, which returns the Dockerfile itself when the line lies between the initial instructions
 * and the first build stage (e.g. an indented continuation line before `FROM` in a CRLF file); it then calls
 * `resolveVariable` on itself again, forever, and validation dies with "Maximum call stack size exceeded". In that
 * case the variable belongs to no stage, so it resolves like any ImageTemplate's: against the instructions it holds.
 *
 * 4. `Instruction.getRawArguments` replaced by an exact, cheaper scan and memoised, and the argument views that do not
 *    need every Argument object answered from it (see `memoiseRawArguments`, `shortCutArgumentViews`): it was the
 *    dominant cost of both the parse and dockerfile-utils' validation, then of their garbage.
 *
 * 5. `Dockerfile.organizeComments` computes each stage's range once instead of once per comment.
 *
 * 6. `Util.isUTF8BOM(char)` compares the code unit instead of encoding the character into a Buffer (and copying that
 *    into a Uint8Array): the parser asks it for every parse, and an edit re-parses one item of a few.
 *
 * Shims 1, 4, 5 and 6 change no result (docs/architecture/rules.md "Cold check": what, why, and the differential tests
 * against an unpatched copy of the library that hold them to it).
 */
import { DockerfileParser } from 'dockerfile-ast';
import { Instruction } from 'dockerfile-ast/lib/instruction';
import { ModifiableInstruction } from 'dockerfile-ast/lib/modifiableInstruction';
import { Dockerfile as DockerfileImpl } from 'dockerfile-ast/lib/dockerfile';
import { ImageTemplate } from 'dockerfile-ast/lib/imageTemplate';
import { Argument } from 'dockerfile-ast/lib/argument';
import { Parser } from 'dockerfile-ast/lib/parser';
import { Util } from 'dockerfile-ast/lib/util';
import { scanRawArguments, type RawArguments, type RawArgumentsSource } from './rawArguments';

const GUARDED = Symbol.for('strata.getHeredocsGuarded');
const MEMOISED = Symbol.for('strata.getRawArgumentsMemoised');
const ORGANISED = Symbol.for('strata.organizeCommentsOnce');

/**
 * The dockerfile-ast classes the guards patch: this process's copy, or a separately loaded one (the differential test
 * guards its unpatched copy, test/support/pristineAst.ts, so that it compares only the memos and validator shortcuts).
 */
export interface GuardedAstModules {
  Instruction: typeof Instruction;
  DockerfileImpl: typeof DockerfileImpl;
  ImageTemplate: typeof ImageTemplate;
}

export function installAstShims(): void {
  installAstGuards({ Instruction, DockerfileImpl, ImageTemplate });
  memoiseRawArguments();
  rangeOnceInOrganizeComments();
  memoiseParse();
  bomByCodeUnit();
}

/**
 * Shim 6. Only U+FEFF encodes to EF BB BF in UTF-8 (a lone surrogate becomes EF BF BD), so the library's check is
 * "the first code unit is U+FEFF"; the empty string is false both ways.
 */
function bomByCodeUnit(): void {
  (Util as unknown as { isUTF8BOM(char: string): boolean }).isUTF8BOM = (char: string) => char.charCodeAt(0) === 0xfeff;
}

/** Shims 2 and 3: the crash and recursion guards, which change results only where the library would throw. */
export function installAstGuards({ Instruction, DockerfileImpl, ImageTemplate }: GuardedAstModules): void {
  const proto = Instruction.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[GUARDED]) return;
  const original = proto.getHeredocs as (this: Instruction) => unknown[];
  if (typeof original !== 'function') return; // a future dockerfile-ast without it: nothing to guard
  proto.getHeredocs = function guardedGetHeredocs(this: Instruction): unknown[] {
    try {
      return original.call(this);
    } catch (e) {
      if (e instanceof TypeError) return [];
      throw e;
    }
  };
  proto[GUARDED] = true;

  const dockerfileProto = DockerfileImpl.prototype as unknown as Record<string | symbol, unknown>;
  const resolve = dockerfileProto.resolveVariable as (this: unknown, variable: string, line: number) => unknown;
  const baseResolve = (ImageTemplate.prototype as unknown as Record<string, unknown>).resolveVariable as typeof resolve;
  if (typeof resolve === 'function' && typeof baseResolve === 'function' && resolve !== baseResolve) {
    const active = new WeakSet<object>();
    dockerfileProto.resolveVariable = function guardedResolveVariable(this: object, variable: string, line: number): unknown {
      // Re-entered on the same Dockerfile: the line is in no stage; resolve as the base template does.
      if (active.has(this)) return baseResolve.call(this, variable, line);
      active.add(this);
      try {
        return resolve.call(this, variable, line);
      } finally {
        active.delete(this);
      }
    };
  }
}

/**
 * Shim 4. `Instruction.getRawArguments` scans the instruction's text again on every call; `getArguments`, `getFlags`,
 * `getVariables`, every subclass constructor that looks at its arguments (JSON form, FROM, HEALTHCHECK, ONBUILD) and
 * the parser's heredoc detection call it, and dockerfile-utils calls those many times per instruction. The scan is
 * replaced by an exact re-implementation without the library's per-character string building and per-offset binary
 * search (`rawArguments.ts`), and its result is remembered per instance: it depends only on the instruction's
 * document text, ranges and escape character, which are fixed when the parser creates it (each parse makes its own
 * TextDocument; nothing in dockerfile-ast reassigns them). Callers own what they get:
 * `ModifiableInstruction.getArguments` shifts flags off the returned array, `From.getImageNameRange`/`getRegistryRange` assign `start`/`end` of an
 * argument's range and `ShadowText.mapResult` rewrites positions inside feature results in place, so every call
 * returns a new array of new Arguments with new Range and Position objects, equal to what the library would have
 * built. test/server/dockerfile/rawArguments.test.ts compares the scan with the library's; the differential test
 * (test/server/rules/syntaxValidationStock.test.ts) compares the validation with an unpatched copy of dockerfile-ast
 * and dockerfile-utils over the corpus and fuzzed inputs.
 */
function memoiseRawArguments(): void {
  const proto = Instruction.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[MEMOISED]) return;
  const original = proto.getRawArguments as (this: Instruction) => Argument[];
  if (typeof original !== 'function') return;
  const memo = new WeakMap<object, RawArguments>();
  // The last answer too: the constructors and validators ask about one instruction several times in a row. (It keeps
  // one instruction, and so its parse, alive until the next question; shim 1 keeps the last parse anyway.)
  let lastInstruction: object | undefined;
  let lastKnown: RawArguments | undefined;
  const known = (instruction: object): RawArguments | undefined => {
    if (instruction === lastInstruction) return lastKnown;
    let k = memo.get(instruction);
    if (k === undefined) {
      k = scanRawArguments(instruction as unknown as RawArgumentsSource);
      if (k === undefined) return undefined; // ranges the parser does not make: the library's own scan
      memo.set(instruction, k);
    }
    lastInstruction = instruction;
    lastKnown = k;
    return k;
  };
  proto.getRawArguments = function memoisedGetRawArguments(this: Instruction): Argument[] {
    const k = known(this);
    return k === undefined ? original.call(this) : materialise(k, 0);
  };
  proto[MEMOISED] = true;
  shortCutArgumentViews(proto, known);
}

/** Arguments `from`… of `k`, as new objects (callers mutate them). */
function materialise(k: RawArguments, from: number): Argument[] {
  const { values, positions } = k;
  const out: Argument[] = new Array(values.length - from);
  for (let i = from, p = 4 * from; i < values.length; i++, p += 4) {
    out[i - from] = new Argument(values[i], {
      start: { line: positions[p], character: positions[p + 1] },
      end: { line: positions[p + 2], character: positions[p + 3] },
    });
  }
  return out;
}

type Range = { start: { line: number; character: number }; end: { line: number; character: number } };
type Flagged = Instruction & { flags?: unknown[]; getFlags(): unknown[]; stopSearchingForFlags(value: string): boolean };

/**
 * Shim 4, continued: the views that do not need every argument as an object. The parser's JSON-form constructor (RUN,
 * COPY, ADD, CMD…) asks `getRawArgumentsContent()`, `getArguments()` and `getArgumentsRange()`, and `getFlags()` asks
 * `getArguments()` again to look at the first argument: with a 40-word RUN that was 160 Arguments (each with a Range
 * and two Positions) per view, most of a large file's garbage. Each short cut returns what the library's method
 * returns, computed from the remembered numbers, and only where `getArguments` is the library's own (the plain one,
 * `getRawArguments()`, or `ModifiableInstruction`'s, the raw arguments minus the first `getFlags().length`, with the
 * same `getFlags()` call and so the same caching); anything else goes to the library's method.
 */
function shortCutArgumentViews(proto: Record<string | symbol, unknown>, known: (instruction: object) => RawArguments | undefined): void {
  const plainGetArguments = proto.getArguments;
  const modProto = ModifiableInstruction.prototype as unknown as Record<string, unknown>;
  const modGetArguments = modProto.getArguments as (this: Flagged) => Argument[];
  const modGetFlags = modProto.getFlags as (this: Flagged) => unknown[];
  const getArgumentsRange = proto.getArgumentsRange as (this: Instruction) => Range | null;
  const getRawArgumentsContent = proto.getRawArgumentsContent as (this: Instruction) => string | null;
  if ([plainGetArguments, modGetArguments, modGetFlags, getArgumentsRange, getRawArgumentsContent].some((f) => typeof f !== 'function')) return;

  // While the parser constructs an instruction (`Parser.createInstruction`), the only `getArguments()` call outside
  // `getFlags()` is JSONInstruction's constructor's, which reads `args.length` and, only when that is 1 or 2, `args[0]`
  // and `args[1]` (the `[]` / `[` `]` forms, which it keeps). Longer lists are answered with an array of the right
  // length and no elements: a 40-word RUN no longer builds 40 Arguments nobody reads.
  let constructing = 0;
  let inGetFlags = 0;
  const parserClass = Parser as unknown as Record<string, unknown>;
  const createInstruction = parserClass.createInstruction as (...args: unknown[]) => unknown;
  if (typeof createInstruction !== 'function') return;
  parserClass.createInstruction = function countedCreateInstruction(this: unknown, ...args: unknown[]): unknown {
    constructing++;
    try {
      return createInstruction.apply(this, args);
    } finally {
      constructing--;
    }
  };

  const shortModGetArguments = function getArguments(this: Flagged): Argument[] {
    const k = known(this);
    if (k === undefined) return modGetArguments.call(this);
    // The library takes all raw arguments, then shifts one off per flag.
    const from = Math.min(this.getFlags().length, k.values.length);
    if (constructing > 0 && inGetFlags === 0 && k.values.length - from > 2) return new Array<Argument>(k.values.length - from);
    return materialise(k, from);
  };
  modProto.getArguments = shortModGetArguments;
  modProto.getFlags = function getFlags(this: Flagged): unknown[] {
    if (!this.flags && this.getArguments === shortModGetArguments) {
      const k = known(this);
      // The library's loop returns no flags when there is no argument or the first one stops the search.
      if (k !== undefined && (k.values.length === 0 || this.stopSearchingForFlags(k.values[0]))) return (this.flags = []);
    }
    inGetFlags++;
    try {
      return modGetFlags.call(this);
    } finally {
      inGetFlags--;
    }
  };

  /** The range from the first to the last argument `getArguments()` returns (null: none), or undefined: unknown. */
  const argumentsRange = (instruction: Flagged): Range | null | undefined => {
    let from: number;
    if (instruction.getArguments === plainGetArguments) from = 0;
    else if (instruction.getArguments === shortModGetArguments) from = -1;
    else return undefined;
    const k = known(instruction);
    if (k === undefined) return undefined;
    const n = k.values.length;
    if (from === -1) from = Math.min(instruction.getFlags().length, n);
    if (from >= n) return null;
    const p = k.positions;
    const s = 4 * from;
    const e = 4 * (n - 1);
    return { start: { line: p[s], character: p[s + 1] }, end: { line: p[e + 2], character: p[e + 3] } };
  };
  proto.getArgumentsRange = function shortGetArgumentsRange(this: Flagged): Range | null {
    const r = argumentsRange(this);
    return r === undefined ? getArgumentsRange.call(this) : r;
  };
  proto.getRawArgumentsContent = function shortGetRawArgumentsContent(this: Flagged): string | null {
    const r = argumentsRange(this);
    if (r === undefined) return getRawArgumentsContent.call(this);
    // The library: null without arguments, else getRangeContent of that range (which also maps null to null).
    return r === null ? null : (this as unknown as { getRangeContent(range: Range): string }).getRangeContent(r);
  };

  // The parser's heredoc detection reads every argument's value of each RUN/COPY/ADD (`getArguments()`) to find one
  // starting with `<<`; when none does it changes nothing and returns `offset`. Answered from the remembered values
  // (with the same `getFlags()` call); an ONBUILD, or any `<<` candidate, goes to the library's method.
  const parserProto = Parser.prototype as unknown as Record<string, unknown>;
  const processHeredocs = parserProto.processHeredocs as (this: unknown, instruction: Flagged, offset: number) => number;
  if (typeof processHeredocs !== 'function') return;
  parserProto.processHeredocs = function shortProcessHeredocs(this: unknown, instruction: Flagged, offset: number): number {
    const keyword = instruction.getKeyword();
    if (keyword !== 'ADD' && keyword !== 'COPY' && keyword !== 'RUN') {
      return keyword === 'ONBUILD' ? processHeredocs.call(this, instruction, offset) : offset;
    }
    const k = instruction.getArguments === shortModGetArguments ? known(instruction) : undefined;
    if (k === undefined) return processHeredocs.call(this, instruction, offset);
    const values = k.values;
    for (let i = Math.min(instruction.getFlags().length, values.length); i < values.length; i++) {
      if (values[i].length > 2 && values[i].startsWith('<<')) return processHeredocs.call(this, instruction, offset);
    }
    return offset;
  };
}

/**
 * Shim 5. `Dockerfile.organizeComments` (run by every parse) files each comment under the stage whose range holds it,
 * asking every stage's `getRange()` again for every comment: a new Range per comment per stage, O(comments × stages)
 * garbage for a large file. A template's range depends only on its instructions, which the loop does not change
 * (it adds comments), so each stage's range is computed once, in the same order, and the loop is otherwise the
 * library's.
 */
function rangeOnceInOrganizeComments(): void {
  const proto = DockerfileImpl.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[ORGANISED] || typeof proto.organizeComments !== 'function') return;
  proto[ORGANISED] = true;
  type Template = { getRange(): Range; addComment(comment: unknown): void };
  type Comment = { getRange(): Range };
  proto.organizeComments = function organizeComments(this: { getComments(): Comment[]; initialInstructions: Template; buildStages: Template[] }): void {
    const comments = this.getComments();
    if (comments.length === 0) return;
    const initialRange = this.initialInstructions.getRange();
    const stageRanges = this.buildStages.map((stage) => stage.getRange());
    for (const comment of comments) {
      if (Util.isInsideRange(comment.getRange().end, initialRange)) {
        this.initialInstructions.addComment(comment);
      } else {
        for (let i = 0; i < this.buildStages.length; i++) {
          if (Util.isInsideRange(comment.getRange().start, stageRanges[i])) this.buildStages[i].addComment(comment);
        }
      }
    }
  };
}

/** Shim 1: `DockerfileParser.parse` remembers its last text and result. */
function memoiseParse(): void {
  const parser = DockerfileParser as unknown as { parse: (text: string) => unknown; [MEMOISED]?: boolean };
  if (parser[MEMOISED]) return;
  parser[MEMOISED] = true;
  const parse = parser.parse.bind(DockerfileParser);
  let lastText: string | undefined;
  let lastResult: unknown;
  parser.parse = (text: string) => {
    if (text !== lastText) {
      lastText = undefined; // a throw below must not leave a stale pairing behind
      lastResult = parse(text);
      lastText = text;
    }
    return lastResult;
  };
}
