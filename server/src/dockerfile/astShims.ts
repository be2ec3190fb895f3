/**
 * Two shims on dockerfile-ast 0.7.1, installed once when the language server (and its diagnostics worker) starts.
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
 * 4. A memo of `Instruction.getRawArguments` (see `memoiseRawArguments`): the dominant cost of both the parse and
 *    dockerfile-utils' validation, recomputed on every call (profile in docs/architecture/rules.md "Cold check").
 */
import { DockerfileParser } from 'dockerfile-ast';
import { Instruction } from 'dockerfile-ast/lib/instruction';
import { Dockerfile as DockerfileImpl } from 'dockerfile-ast/lib/dockerfile';
import { ImageTemplate } from 'dockerfile-ast/lib/imageTemplate';
import { Argument } from 'dockerfile-ast/lib/argument';

const GUARDED = Symbol.for('strata.getHeredocsGuarded');
const MEMOISED = Symbol.for('strata.getRawArgumentsMemoised');

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
  memoiseParse();
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

/** A raw argument as computed once: its value and range (kept as numbers, see `memoiseRawArguments`). */
type RawArgument = { value: string; sl: number; sc: number; el: number; ec: number };

/**
 * Shim 4. `Instruction.getRawArguments` scans the instruction's text again on every call and converts each
 * argument's offsets to positions (`TextDocument.positionAt`, a binary search each); `getArguments`, `getFlags`,
 * `getVariables`, every subclass constructor that looks at its arguments (JSON form, FROM, HEALTHCHECK, ONBUILD) and
 * the parser's heredoc detection call it, and dockerfile-utils calls those many times per instruction. The result
 * depends only on the instruction's document text, range and escape character, which are fixed when the parser
 * creates it (each parse makes its own TextDocument; nothing in dockerfile-ast reassigns them), so the first result is
 * remembered per instance. Callers own what they get: `ModifiableInstruction.getArguments` shifts flags off the
 * returned array, `From.getImageNameRange`/`getRegistryRange` assign `start`/`end` of an argument's range and
 * `ShadowText.mapResult` rewrites positions inside feature results in place, so every
 * call returns a new array of new Arguments with new Range and Position objects, equal to what the library would
 * have built. The differential test (test/server/rules/syntaxValidationStock.test.ts) compares the validation with
 * an unpatched copy of dockerfile-ast and dockerfile-utils over the corpus and fuzzed inputs.
 */
function memoiseRawArguments(): void {
  const proto = Instruction.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[MEMOISED]) return;
  const original = proto.getRawArguments as (this: Instruction) => Argument[];
  if (typeof original !== 'function') return;
  const memo = new WeakMap<object, RawArgument[]>();
  proto.getRawArguments = function memoisedGetRawArguments(this: Instruction): Argument[] {
    const known = memo.get(this);
    if (known === undefined) {
      const args = original.call(this);
      memo.set(this, args.map((a) => {
        const r = a.getRange();
        return { value: a.getValue(), sl: r.start.line, sc: r.start.character, el: r.end.line, ec: r.end.character };
      }));
      return args;
    }
    const out: Argument[] = new Array(known.length);
    for (let i = 0; i < known.length; i++) {
      const k = known[i];
      out[i] = new Argument(k.value, { start: { line: k.sl, character: k.sc }, end: { line: k.el, character: k.ec } });
    }
    return out;
  };
  proto[MEMOISED] = true;
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
