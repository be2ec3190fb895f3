/**
 * Line breaks as LSP counts them (`\n`, `\r\n`, lone `\r`): every rule's range must land on the line the editor
 * shows. Before the shared split honoured a lone `\r`, these ranges fell one line past their instruction per `\r`.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';
import { continuationAt, perInstruction, scanDockerfile, splitLines } from '../../../server/src/rules/dockerfileScan';
import { rng } from '../../fuzz/corpusMutator';
import { crlf } from '../../support/paths';

const at = (text: string, rule: string) => checkDockerfile(text).filter((d) => d.rule === rule)
  .map((d) => `${d.line}:${d.character}-${d.endLine}:${d.endCharacter}`);

describe('line breaks (lone CR, CRLF)', () => {
  it('splitLines breaks on LF, CRLF and lone CR', () => assert.deepEqual(splitLines('a\nb\r\nc\rd\r'), ['a', 'b', 'c', 'd', '']));
  it('FromAsCasing after a lone CR', () => assert.deepEqual(at('# x\rFROM alpine:3.20 as base\n', 'FromAsCasing'), ['1:0-1:24']));
  it('FromAsCasing with CRLF', () => assert.deepEqual(at(crlf('# x\nFROM alpine:3.20 as base\n'), 'FromAsCasing'), ['1:0-1:24']));
  it('reliability/pipefail after a lone CR', () => assert.deepEqual(at('FROM debian:12\r\rRUN curl -s https://x | sh\n', 'reliability/pipefail'), ['2:22-2:23']));
  it('reliability/pipefail with CRLF', () => assert.deepEqual(at(crlf('FROM debian:12\n\nRUN curl -s https://x | sh\n'), 'reliability/pipefail'), ['2:22-2:23']));
  it('a shell command on a continuation line after lone CRs', () => assert.deepEqual(
    at('FROM debian:12\rRUN apt-get update && \\\r  apt-get install curl\r', 'reliability/apt-get-assume-yes'), ['2:2-2:9']));
});

/** BuildKit's line-continuation regex, as the scan used it before `continuationAt` matched it by hand. */
function continuationRegex(escape: string): RegExp {
  const e = escape === '`' ? '`' : '\\\\';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

describe('continuationAt = BuildKit\'s continuation regex', () => {
  const both = (line: string, escape: string) => {
    const m = continuationRegex(escape).exec(line);
    const k = continuationAt(line, escape.charCodeAt(0));
    assert.equal(k >= 0, m !== null, JSON.stringify([line, escape]));
    if (m) assert.equal(line.slice(0, k), line.replace(continuationRegex(escape), '$1'), JSON.stringify([line, escape]));
  };
  it('edge cases', () => {
    for (const t of ['', '\\', '\\ ', ' \\', 'a\\', 'a\\\\', 'a\\\\ ', 'a \\\t \t', '\\\\', '`', 'a`', 'a``', 'a\\`', 'a`\\', 'a\\ b', 'a\\\u00a0', '\t\\', 'x\\\r']) {
      for (const e of ['\\', '`']) both(t, e);
    }
  });
  it('seeded random lines over escapes, spaces, tabs and other whitespace', () => {
    const next = rng(20261126);
    const alphabet = ['\\', '`', ' ', '\t', 'a', '\u00a0', '#', '\r'];
    for (let i = 0; i < 20_000; i++) {
      let line = '';
      for (let n = Math.floor(next() * 7); n > 0; n--) line += alphabet[Math.floor(next() * alphabet.length)];
      both(line, i % 2 ? '`' : '\\');
    }
  });
});

describe('comment and blank lines with Unicode whitespace', () => {
  const scan = (text: string) => scanDockerfile(text).instructions.map((i) => `${i.upper} ${i.startLine}-${i.endLine} ${JSON.stringify(i.rest)} ${i.hasEmptyContinuation} ${JSON.stringify(i.prevComments)}`);
  // (As in BuildKit, a comment's text is the raw line minus its first character, here the space, then trimmed.)
  it('a comment after a no-break space, inside and before an instruction', () => assert.deepEqual(
    scan('\u00a0# note\nRUN a \\\n\u3000# inside\n  b\n'), ['RUN 1-3 "a   b" false ["# note"]']));
  it('a continuation line of Unicode spaces is an empty continuation', () => assert.deepEqual(
    scan('RUN a \\\n\u2028\u00a0\n  b\n'), ['RUN 0-2 "a   b" true []']));
  it('the same with CRLF', () => assert.deepEqual(
    scan(crlf('RUN a \\\n\u3000\n  b\n')), ['RUN 0-2 "a   b" true []']));
});

describe('perInstruction', () => {
  it('computes once per instruction object and escape, again for another instruction or escape', () => {
    const calls: string[] = [];
    const words = perInstruction((ins, escape) => { calls.push(`${ins.upper} ${escape}`); return ins.rest.split(' '); });
    const [from, run] = scanDockerfile('FROM a\nRUN b c\n').instructions;
    assert.equal(words(run, '\\'), words(run, '\\'));
    words(from, '\\');
    words(run, '`');
    assert.deepEqual(calls, ['RUN \\', 'FROM \\', 'RUN `']);
  });
});
