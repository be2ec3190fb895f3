import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { defuseStageNames, validateSyntax } from '../../../server/src/rules/syntaxValidation';
import { crlf } from '../../support/paths';

// dockerfile-utils' stage-name regex backtracks exponentially (ReDoS); found by the 100,000-file fuzz run.
const LONG_INVALID = 'a'.repeat(80) + '!';

for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
  describe(`validateSyntax (${eol})`, () => {
    it('reports a long invalid stage name at once, naming it', () => {
      const cpu = process.cpuUsage();
      const found = validateSyntax(fix(`FROM alpine AS ${LONG_INVALID}\n`), 2);
      const used = process.cpuUsage(cpu);
      assert.ok((used.user + used.system) / 1000 < 500, 'no exponential backtracking');
      const d = found.find((x) => x.rule === 'syntax/invalid-build-stage-name');
      assert.ok(d, JSON.stringify(found));
      assert.equal(d.line, 0);
      assert.equal(d.character, 15);
      assert.equal(d.endCharacter, 15 + LONG_INVALID.length);
      assert.ok(d.message.includes(LONG_INVALID), d.message);
    });
    it('defuses a long invalid name split by a line continuation (as dockerfile-utils joins it)', () => {
      const cpu = process.cpuUsage();
      const found = validateSyntax(fix(`FROM alpine AS ${'a'.repeat(30)}\\\n${LONG_INVALID}\n`), 3);
      const used = process.cpuUsage(cpu);
      assert.ok((used.user + used.system) / 1000 < 500, 'no exponential backtracking');
      assert.ok(found.some((x) => x.rule === 'syntax/invalid-build-stage-name'), JSON.stringify(found));
    });
    it('defuses the third argument of a FROM without AS (dockerfile-utils tests it all the same)', () => {
      const cpu = process.cpuUsage();
      validateSyntax(fix(`FROM img FROM ${LONG_INVALID}\n`), 2);
      const used = process.cpuUsage(cpu);
      assert.ok((used.user + used.system) / 1000 < 500, 'no exponential backtracking');
    });
    it('leaves valid stage names alone', () => {
      assert.deepEqual(validateSyntax(fix('FROM alpine AS build-stage.one_two\nFROM build-stage.one_two\n'), 3), []);
    });
    it('a short invalid name is reported as before', () => {
      assert.ok(validateSyntax(fix('FROM alpine AS b!d\n'), 2).some((x) => x.rule === 'syntax/invalid-build-stage-name'));
    });
  });
}

describe('defuseStageNames', () => {
  it('changes only invalid long names, keeping length', () => {
    const r = defuseStageNames(`FROM a AS ${LONG_INVALID}\nFROM b AS validname_longer_than_12\n`);
    assert.equal(r.text, `FROM a AS 0${LONG_INVALID.slice(1)}\nFROM b AS validname_longer_than_12\n`);
  });
  it('returns the same text when nothing is invalid', () => {
    const t = 'FROM a AS build\nRUN echo as well\n';
    assert.equal(defuseStageNames(t).text, t);
  });
});
