/**
 * Exactness of the incremental checker: after every edit, `IncrementalChecker.check` must deep-equal a fresh
 * `checkDockerfile` of the same text. Every corpus file (LF and CRLF) is checked cold; a seeded sample of them then
 * takes random edit sequences (characters and lines inserted/deleted, snippets that open heredocs, continuations,
 * `# escape=` directives, `${…}`, JSON exec form, variables resolved by FROM/EXPOSE/STOPSIGNAL) and typing through
 * such constructs one character at a time. STRATA_FUZZ_SCALE multiplies the number of edited files and edits.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkDockerfile, countLines } from '../../../server/src/rules/checkDockerfile';
import { validateSyntax } from '../../../server/src/rules/syntaxValidation';
import { IncrementalChecker } from '../../../server/src/rules/incrementalChecker';
import { IncrementalSyntaxValidator } from '../../../server/src/rules/incrementalSyntax';
import { apply, randomEdit, typeAndDelete, TYPED } from '../../support/dockerfileEdits';
import { installAstShims } from '../../../server/src/dockerfile/astShims';
import { CORPUS, crlf } from '../../support/paths';
import { rng } from '../../fuzz/corpusMutator';

installAstShims(); // as the server and the CLI run: the fresh check and the incremental one see the same parser

const DIR = path.join(CORPUS, 'dockerfiles');
const FILES = readFileSync(path.join(DIR, 'SOURCES.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0]);
const SCALE = Math.max(1, Number(process.env.STRATA_FUZZ_SCALE ?? '1') || 1);

function assertSame(checker: IncrementalChecker, text: string, what: string, expected = checkDockerfile(text)): void {
  const actual = checker.check(text);
  try {
    assert.deepStrictEqual(actual, expected);
  } catch (e) {
    assert.fail(`${what}: incremental result differs from a fresh check\n--- text ---\n${JSON.stringify(text)}\n${(e as Error).message.slice(0, 3000)}`);
  }
}

const texts = FILES.map((f) => ({ file: f, text: readFileSync(path.join(DIR, f), 'utf8') }));

describe('IncrementalChecker', () => {
  // Corpus-wide, only the syntax validation is compared: it is the one part the incremental checker computes
  // differently (the scan, BuildKit's checks and the rules are the same code on the same text, see
  // checkDockerfileWith), and a full check of 1,200 texts would cost most of this file's time budget.
  it('validates every corpus file, LF and CRLF, exactly as dockerfile-utils does, cold and re-checked', () => {
    for (const { file, text } of texts) {
      for (const t of [text, crlf(text)]) {
        const lineCount = countLines(t);
        const syntax = new IncrementalSyntaxValidator();
        const expected = validateSyntax(t, lineCount);
        for (const when of ['cold', 'unchanged']) {
          try {
            assert.deepStrictEqual(syntax.validate(t, lineCount), expected);
          } catch (e) {
            assert.fail(`${file} (${when}${t === text ? '' : ', CRLF'}): ${(e as Error).message.slice(0, 3000)}`);
          }
        }
        assert.equal(syntax.lastRun.reparsedItems, 0, `${file}: an unchanged text re-parses nothing`);
      }
    }
  });

  it('equals a fresh check after every edit of random edit sequences (seeded)', () => {
    const r = rng(20261125);
    const files = Math.min(texts.length, 40 * SCALE);
    let checks = 0;
    let incremental = 0;
    for (let n = 0; n < files; n++) {
      const { file, text: original } = texts[Math.floor(r() * texts.length)];
      const eol = r() < 0.3 ? '\r\n' : '\n';
      let text = eol === '\r\n' ? crlf(original) : original;
      const checker = new IncrementalChecker();
      checker.check(text);
      const seed = Math.floor(r() * 1e9);
      const er = rng(seed);
      for (let k = 0; k < 25 * SCALE; k++) {
        text = apply(text, randomEdit(text, er, eol));
        assertSame(checker, text, `${file} seed ${seed} edit ${k}`);
        checks++;
        if (!checker.lastRun.full) incremental++;
      }
    }
    // The comparison proves something only if the edits took the incremental path (not the full fallback).
    assert.ok(incremental > checks * 0.8, `${incremental} of ${checks} checks were incremental`);
  });

  it('equals a fresh check while a word is typed into arguments and deleted again, line after line (seeded)', () => {
    const r = rng(11);
    let cached = 0;
    for (let n = 0; n < 12 * SCALE; n++) {
      const { file, text: original } = texts[Math.floor(r() * texts.length)];
      const eol = n % 3 === 2 ? '\r\n' : '\n';
      const lines = (eol === '\r\n' ? crlf(original) : original).split(eol);
      const checker = new IncrementalChecker();
      checker.check(lines.join(eol));
      for (let visit = 0; visit < 6; visit++) {
        const line = Math.floor(r() * lines.length);
        const before = lines[line];
        const at = Math.max(0, before.search(/\S\s/) + 2);
        for (const typed of ['x', 'xy', 'xyz', 'xy', 'x', '']) {
          lines[line] = before.slice(0, at) + typed + before.slice(at);
          assertSame(checker, lines.join(eol), `${file} line ${line} typed ${JSON.stringify(typed)}`);
          if (checker.lastRun.cachedItems > 0) cached++;
        }
      }
    }
    // Deleting restores texts seen before: some instructions come from the item cache, and are compared too.
    assert.ok(cached > 0, 'some restored instructions came from the item cache');
  });

  it('equals a fresh check while typing through heredocs, continuations, escape directives, ${ and exec form', () => {
    const r = rng(7);
    for (let n = 0; n < 6 * SCALE; n++) {
      const { file, text: original } = texts[Math.floor(r() * texts.length)];
      const checker = new IncrementalChecker();
      checker.check(original);
      for (const step of typeAndDelete(original, TYPED[n % TYPED.length], r)) assertSame(checker, step.text, `${file} ${step.what}`);
    }
  });
});

/** Checks `before`, then `after` with the same checker; the second result must equal a fresh check. */
function step(before: string, after: string, incremental = true): ReturnType<typeof checkDockerfile> {
  const checker = new IncrementalChecker();
  checker.check(before);
  const expected = checkDockerfile(after);
  assertSame(checker, after, `${JSON.stringify(before)} → ${JSON.stringify(after)}`, expected);
  assert.equal(checker.lastRun.full, !incremental, incremental ? 'the edit took the incremental path' : 'the full validation ran');
  return expected;
}
const has = (ds: ReturnType<typeof checkDockerfile>, rule: string, line?: number) => ds.some((d) => d.rule === rule && (line === undefined || d.line === line));

for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
  describe(`IncrementalChecker edge cases (${eol})`, () => {
    it('re-validates EXPOSE $P when the ENV it resolves against changes', () => {
      assert.ok(has(step(fix('FROM a\nENV P=80\nEXPOSE $P\n'), fix('FROM a\nENV P=abc\nEXPOSE $P\n')), 'syntax/invalid-port', 2));
      assert.ok(!has(step(fix('FROM a\nENV P=abc\nEXPOSE $P\n'), fix('FROM a\nENV P=80\nEXPOSE $P\n')), 'syntax/invalid-port'));
    });
    it('re-validates an ONBUILD trigger that resolves a variable', () => {
      step(fix('FROM a\nENV P=80\nONBUILD EXPOSE $P\n'), fix('FROM a\nENV P=x\nONBUILD EXPOSE $P\n'));
    });
    it('FROM $BASE follows the global ARG that defines it', () => {
      step(fix('ARG BASE=alpine\nFROM $BASE\n'), fix('ARG BAS=alpine\nFROM $BASE\n'));
    });
    it('an escape directive typed at the top re-parses everything', () => {
      step(fix('FROM a\nRUN echo `\n  hi\nEXPOSE abc\n'), fix('# escape=`\nFROM a\nRUN echo `\n  hi\nEXPOSE abc\n'), false);
    });
    it('a heredoc opener swallows the lines after it', () => {
      assert.ok(!has(step(fix('FROM a\nRUN cat\nEXPOSE abc\nEOF\n'), fix('FROM a\nRUN cat <<EOF\nEXPOSE abc\nEOF\n')), 'syntax/invalid-port'));
    });
    it('a continuation joins the next instruction', () => {
      step(fix('FROM a\nRUN echo\nEXPOSE abc\n'), fix('FROM a\nRUN echo \\\nEXPOSE abc\n'));
    });
    it('findings below move with lines inserted above', () => {
      assert.ok(has(step(fix('FROM a\nEXPOSE abc\n'), fix('\n\nFROM a\nEXPOSE abc\n')), 'syntax/invalid-port', 3));
    });
    it('a `# dockerfile-utils: ignore` comment typed above an instruction silences it', () => {
      assert.ok(!has(step(fix('FROM a\nEXPOSE abc\n'), fix('FROM a\n# dockerfile-utils: ignore\nEXPOSE abc\n')), 'syntax/invalid-port'));
    });
    it('duplicate stage names across instructions', () => {
      const ds = step(fix('FROM a AS x\nFROM b AS y\n'), fix('FROM a AS x\nFROM b AS x\n'));
      assert.ok(has(ds, 'syntax/duplicate-build-stage-name', 0) && has(ds, 'syntax/duplicate-build-stage-name', 1));
    });
    it('no FROM left: only ARGs', () => {
      assert.ok(has(step(fix('ARG A\nFROM a\n'), fix('ARG A\n')), 'syntax/no-source-image'));
    });
    it('the `RUN \\` + `\\#h` input that crashes dockerfile-ast', () => {
      step(fix('FROM a\nRUN echo\n'), fix('FROM a\nRUN \\\n\\#h\n'));
    });
    it('an unterminated heredoc at the end, then terminated', () => {
      step(fix('FROM a\nRUN <<EOF\necho\n'), fix('FROM a\nRUN <<EOF\necho\nEOF\nEXPOSE abc\n'));
    });
    it('a byte-order mark added', () => {
      step(fix('FROM a\nEXPOSE abc\n'), fix('\ufeffFROM a\nEXPOSE abc\n'));
    });
    it('a line break typed before a byte-order mark (which then belongs to the instruction)', () => {
      assert.ok(has(step(fix('\ufeffFROM a\nEXPOSE abc\n'), fix('\n\ufeffFROM a\nEXPOSE abc\n')), 'syntax/unknown-instruction', 1));
    });
    /** Checks each text in turn with one checker; each result must equal a fresh check. Returns the syntax's last run. */
    const session = (...texts: string[]) => {
      const checker = new IncrementalChecker();
      for (const t of texts) assertSame(checker, t, JSON.stringify(t));
      return checker.lastRun;
    };
    const RUN3 = 'FROM a\nRUN echo one \\\n  two \\\n  three\nEXPOSE abc\n';
    it('a keystroke undone in a continued instruction takes it from the item cache, not parsed again', () => {
      // (`;` is no word character: not a word edit, see below)
      const run = session(fix(RUN3), fix(RUN3.replace('two', 'two;')), fix(RUN3));
      assert.deepEqual([run.reparsedItems, run.cachedItems, run.unchanged, run.wordEdit], [0, 1, true, false]);
    });
    it('a letter typed in a RUN script, and deleted, parses nothing (word edit)', () => {
      for (const [typed, word] of [['twox', 'in a word'], ['xtwo', 'at a word\'s start'], ['tw', 'a letter deleted']]) {
        const run = session(fix(RUN3), fix(RUN3.replace('two', typed)));
        assert.deepEqual([run.reparsedItems, run.cachedItems, run.unchanged, run.wordEdit], [0, 0, true, true], word);
      }
    });
    it('edits a RUN word edit must not take: keyword, flags, a word made or removed, comment and continuation lines', () => {
      const notWordEdits: [string, string][] = [
        ['FROM a\nRUN echo one\n', 'FROM a\nRUNx echo one\n'],
        ['FROM a\nRUN --mount=type=cache,target=/x echo one\n', 'FROM a\nRUN x--mount=type=cache,target=/x echo one\n'],
        ['FROM a\nRUN echo one two\n', 'FROM a\nRUN echo one x two\n'],
        ['FROM a\nRUN echo one \\\n  two \\\n  three\n', 'FROM a\nRUN echo one \\\n  two \\x\n  three\n'],
        ['FROM a\nRUN echo one \\\n  #two \\\n  three\n', 'FROM a\nRUN echo one \\\n  #twox \\\n  three\n'],
        ['FROM a\nRUN echo one \\\n  two \\\n  three\n', 'FROM a\nRUN echo one \\\n  x#two \\\n  three\n'],
        ['FROM a\nRUN echo \\ x\\\n  two\n', 'FROM a\nRUN echo \\ xy\\\n  two\n'],
        ['FROM a\nRUN cat <<EOF\nhi\nEOF\n', 'FROM a\nRUN cat <<EOFx\nhi\nEOF\n'],
        ["FROM a\nRUN ['echo', 'one']\n", "FROM a\nRUN ['echo', 'onex']\n"],
        ['FROM a\nRUN echo one\n  two\n', 'FROM a\nRUN echo one\n  twox\n'],
      ];
      for (const [before, after] of notWordEdits) {
        assert.equal(session(fix(before), fix(after)).wordEdit, false, JSON.stringify(after));
      }
    });
    it('a keystroke that changes no syntax problem hands back the previous answer; one that does, a new one', () => {
      assert.equal(session(fix(RUN3), fix(RUN3.replace('two', 'twox'))).unchanged, true);
      assert.equal(session(fix(RUN3), fix(RUN3.replace('abc', 'abcd'))).unchanged, false);
      assert.equal(session(fix(RUN3), fix(RUN3.replace('abc', '80'))).unchanged, false);
    });
    it('a cached instruction keeps its own problems and its neighbours theirs', () => {
      const bad = 'FROM a\nEXPOSE 80 \\\n  abc\nEXPOSE def\n';
      const run = session(fix(bad), fix(bad.replace('abc', 'abcd')), fix(bad));
      assert.deepEqual([run.reparsedItems, run.cachedItems], [0, 1]);
    });
    it('an instruction that ran to the end of the text is parsed again, not taken from the cache', () => {
      const open = 'FROM a\nRUN echo one \\\n  two \\\n';
      const run = session(fix(open), fix(open.replace('two', 'twox')), fix(open));
      assert.equal(run.cachedItems, 0);
    });
    it('a cached text followed by other lines than when it was cached', () => {
      session(fix(RUN3), fix(RUN3.replace('two', 'twox')), fix(RUN3.replace('EXPOSE abc', 'EXPOSE 80')), fix(RUN3.replace('EXPOSE abc', 'EXPOSE 80').replace('two', 'twox')));
    });
    it('a long invalid stage name (defused by the full validation) takes the full path, at once', () => {
      const cpu = process.cpuUsage();
      step(fix('FROM a AS b\nRUN x\n'), fix(`FROM a AS ${'b'.repeat(40)}!\nRUN x\n`), false);
      const used = process.cpuUsage(cpu);
      assert.ok((used.user + used.system) / 1000 < 2000, 'dockerfile-utils\' stage-name regex is never reached undefused');
    });
  });
}

describe('IncrementalChecker edge cases (lone CR)', () => {
  it('lone CR line ends', () => {
    step('FROM a\rEXPOSE 80\r', 'FROM a\rEXPOSE abc\r');
  });
});

describe('IncrementalSyntaxValidator when its own run throws', () => {
  it('answers with the full validation, and starts afresh (cold) on the next text', () => {
    const syntax = new IncrementalSyntaxValidator();
    const before = 'FROM a\nEXPOSE 80\n';
    const after = 'FROM a\nEXPOSE abc\n';
    syntax.validate(before, countLines(before));
    const internals = syntax as unknown as { run(text: string): unknown };
    const run = internals.run;
    internals.run = () => { throw new Error('simulated'); };
    assert.deepStrictEqual(syntax.validate(after, countLines(after)), validateSyntax(after, countLines(after)));
    assert.equal(syntax.lastRun.full, true);
    internals.run = run;
    assert.deepStrictEqual(syntax.validate(before, countLines(before)), validateSyntax(before, countLines(before)));
    assert.equal(syntax.lastRun.full, true, 'the state the failed run may have left half-updated is not reused');
  });
});
