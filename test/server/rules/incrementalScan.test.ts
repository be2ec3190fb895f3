/**
 * Exactness of the incremental scan: after every edit, `IncrementalScanner.scan` must deep-equal a fresh
 * `scanDockerfile` of the same text, over seeded random edit sequences on corpus files (LF and CRLF) and while
 * typing through heredocs, continuations and escape directives; and a one-character edit in a long file must
 * actually re-scan only the instruction it touched (else the comparison proves little).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { scanDockerfile } from '../../../server/src/rules/dockerfileScan';
import { IncrementalScanner } from '../../../server/src/rules/incrementalScan';
import { CORPUS, crlf } from '../../support/paths';
import { rng } from '../../fuzz/corpusMutator';
import { apply, randomEdit, typeAndDelete, TYPED } from '../../support/dockerfileEdits';

const DIR = path.join(CORPUS, 'dockerfiles');
const FILES = readFileSync(path.join(DIR, 'SOURCES.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0]!);
const texts = FILES.map((f) => ({ file: f, text: readFileSync(path.join(DIR, f), 'utf8') }));
const SCALE = Math.max(1, Number(process.env.STRATA_FUZZ_SCALE ?? '1') || 1);

function assertSame(scanner: IncrementalScanner, text: string, what: string): void {
  const actual = scanner.scan(text);
  const expected = scanDockerfile(text);
  try {
    assert.deepStrictEqual(actual, expected);
  } catch (e) {
    assert.fail(`${what}: incremental scan differs from a fresh scan\n--- text ---\n${JSON.stringify(text).slice(0, 2000)}\n${(e as Error).message.slice(0, 3000)}`);
  }
}

describe('IncrementalScanner', () => {
  it('equals a fresh scan after every edit of random edit sequences (seeded, LF and CRLF)', () => {
    const r = rng(20261126);
    let scans = 0;
    let reused = 0;
    for (let n = 0; n < 150 * SCALE; n++) {
      const { file, text: original } = texts[Math.floor(r() * texts.length)]!;
      const eol = r() < 0.3 ? '\r\n' : '\n';
      let text = eol === '\r\n' ? crlf(original) : original;
      const scanner = new IncrementalScanner();
      scanner.scan(text);
      const seed = Math.floor(r() * 1e9);
      const er = rng(seed);
      for (let k = 0; k < 40; k++) {
        text = apply(text, randomEdit(text, er, eol));
        assertSame(scanner, text, `${file} seed ${seed} edit ${k}`);
        scans++;
        if (scanner.lastRun.reusedBefore + scanner.lastRun.reusedAfter > 0) reused++;
      }
    }
    assert.ok(reused > scans * 0.6, `only ${reused} of ${scans} scans reused earlier work`);
  });

  it('equals a fresh scan while typing snippets in and deleting them again', () => {
    const r = rng(11);
    for (let n = 0; n < 30 * SCALE; n++) {
      const { file, text: original } = texts[Math.floor(r() * texts.length)]!;
      const text = n % 2 ? crlf(original) : original;
      const scanner = new IncrementalScanner();
      scanner.scan(text);
      for (const step of typeAndDelete(text, TYPED[n % TYPED.length]!, r)) assertSame(scanner, step.text, `${file} ${step.what}`);
    }
  });

  it('a character typed in one instruction of a long file re-scans that instruction only', () => {
    const body = Array.from({ length: 200 }, (_, i) => `RUN echo ${i} \\\n  && true`).join('\n');
    const text = `# syntax=docker/dockerfile:1\nFROM alpine\n${body}\n`;
    const scanner = new IncrementalScanner();
    scanner.scan(text);
    const at = text.indexOf('echo 100') + 4;
    const edited = text.slice(0, at) + 'x' + text.slice(at);
    assertSame(scanner, edited, 'one character');
    assert.deepEqual(scanner.lastRun, { full: false, rescanned: 1, reusedBefore: 101, reusedAfter: 99 });
    const withLine = edited.slice(0, at) + '\n# note\n' + edited.slice(at);
    assertSame(scanner, withLine, 'a comment line inserted');
    assert.equal(scanner.lastRun.full, false);
    assert.ok(scanner.lastRun.rescanned <= 3, JSON.stringify(scanner.lastRun));
  });

  for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
    it(`a comment typed on the first line re-scans the first instruction only; a directive typed there, what it changes (${eol})`, () => {
      const body = Array.from({ length: 50 }, (_, i) => `RUN echo ${i} \\\n  && true`).join('\n');
      const text = fix(`#\nFROM alpine\n${body}\n`);
      const scanner = new IncrementalScanner();
      scanner.scan(text);
      assertSame(scanner, fix(`#a\nFROM alpine\n${body}\n`), 'a letter in the first line\'s comment');
      assert.deepEqual(scanner.lastRun, { full: false, rescanned: 1, reusedBefore: 0, reusedAfter: 50 });
      // `# escape=\`` as the first line: every continuation now ends at the first line break, nothing is reused
      assertSame(scanner, fix(`# escape=\`\nFROM alpine\n${body}\n`), 'an escape directive');
      assert.equal(scanner.lastRun.reusedAfter, 0);
      assertSame(scanner, fix(`#\nFROM alpine\n${body}\n`), 'the directive removed');
    });
  }

  it('edge cases: directives, an open continuation or heredoc at the end, BOM, same text', () => {
    const cases: [string, string][] = [
      ['# escape=`\nFROM a\nRUN echo `\n  hi\n', 'FROM a\nRUN echo `\n  hi\n'],
      ['FROM a\nRUN echo `\n  hi\n', '# escape=`\nFROM a\nRUN echo `\n  hi\n'],
      ['FROM a\nRUN echo \\', 'FROM a\nRUN echo \\\n  more\n'],
      ['FROM a\nRUN <<EOF\necho', 'FROM a\nRUN <<EOF\necho\nEOF\nRUN b\n'],
      ['FROM a\nRUN <<EOF\necho\nEOF\nRUN b\n', 'FROM a\nRUN <<EOF\necho\nRUN b\n'],
      ['FROM a\nRUN b\n', '\ufeffFROM a\nRUN b\n'],
      ['FROM a\n# c\n\n# d\nRUN b\n', 'FROM a\n# c\n# d\nRUN b\n'],
      ['FROM a\nRUN b\nRUN c\n', 'FROM a\nRUN b\nRUN c\n'],
      ['FROM a\nRUN b\n\n', 'FROM a\nRUN b\n'],
      ['FROM a\nRUN b \\\n\nRUN c\n', 'FROM a\nRUN b \\\n\n\nRUN c\n'],
      ['# check=skip=all\n# check=error=true\nFROM a\n', '# check=skip=all\nFROM a\n'],
    ];
    for (const [before, after] of cases) {
      for (const fix of [(s: string) => s, crlf]) {
        const scanner = new IncrementalScanner();
        scanner.scan(fix(before));
        assertSame(scanner, fix(after), `${JSON.stringify(fix(before))} → ${JSON.stringify(fix(after))}`);
        assertSame(scanner, fix(before), `and back: ${JSON.stringify(fix(before))}`);
      }
    }
  });
});
