import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkDockerfile, countLines } from '../../../server/src/rules/checkDockerfile';
import { crlf } from '../../support/paths';

const rules = (text: string) => checkDockerfile(text).map((d) => `${d.line}:${d.rule}`);

for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
  describe(`checkDockerfile (${eol})`, () => {
    it('flags an unknown instruction on its line', () => assert.deepEqual(rules(fix('FROM alpine:3.20\nFOO bar\n')), ['1:syntax/unknown-instruction']));
    it('reports nothing on a clean file', () => assert.deepEqual(rules(fix('FROM alpine:3.20\nRUN echo hi\n')), []));
    it('survives RUN \\ then \\#h (dockerfile-ast getHeredocs crash)', () => assert.doesNotThrow(() => checkDockerfile(fix('RUN \\\n\\#h'))));
  });
}

describe('countLines', () => {
  it('counts LF, CRLF and lone CR', () => assert.equal(countLines('a\nb\r\nc\rd'), 4));
  it('an empty text has one line', () => assert.equal(countLines(''), 1));
});
