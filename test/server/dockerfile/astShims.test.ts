import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { validate } from 'dockerfile-utils';
import { installAstShims } from '../../../server/src/dockerfile/astShims';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';
import { crlf } from '../../support/paths';

// Found by test/fuzz/rules: an unknown instruction continued into a blank line before the first FROM sends
// dockerfile-ast's Dockerfile.resolveVariable into unbounded recursion (it resolves against itself).
const RECURSION = '\twget "$url"; \\\n\nFROM node\n';

for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
  describe(`astShims (${eol})`, () => {
    it('dockerfile-utils validation survives the resolveVariable recursion', () => {
      installAstShims();
      assert.doesNotThrow(() => validate(fix(RECURSION)));
    });
    it('the syntax rule still reports the unknown instruction instead of failing', () => {
      installAstShims();
      const errors: string[] = [];
      const found = checkDockerfile(fix(RECURSION), { onRuleError: (rule) => errors.push(rule) });
      assert.deepEqual(errors, []);
      assert.ok(found.some((d) => d.rule === 'syntax/unknown-instruction' && d.line === 0), JSON.stringify(found.map((d) => d.rule)));
    });
    it('the guard leaves ordinary resolution alone: ARG default reaches FROM', () => {
      installAstShims();
      const errors: string[] = [];
      checkDockerfile(fix('ARG V=3.20\nFROM alpine:${V}\nRUN echo $V\n'), { onRuleError: (rule) => errors.push(rule) });
      assert.deepEqual(errors, []);
    });
  });
}
