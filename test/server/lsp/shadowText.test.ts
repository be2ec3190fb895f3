import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ShadowText } from '../../../server/src/lsp/shadowText';
import { crlf } from '../../support/paths';
import { lineLengths } from '../../support/documentRanges';

const LIMITS = { maxLineLength: 100, keepTail: 10, maxAnalysedChars: 10_000, maxContinuedLines: 5 };

describe('ShadowText', () => {
  it('passes ordinary documents through untouched (identity mapping, same string)', () => {
    const text = 'FROM alpine\nRUN echo hi\n';
    const s = new ShadowText(text, LIMITS);
    assert.equal(s.text, text);
    assert.ok(s.isIdentity);
    assert.deepEqual(s.fromShadow({ line: 1, character: 4 }), { line: 1, character: 4 });
  });

  for (const [eol, fix] of [['LF', (t: string) => t], ['CRLF', crlf]] as const) {
    it(`cuts an over-long line to head + tail and maps positions both ways (${eol})`, () => {
      const long = 'RUN echo ' + 'x'.repeat(1000) + ' \\';
      const text = fix(`FROM a\n${long}\n  && done\n`);
      const s = new ShadowText(text, LIMITS);
      const lengths = lineLengths(s.text);
      assert.equal(lengths.length, lineLengths(text).length, 'same line count');
      assert.equal(lengths[1], 100);
      assert.ok(s.text.split(/\r?\n/)[1].endsWith(' \\'), 'the continuation marker survives in the tail');
      // Head positions are unchanged; tail positions shift by the cut; positions inside the cut go to the cut point.
      assert.deepEqual(s.toShadow({ line: 1, character: 5 }), { line: 1, character: 5 });
      assert.deepEqual(s.toShadow({ line: 1, character: long.length }), { line: 1, character: 100 });
      assert.deepEqual(s.toShadow({ line: 1, character: 500 }), { line: 1, character: 90 });
      assert.deepEqual(s.fromShadow({ line: 1, character: 100 }), { line: 1, character: long.length });
      assert.deepEqual(s.fromShadow({ line: 2, character: 3 }), { line: 2, character: 3 });
      const result = s.mapResult([{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 100 } } }]);
      assert.equal(result[0].range.end.character, long.length);
    });
  }

  it('blanks continuation lines past the limit but keeps the line that ends the instruction', () => {
    const text = 'FROM a\nRUN x \\\n' + '  y \\\n'.repeat(20) + '  z\nUSER root\n';
    const s = new ShadowText(text, LIMITS);
    const shadowLines = s.text.split('\n');
    const lines = text.split('\n');
    assert.equal(shadowLines.length, lines.length);
    assert.equal(shadowLines[22], '  z', 'the last line of the instruction is kept');
    assert.equal(shadowLines[23], 'USER root');
    assert.ok(shadowLines.slice(8, 22).every((l) => l === ''), JSON.stringify(shadowLines));
    assert.ok(s.isBlanked(10));
    assert.ok(!s.isBlanked(2));
    assert.equal(s.mapDiagnostic({ line: 22, character: 0, endLine: 22, endCharacter: 3 }).endCharacter, 3);
  });

  it('blanks whole lines past the analysed size', () => {
    const text = ('RUN ' + 'y'.repeat(90) + '\n').repeat(200);
    const s = new ShadowText(text, LIMITS);
    assert.ok(s.blankedFrom > 0 && s.blankedFrom < 200);
    assert.ok(s.text.length <= LIMITS.maxAnalysedChars + 200);
    assert.equal(lineLengths(s.text).length, lineLengths(text).length);
  });

  // The quick pre-check (needsCuts) decides whether the cutting pass runs at all: it must never miss a needed cut.
  for (const [name, eol] of [['LF', '\n'], ['CRLF', '\r\n'], ['lone CR', '\r']] as const) {
    it(`a long ordinary document is passed through, and a deep continuation in it is still cut (${name})`, () => {
      const ordinary = ['FROM a', ...Array.from({ length: 50 }, (_, i) => `RUN echo ${i} \\`), '  done', 'USER root', ''].join(eol);
      assert.ok(ordinary.length > LIMITS.maxLineLength);
      const s = new ShadowText(ordinary, { ...LIMITS, maxContinuedLines: 50 });
      assert.ok(s.isIdentity);
      assert.equal(s.text, ordinary);
      const cut = new ShadowText(ordinary, { ...LIMITS, maxContinuedLines: 49 });
      assert.ok(cut.isBlanked(50) && !cut.isBlanked(49) && !cut.isBlanked(51), 'the 50th continued line goes');
      const long = new ShadowText(['FROM a', 'RUN ' + 'x'.repeat(200), ''].join(eol), LIMITS);
      assert.ok(!long.isIdentity);
    });
  }
});
