/**
 * The RUN word edit (server/src/rules/runWordEdit.ts): which one-line edits keep a RUN item as it was, and — the test
 * that matters — that the incremental validator, taking them without parsing, still gives exactly the full
 * validation's answer: seeded sequences of single-character edits (mostly letters typed and deleted, near escape
 * characters, `#`, `--`, `[`, quotes, `<`, blanks, Unicode spaces…) in hostile RUN instructions and in the corpus's,
 * LF and CRLF, with a backtick escape too, each result compared with `validateSyntax` of the same text.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { keepsRunItem } from '../../../server/src/rules/runWordEdit';
import { IncrementalSyntaxValidator } from '../../../server/src/rules/incrementalSyntax';
import { validateSyntax } from '../../../server/src/rules/syntaxValidation';
import { countLines } from '../../../server/src/rules/checkDockerfile';
import { installAstShims } from '../../../server/src/dockerfile/astShims';
import { CORPUS, crlf } from '../../support/paths';
import { rng } from '../../fuzz/corpusMutator';

installAstShims();
const SCALE = Math.max(1, Number(process.env.STRATA_FUZZ_SCALE ?? '1') || 1);
const BODY = { line: 0, character: 4 }; // `RUN x…`: arguments start at column 4 of the item's first line

describe('keepsRunItem', () => {
  for (const [eol, end] of [['LF', ''], ['CRLF', '\r\n']] as const) {
    const keeps = (before: string, after: string, rel = 1) => keepsRunItem(before + end, after + end, rel, BODY, '\\');
    it(`a letter typed or deleted inside or at the end of a word (${eol})`, () => {
      assert.equal(keeps('  apt-get install \\', '  apt-get installx \\'), true);
      assert.equal(keeps('  apt-get install \\', '  apt-get instll \\'), true);
      assert.equal(keeps('  apt-get install curl', '  apt-get install curlx'), true);
    });
    it(`at a word's start only when the word goes on and is no flag (${eol})`, () => {
      assert.equal(keeps('  apt-get install \\', '  apt-get xinstall \\'), true);
      assert.equal(keeps('  apt-get install \\', '  apt-get x install \\'), false); // a new word
      assert.equal(keeps('  apt-get --yes \\', '  apt-get x--yes \\'), false);
      assert.equal(keeps('  x\\y \\', '  x x\\y \\'), false); // a space typed: a word made
    });
    it(`not on the keyword or before the first argument's first character (${eol})`, () => {
      assert.equal(keeps('RUN echo', 'RUNx echo', 0), false);
      assert.equal(keeps('RUN echo', 'RUN xecho', 0), false);
      assert.equal(keeps('RUN echo', 'RUN exho', 0), true);
      assert.equal(keepsRunItem('RUN --mount=x \\' + end, 'RUN --mountx=x \\' + end, 0, { line: 1, character: 2 }, '\\'), false);
    });
    it(`not where a line continuation, a comment or a blank line could change (${eol})`, () => {
      assert.equal(keeps('  echo \\', '  echo \\x'), false);
      assert.equal(keeps('  echo x', '  echo '), false);
      assert.equal(keeps('  echo x\u00a0', '  echo \u00a0'), false);
      assert.equal(keeps('  #echo \\', '  #echox \\'), false);
      assert.equal(keeps('  \\#echo', '  \\#echox'), false);
      assert.equal(keeps('  echo \\ a \\', '  echo \\ ab \\'), false);
      assert.equal(keeps('  echo $A \\', '  echo $Ax \\'), true);
      assert.equal(keeps('  echo "a b" \\', '  echo "ax b" \\'), true);
    });
    it(`only letters, digits and _ (${eol})`, () => {
      assert.equal(keeps('  echo ab', '  echo a-b'), false);
      assert.equal(keeps('  echo ab', '  echo a b'), false);
      assert.equal(keeps('  echo a_b', '  echo a_1b'), true);
      assert.equal(keeps('  echo ab', '  echo a\\b'), false);
    });
  }
  it('with a backtick escape', () => {
    assert.equal(keepsRunItem('  echo ` a `', '  echo ` ab `', 1, BODY, '`'), false);
    assert.equal(keepsRunItem('  echo a `', '  echo ab `', 1, BODY, '`'), true);
    assert.equal(keepsRunItem('  `#echo', '  `#echox', 1, BODY, '`'), false);
  });
});

/** RUN instructions made to trip a wrong word edit: escapes, escape-space pairs, comments, flags, JSON, heredocs. */
const HOSTILE = [
  'RUN echo one \\\n  two \\\n  three\n',
  'RUN --mount=type=cache,target=/x a--b --network=none \\\n  c--d --e f \\\n  g\n',
  'RUN set -eux; \\\n  apt-get update; \\\n  \\\n  # a comment \\\n  apt-get install -y --no-install-recommends curl; \\\n  \\#h x \\\n  rm -rf /var/lib/apt/lists/*\n',
  'RUN echo \\ a \\\n  \\ b\\\n  c \\ \n  d\n',
  "RUN ['echo', 'one', \\\n  'two']\n",
  'RUN [ -f x ] && echo \'y\' \\\n  z\n',
  'RUN cat <<EOF >x \\\n  y\nhello\nEOF\n',
  'RUN echo a\u00a0\\\n  b\u00a0 \\\n  \u00a0\n',
  'RUN echo x \\\n  \u00a0\n',
  'RUN echo \\\n  \\ X\n',
  'RUN echo x \\\n  \\# dockerfile-utils: ignorex \\\n  y\n',
  'RUN a--b --mount=x c \\\n  --d e\n',
  'RUN x \\\n\n  # dockerfile-utils: ignorex \\\n  y\nEXPOSE abc\n',
  'RUN\\\n  echo \\\n  $HOME ${A:-b} "q r" \\\n  \'s t\' \\\n  u\n',
  'run echo \\\n  lower\n',
  'RUN echo \\\n  one\\\\\n  two\n',
  'ONBUILD RUN echo \\\n  one\n',
];
const CORPUS_FILES = readFileSync(path.join(CORPUS, 'dockerfiles/FEATURES.tsv'), 'utf8').trim().split('\n').slice(1)
  .map((r) => r.split('\t')[0]).filter((_, i) => i % 9 === 0)
  .map((f) => readFileSync(path.join(CORPUS, 'dockerfiles', f), 'utf8'));
const NEAR = ['\\', '#', '-', '[', "'", '"', '<', ' ', '\t', '$', '\u00a0', '`', '=', ';'];
const LETTERS = 'abcxyz019_';

/** A one-character edit on a line of a RUN, mostly a letter typed or deleted, often next to a character in NEAR. */
function edit(text: string, r: () => number): string {
  const runs: number[] = [];
  for (let i = text.indexOf('RUN'); i >= 0; i = text.indexOf('RUN', i + 1)) runs.push(i);
  for (let i = text.indexOf('run'); i >= 0; i = text.indexOf('run', i + 1)) runs.push(i);
  const start = runs.length > 0 && r() < 0.95 ? runs[Math.floor(r() * runs.length)] : 0;
  let at = Math.min(text.length, start + Math.floor(r() * 160));
  if (r() < 0.5) {
    // next to a character of interest
    const c = NEAR[Math.floor(r() * NEAR.length)];
    const near = text.indexOf(c, start);
    if (near >= 0) at = near + (r() < 0.5 ? 0 : 1);
  }
  const k = r();
  if (k < 0.5) return text.slice(0, at) + LETTERS[Math.floor(r() * LETTERS.length)] + text.slice(at);
  if (k < 0.85) return at < text.length && text[at] !== '\n' && text[at] !== '\r' ? text.slice(0, at) + text.slice(at + 1) : text;
  return text.slice(0, at) + NEAR[Math.floor(r() * NEAR.length)] + text.slice(at);
}

/** The validator's items as a parse gives them: place, text, comment lines, facts and problems. */
function items(validator: IncrementalSyntaxValidator): unknown[] {
  const state = (validator as unknown as { state?: { items: Record<string, unknown>[] } }).state;
  return (state?.items ?? []).map(({ startLine, endLine, column, text, comment, ignoreLines, facts, problems, triggerProblems }) =>
    ({ startLine, endLine, column, text, comment, ignoreLines, facts, problems, triggerProblems }));
}

describe('IncrementalSyntaxValidator with word edits', () => {
  // Edits next to what each condition of keepsRunItem guards (each fails the comparison when its condition is dropped,
  // but for the one marked conservative).
  const NEAR_MISSES: [string, string, string][] = [
    ['an escape and a space before a word (dockerfile-ast skips the character after them)',
      'FROM a\nRUN echo \\\n  \\ X\nEXPOSE abc\n', 'FROM a\nRUN echo \\\n  \\ aX\nEXPOSE abc\n'],
    ['a comment after an escape character',
      'FROM a\nRUN x \\\n  \\# dockerfile-utils: ignorex\n  y\n', 'FROM a\nRUN x \\\n  \\# dockerfile-utils: ignore\n  y\n'],
    ['a word made to stop being a flag after the first argument (the flags move where the arguments start)',
      'FROM a\nRUN a--b --mount=x c--d \\\n  --e f\n', 'FROM a\nRUN a--b --mount=x c--d \\\n  z--e f\n'],
    // (conservative: such a line ends the RUN, and dockerfile-utils reports no empty continuation for it today)
    ['a line blank to trim() made not blank', 'FROM a\nRUN echo x \\\n  \u00a0\nEXPOSE abc\n', 'FROM a\nRUN echo x \\\n  a\u00a0\nEXPOSE abc\n'],
    ['a word made (a word without `--` ends the flags)', 'FROM a\nRUN a--b --mount=x c--d \\\n   --e f\n', 'FROM a\nRUN a--b --mount=x c--d \\\n  z --e f\n'],
  ];
  for (const [name, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
    it(`gives a fresh validation's answer and items next to each condition (${name})`, () => {
      for (const [what, before, after] of NEAR_MISSES) {
        const validator = new IncrementalSyntaxValidator();
        for (const text of [fix(before), fix(after), fix(before)]) {
          const actual = validator.validate(text, countLines(text));
          const fresh = new IncrementalSyntaxValidator();
          assert.deepStrictEqual(actual, fresh.validate(text, countLines(text)), what);
          assert.deepStrictEqual(items(validator), items(fresh), what);
        }
      }
    });
  }

  for (const [name, fix] of [['LF', (s: string) => s], ['CRLF', crlf], ['backtick escape', (s: string) => '# escape=`\n' + s.replace(/\\/g, '`')]] as const) {
    it(`equals the full validation after every edit of seeded sequences (${name})`, () => {
      const r = rng(0x5eed + name.length);
      let wordEdits = 0;
      let checks = 0;
      // (one with a RUN before the first FROM: a context item of the variable items after it)
      const bases = [...HOSTILE.map((h) => `FROM a\n${h}EXPOSE abc\n`), 'RUN echo pre \\\n  two\nARG P=80\nFROM $B\nEXPOSE $P abc\n', ...CORPUS_FILES];
      for (let round = 0; round < SCALE; round++) {
        for (const base of bases) {
          const validator = new IncrementalSyntaxValidator();
          let text = fix(base);
          validator.validate(text, countLines(text));
          for (let e = 0; e < 60; e++) {
            text = edit(text, r);
            const lineCount = countLines(text);
            const actual = validator.validate(text, lineCount);
            checks++;
            if (validator.lastRun.wordEdit) wordEdits++;
            const expected = validateSyntax(text, lineCount);
            const fresh = new IncrementalSyntaxValidator();
            fresh.validate(text, lineCount);
            try {
              assert.deepStrictEqual(actual, expected);
              // What the next edit starts from: the same items as a parse of this text would make.
              assert.deepStrictEqual(items(validator), items(fresh));
            } catch (err) {
              assert.fail(`edit ${e} (word edit: ${validator.lastRun.wordEdit}) differs from a fresh validation\n${JSON.stringify(text)}\n${(err as Error).message.slice(0, 2000)}`);
            }
          }
        }
      }
      // The path under test is taken often (a mutation that never takes it would pass the loop above trivially).
      assert.ok(wordEdits > checks / 20, `${wordEdits} word edits of ${checks} checks`);
    });
  }
});
