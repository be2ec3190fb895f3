/**
 * `parseWords` (dockerfileScan.ts) cuts each word with one `substring`; it must split exactly as the character-by-
 * character version it replaced (kept here as the reference) on seeded random texts over quotes, both escape
 * characters, ASCII and Unicode whitespace, and an escape at the end.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseWords } from '../../../server/src/rules/dockerfileScan';
import { rng } from '../../fuzz/corpusMutator';

function referenceParseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos < rest.length; pos++) {
    const ch = rest[pos];
    if (!inWord) {
      if (/\s/.test(ch)) continue;
      inWord = true;
    }
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === escape && quote !== "'") {
        if (pos + 1 === rest.length) continue;
        word += ch;
        pos++;
        word += rest[pos];
        continue;
      }
      word += ch;
      continue;
    }
    if (/\s/.test(ch)) {
      if (blankOK || word.length > 0) words.push(word);
      word = '';
      blankOK = false;
      inWord = false;
      continue;
    }
    if (ch === '"' || ch === "'") { quote = ch; blankOK = true; }
    if (ch === escape) {
      if (pos + 1 === rest.length) continue;
      word += ch;
      pos++;
      word += rest[pos];
      continue;
    }
    word += ch;
  }
  if (inWord && (blankOK || word.length > 0)) words.push(word);
  return words;
}

describe('parseWords = the character-by-character reference', () => {
  it('edge cases', () => {
    for (const t of ['', ' ', 'a', 'a b', '""', "'' x", '"a b" c', "'a\\' b", '"a\\" b"', 'a\\', '\\', 'a\\ b', '`', 'a` b', '\u00a0a\u2028b\u3000', '"\\', "'"]) {
      for (const e of ['\\', '`']) assert.deepEqual(parseWords(t, e), referenceParseWords(t, e), JSON.stringify([t, e]));
    }
  });
  it('20000 seeded random texts', () => {
    const r = rng(7);
    const ALPHABET = ['a', 'b', '=', '\\', '`', '"', "'", ' ', ' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u2028', '\u3000', '\ufeff', '\u200b', 'é', '$', '{'];
    for (let i = 0; i < 20000; i++) {
      let t = '';
      const n = Math.floor(r() * 20);
      for (let k = 0; k < n; k++) t += ALPHABET[Math.floor(r() * ALPHABET.length)];
      const e = r() < 0.5 ? '\\' : '`';
      assert.deepEqual(parseWords(t, e), referenceParseWords(t, e), JSON.stringify([t, e]));
    }
  });
});
