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
 */
import { DockerfileParser } from 'dockerfile-ast';
import { Instruction } from 'dockerfile-ast/lib/instruction';
import { Dockerfile as DockerfileImpl } from 'dockerfile-ast/lib/dockerfile';
import { ImageTemplate } from 'dockerfile-ast/lib/imageTemplate';

const GUARDED = Symbol.for('strata.getHeredocsGuarded');

export function installAstShims(): void {
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

  const parser = DockerfileParser as unknown as { parse: (text: string) => unknown };
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
