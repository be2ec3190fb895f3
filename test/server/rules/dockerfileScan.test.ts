/**
 * Line breaks as LSP counts them (`\n`, `\r\n`, lone `\r`): every rule's range must land on the line the editor
 * shows. Before the shared split honoured a lone `\r`, these ranges fell one line past their instruction per `\r`.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';
import { splitLines } from '../../../server/src/rules/dockerfileScan';
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
