/**
 * Exactness of the fast syntax validation (issue 6, cold full check): Strata's path — dockerfile-ast with the
 * `getRawArguments` memo (astShims.ts) and `newSyntaxValidator`'s `checkVariables` shortcut — must give exactly what
 * stock dockerfile-utils `validate()` gives on an unpatched copy of dockerfile-ast and dockerfile-utils (loaded beside
 * ours, see test/support/pristineAst.ts): same problems (code, message, range, severity, tags, instruction line), same
 * order. Both sides validate the same text (after `defuseStageNames`, which keeps dockerfile-utils' exponential
 * stage-name regex from hanging either side), and the copy gets the crash/recursion guards only (those change results
 * only where the library would throw). Inputs: every corpus Dockerfile with LF and CRLF, hand-written edge cases, and
 * the fuzz test's seeded mutations of corpus files (same seed and mutator as test/fuzz/rules).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { installAstGuards, installAstShims } from '../../../server/src/dockerfile/astShims';
import { DEDUPLICATED, defuseStageNames, newSyntaxValidator, toStrataSyntax, validateSyntax } from '../../../server/src/rules/syntaxValidation';
import { countLines } from '../../../server/src/rules/checkDockerfile';
import { loadPristineAst } from '../../support/pristineAst';
import { CORPUS, crlf } from '../../support/paths';
import { FUZZ_SEED, loadCorpus, mutate, rng } from '../../fuzz/corpusMutator';
import { Parser as OwnParser } from 'dockerfile-ast/lib/parser';
import { astViews } from '../dockerfile/astViews';

const pristine = loadPristineAst();
installAstGuards(pristine);
installAstShims();

const DIR = path.join(CORPUS, 'dockerfiles');
const FILES = readFileSync(path.join(DIR, 'SOURCES.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0]);
const MUTATED = 600 * Math.max(1, Number(process.env.STRATA_FUZZ_SCALE ?? '1') || 1);

/** Stock dockerfile-utils' problems and ours for one text, as plain data. */
function both(text: string): { stock: unknown; ours: unknown; stockFinal: unknown; oursFinal: unknown } {
  const defused = defuseStageNames(text);
  const stock = pristine.utils.validate(defused.text, DEDUPLICATED);
  const ours = newSyntaxValidator().validate(TextDocument.create('', '', 0, defused.text));
  const lines = countLines(text);
  return {
    stock: JSON.parse(JSON.stringify(stock)),
    ours: JSON.parse(JSON.stringify(ours)),
    stockFinal: toStrataSyntax(stock, lines, defused.renamed),
    oursFinal: validateSyntax(text, lines),
  };
}

function assertSame(text: string, what: string): void {
  const r = both(text);
  assert.deepEqual(r.ours, r.stock, `${what}: dockerfile-utils problems differ from stock`);
  assert.deepEqual(r.oursFinal, r.stockFinal, `${what}: validateSyntax differs from stock`);
}

const EDGE_CASES = [
  // checkVariables: modifiers are reported outside RUN/CMD/ENTRYPOINT only, in the `${…}` form only.
  'FROM alpine\nENV A=${B:} C=${D!x} E=${F:+y}\nRUN echo ${G:} ${H!x}\nCMD echo ${I:}\nENTRYPOINT ${J!}\nLABEL x=${K#y}\n',
  'FROM alpine\nARG A=$B\nCOPY $\\\n{X:} /y\nWORKDIR ${W:\\\n}\nUSER $U:${G!}\n',
  'ONBUILD ENV A=${B!}\nONBUILD RUN ${C!}\nFROM x\nONBUILD COPY ${D:} /e\n',
  // FROM ranges that From.getImageNameRange/getRegistryRange assign into (the memo must hand out fresh objects).
  'ARG R=docker.io\nFROM ${R}/library/alpine:3.20@sha256:abc AS build\nFROM localhost:5000/a/b:c\nFROM build\nFROM scratch AS x y\n',
  // Flags shifted off the argument list by ModifiableInstruction.getArguments, twice per instruction.
  'FROM a\nCOPY --from=a --chown=1:1 --link x y\nADD --checksum=sha256:0 --keep-git-dir=true u /d\nRUN --mount=type=cache,target=/c --network=none echo\nHEALTHCHECK --interval=5s --timeout=1s CMD ["x"]\nHEALTHCHECK NONE\n',
  // JSON forms, heredocs, escapes, variables resolved by EXPOSE/STOPSIGNAL/FROM.
  'FROM a\nENV P=80 S=SIGKILL\nEXPOSE $P ${P}/udp 80/x 70000\nSTOPSIGNAL $S\nCMD ["a", \'b\']\nSHELL ["sh"\nRUN <<EOF\necho $P\nEOF\nCOPY <<A <<B /x\na\nA\nb\nB\n',
  '# escape=`\nFROM mcr/x\nRUN echo `\n  hi ${X:}\nENV A=${B!} `\n  C=d\n',
  '#directive=x\n# escape=\\\n# escape=`\nFROM a\nMAINTAINER me\nfrom b as B\nFROM c AS b\nCMD x\nCMD y\nENTRYPOINT z\nENTRYPOINT w\n# dockerfile-utils: ignore\nEXPOSE abc\n',
  // checkJSONQuotes: single-quoted JSON arrays (reported), across continuations and comment lines, and near misses.
  "FROM a\nCMD ['a', 'b']\nENTRYPOINT [ 'x' ,\\\n# c\n 'y' ]\nRUN ['sh']\nVOLUME ['/v']\nSHELL ['sh', '-c']\nRUN echo '[x]'\nCMD [\"a\", 'b']\nRUN [] \nCMD [ ]\n",
  // getHeredocLines: heredocs (escaped openers too) next to empty continuation lines.
  'FROM a\nRUN <<EOF \\\n\n cat\nx\nEOF\nRUN <\\<EOF\nx\nEOF\nCOPY <<-A /a\n\tb\n\tA\nRUN echo \\\n\n  hi\nRUN x <<E\n',
  // checkArguments: RUN (and ONBUILD RUN) without arguments, lower case, next to instructions missing theirs.
  'FROM a\nRUN\nrun \nONBUILD RUN\nONBUILD run x y\nVOLUME\nENTRYPOINT\nWORKDIR\nUSER\nRUN --mount=type=cache,target=/x\n',
  'ARG A\nARG B=${A:-x}\n', '', '\n\n', 'RUN x\n', '\ufeffFROM a\nRUN \\\n\n', 'FROM a\nRUN \\\n\\#h\n',
];

for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
  describe(`syntax validation = stock dockerfile-utils (${eol})`, () => {
    it('every corpus Dockerfile', () => {
      for (const f of FILES) assertSame(fix(readFileSync(path.join(DIR, f), 'utf8')), f);
    });
    it('edge cases', () => {
      EDGE_CASES.forEach((t, i) => assertSame(fix(t), `edge case ${i}: ${JSON.stringify(t)}`));
    });
  });
}

describe('syntax validation = stock dockerfile-utils (fuzzed corpus files)', () => {
  it(`${MUTATED} seeded mutations (seed ${FUZZ_SEED})`, () => {
    const corpus = loadCorpus();
    const r = rng(FUZZ_SEED);
    let stockThrew = 0;
    for (let i = 0; i < MUTATED; i++) {
      const { text, what } = mutate(r, corpus);
      let threw: unknown;
      try {
        pristine.utils.validate(defuseStageNames(text).text, DEDUPLICATED);
      } catch (e) {
        threw = e;
      }
      if (threw) {
        // Then ours must fail the same way (checkDockerfile reports it as a rule error, as before).
        stockThrew++;
        assert.throws(() => newSyntaxValidator().validate(TextDocument.create('', '', 0, defuseStageNames(text).text)), `iteration ${i}: ${what}`);
        continue;
      }
      assertSame(text, `iteration ${i}: ${what}`);
    }
    assert.ok(stockThrew < MUTATED / 10, `stock threw on ${stockThrew} inputs`);
  });
});

describe('getRawArguments memo (astShims)', () => {
  it('every argument view of every corpus instruction equals an unpatched parse, LF and CRLF', () => {
    const stock = (t: string) => new pristine.Parser().parse(t) as unknown as { getInstructions(): unknown[] };
    const ours = (t: string) => new OwnParser().parse(t) as unknown as { getInstructions(): unknown[] };
    // The two sides really are different copies: ours memoised, the copy not.
    const raw = (proto: object) => (proto as { getRawArguments: unknown }).getRawArguments;
    assert.notEqual(raw(pristine.Instruction.prototype), raw(Object.getPrototypeOf(Object.getPrototypeOf(new OwnParser().parse('RUN x').getInstructions()[0]))));
    for (const f of FILES.filter((_, i) => i % 3 === 0)) {
      const text = readFileSync(path.join(DIR, f), 'utf8');
      for (const t of [text, crlf(text)]) assert.deepEqual(astViews(ours, t), astViews(stock, t), f);
    }
    for (const t of EDGE_CASES) assert.deepEqual(astViews(ours, t), astViews(stock, t), JSON.stringify(t));
  });
  it('callers own what they get: mutating a returned range or array does not reach the next call', () => {
    const from = new OwnParser().parse('FROM registry:5000/ns/img:tag AS x\n').getFROMs()[0];
    const before = JSON.stringify(from.getArguments());
    from.getImageNameRange(); // assigns start/end of the first argument's range
    from.getRegistryRange();
    const args = from.getArguments();
    args.shift();
    args[0].getRange().start.character = 99;
    assert.equal(JSON.stringify(from.getArguments()), before);
  });
});
