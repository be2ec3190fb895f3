/**
 * Exactness of `scanRawArguments` (server/src/dockerfile/rawArguments.ts), the shim's re-implementation of
 * dockerfile-ast's `Instruction.getRawArguments`: for every instruction (ONBUILD triggers too) of every input, its
 * values and ranges must equal what the library's own method returns, called on an unpatched copy of dockerfile-ast
 * (test/support/pristineAst.ts). Inputs: every corpus Dockerfile (LF and CRLF), and seeded random Dockerfiles over a
 * small hostile alphabet (both escape characters, `\r\n`, lone `\r`, comments inside continuations, escaped
 * whitespace before a line break, `\$`, an escape at the end of the text…) with `# escape=\` and `# escape=``. The
 * shimmed `getRawArguments` (memo included) is compared the same way, called twice, with a mutation in between, and
 * so is every argument view of a shimmed parse (the short cuts of astShims.ts: flags, argument range and content,
 * heredoc detection, comments per stage).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { installAstGuards, installAstShims } from '../../../server/src/dockerfile/astShims';
import { PositionWalker, scanRawArguments, type RawArgumentsSource } from '../../../server/src/dockerfile/rawArguments';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Parser as OwnParser } from 'dockerfile-ast/lib/parser';
import { loadPristineAst } from '../../support/pristineAst';
import { rng } from '../../fuzz/corpusMutator';
import { astViews, type ParsedDockerfile } from './astViews';
import { CORPUS, crlf } from '../../support/paths';

const pristine = loadPristineAst();
installAstGuards(pristine);
installAstShims();

const DIR = path.join(CORPUS, 'dockerfiles');
const FILES = readFileSync(path.join(DIR, 'SOURCES.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0]);
const RANDOM_TEXTS = 20000 * Math.max(1, Number(process.env.STRATA_FUZZ_SCALE ?? '1') || 1);

type Plain = { value: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } }[];
interface AnyInstruction {
  getKeyword(): string;
  getTriggerInstruction?(): AnyInstruction | null;
}
const stockGetRawArguments = (pristine.Instruction.prototype as unknown as { getRawArguments(): unknown[] }).getRawArguments;
const ownGetRawArguments = (OwnParser.prototype.parse.call(new OwnParser(), 'FROM a').getInstructions()[0] as unknown as { getRawArguments(): unknown[] }).getRawArguments;

function plain(args: unknown[]): Plain {
  return (args as { getValue(): string; getRange(): Plain[number]['range'] }[]).map((a) => {
    const r = a.getRange();
    return { value: a.getValue(), range: { start: { line: r.start.line, character: r.start.character }, end: { line: r.end.line, character: r.end.character } } };
  });
}

function scanned(instruction: AnyInstruction): Plain | undefined {
  const raw = scanRawArguments(instruction as unknown as RawArgumentsSource);
  if (!raw) return undefined;
  return raw.values.map((value, k) => {
    const p = raw.positions.slice(4 * k, 4 * k + 4);
    return { value, range: { start: { line: p[0], character: p[1] }, end: { line: p[2], character: p[3] } } };
  });
}

/** Every instruction of a stock parse of `text`, ONBUILD triggers included. */
function instructionsOf(text: string): AnyInstruction[] {
  const out: AnyInstruction[] = [];
  const all = new pristine.Parser().parse(text).getInstructions() as unknown as AnyInstruction[];
  for (const instruction of all) {
    out.push(instruction);
    if (instruction.getKeyword() === 'ONBUILD') {
      const trigger = instruction.getTriggerInstruction?.();
      if (trigger) out.push(trigger);
    }
  }
  return out;
}

const stockParse = (t: string) => new pristine.Parser().parse(t) as unknown as ParsedDockerfile;
const ownParse = (t: string) => new OwnParser().parse(t) as unknown as ParsedDockerfile;

/**
 * Compares the scan (and the shimmed method, twice) with the library's method on every instruction, and every
 * argument view of a shimmed parse with an unpatched one; returns how many instructions.
 */
function assertSameArguments(text: string, what: string, views = true): number {
  if (views) assert.deepEqual(astViews(ownParse, text), astViews(stockParse, text), `${what}: argument views: ${JSON.stringify(text)}`);
  const instructions = instructionsOf(text);
  instructions.forEach((instruction, k) => {
    const stock = plain(stockGetRawArguments.call(instruction));
    const label = `${what}, instruction ${k}: ${JSON.stringify(text)}`;
    assert.deepEqual(scanned(instruction), stock, label);
    // The shim as installed (memo included), on a parse of its own: same values, and fresh objects on every call.
    const first = ownGetRawArguments.call(instruction) as { getRange(): { start: { line: number } } }[];
    assert.deepEqual(plain(first), stock, `${label} (shim, first call)`);
    if (first.length > 0) first[0].getRange().start.line = -7;
    assert.deepEqual(plain(ownGetRawArguments.call(instruction)), stock, `${label} (shim, second call)`);
  });
  return instructions.length;
}

const EDGE_CASES = [
  'RUN a \\\n  b\n', 'RUN a\\\n#c\n b\n', 'RUN a \\ \n b', 'RUN a\\ \t\r\n b\n', 'RUN a\\\r\nb\r\n', 'RUN a\\\rxb\rc\n',
  'RUN \\$x \\a \\\\ b\\', 'RUN a\\', 'RUN \\', 'RUN \\ ', 'RUN \\\n \\ x', 'RUN a\\\n \\ x y', 'RUN x \\ y \\  z',
  'RUN \\\n#c\n\n#d\n e\n', 'RUN a\\\n # not a comment\n', 'RUN\n', 'RUN', 'RUN   \n', '\ufeffRUN a b\n',
  '# escape=`\nRUN a `\n b ``c `$d \\e\n', '# escape=`\r\nRUN a ` \r\n b\r\n', '# escape=`\nRUN a`', '# escape=\\\nRUN a\\\n',
  'ONBUILD RUN a \\\n b\nONBUILD\nONBUILD  COPY x y\n', 'FROM a\rRUN b\r\rc\\\r\rd\n', 'RUN a\r\n\r\n\\\r\nb',
];

describe('scanRawArguments = dockerfile-ast getRawArguments', () => {
  for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
    it(`every corpus Dockerfile (${eol})`, () => {
      let n = 0;
      // Argument views of every third file (the stock-validation test compares them on another third).
      FILES.forEach((f, i) => { n += assertSameArguments(fix(readFileSync(path.join(DIR, f), 'utf8')), f, i % 3 === 1); });
      assert.ok(n > 1000, `only ${n} instructions compared`);
    });
    it(`edge cases (${eol})`, () => {
      EDGE_CASES.forEach((t, i) => assertSameArguments(fix(t), `edge case ${i}`));
    });
  }

  it(`${RANDOM_TEXTS} seeded random Dockerfiles over a hostile alphabet`, () => {
    const r = rng(20261126);
    const KEYWORDS = ['RUN', 'COPY', 'FROM', 'ENV', 'ONBUILD', 'ONBUILD RUN', 'HEALTHCHECK', 'CMD', 'EXPOSE', 'LABEL', 'ARG', 'run', 'ADD', 'SHELL', 'X'];
    const ALPHABET = ['a', 'b', '\\', '`', '#', '$', '{', '}', '"', "'", ' ', ' ', '\t', '\n', '\r', '\r\n', '-', '=', '[', ']', ',', '<<', 'é', '\u2028'];
    const HEADS = ['', '', '# escape=`\n', '# escape=\\\n', '# escape=`\r\n', '#escape=`\n#x=y\n', '\ufeff'];
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
    let instructions = 0;
    let withContinuation = 0;
    for (let t = 0; t < RANDOM_TEXTS; t++) {
      let text = pick(HEADS);
      const count = 1 + Math.floor(r() * 3);
      for (let k = 0; k < count; k++) {
        text += pick(KEYWORDS) + pick([' ', '\t', '', ' \\\n']);
        const length = Math.floor(r() * 24);
        for (let c = 0; c < length; c++) text += pick(ALPHABET);
        if (r() < 0.8) text += pick(['\n', '\r\n', '\r']);
      }
      if (/[\\`]\r?\n/.test(text)) withContinuation++;
      instructions += assertSameArguments(text, `random text ${t}`);
    }
    // The generator must reach the states that matter: continuations in most texts, thousands of instructions.
    assert.ok(withContinuation > RANDOM_TEXTS / 4, `${withContinuation} texts with a continuation`);
    assert.ok(instructions > RANDOM_TEXTS, `${instructions} instructions`);
  });

  it('PositionWalker = TextDocument.positionAt on any offsets (mostly increasing, some behind, past the end)', () => {
    const r = rng(11);
    const PIECES = ['a', 'b', ' ', '\n', '\r', '\r\n', '\r\n', '\n\r'];
    for (let t = 0; t < 3000; t++) {
      let text = '';
      const n = Math.floor(r() * 30);
      for (let k = 0; k < n; k++) text += PIECES[Math.floor(r() * PIECES.length)];
      const doc = TextDocument.create('', '', 0, text);
      const startLine = Math.floor(r() * doc.lineCount);
      const walker = new PositionWalker(text, doc, startLine, doc.offsetAt({ line: startLine, character: 0 }));
      let offset = doc.offsetAt({ line: startLine, character: 0 }) - 2;
      for (let q = 0; q < 12; q++) {
        offset += Math.floor(r() * 5) - 1; // -1 … +3: increasing on the whole, sometimes one back
        walker.at(offset);
        assert.deepEqual({ line: walker.line, character: walker.character }, doc.positionAt(Math.max(0, offset)), `${JSON.stringify(text)} from line ${startLine}, offset ${offset}`);
      }
    }
  });
});
