import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseDockerfileModel } from '../../../server/src/dockerfile/dockerfileModel';
import { evaluateDockerfile } from '../../../server/src/dockerfile/evaluateDockerfile';
import { expandWord, expandWords } from '../../../server/src/dockerfile/expandWords';
import { crlf } from '../../support/paths';

const vars: Record<string, string> = { A: 'a', EMPTY: '', SP: 'x y' };
const look = (n: string) => vars[n];

describe('expandWords (BuildKit shell lexer semantics)', () => {
  const cases: [string, string][] = [
    ['$A', 'a'], ['${A}b', 'ab'], ['${NOPE:-d}', 'd'], ['${EMPTY:-d}', 'd'], ['${EMPTY-d}', ''], ['${NOPE-d}', 'd'],
    ['${A:+set}', 'set'], ['${EMPTY:+set}', ''], ['${EMPTY+set}', 'set'], ["'$A'", '$A'], ['"$A b"', 'a b'], ['\\$A', '$A'],
    ['${NOPE:-${A}}', 'a'], ['pre${NOPE}post', 'prepost'], ['$', '$'],
  ];
  for (const [input, want] of cases) it(`${input} → ${JSON.stringify(want)}`, () => assert.equal(expandWord(input, look).value, want));
  it('splits on unquoted whitespace only, reports undefined variables', () => {
    const e = expandWords('a "b c" $SP $NOPE', look);
    assert.deepEqual(e.words, ['a', 'b c', 'x', 'y']);
    assert.deepEqual([...e.undefinedVars], ['NOPE']);
  });
  it('${V:?msg} on an unset variable is an error, not a throw', () => {
    assert.equal(expandWord('${NOPE:?needed}', look).error, 'NOPE: needed');
  });
  it('honours the escape directive', () => assert.equal(expandWord('`$A', look, '`').value, '$A'));
});

for (const eol of ['LF', 'CRLF'] as const) {
  const t = (s: string) => (eol === 'CRLF' ? crlf(s) : s);
  const ev = (s: string, buildArgs: Record<string, string> = {}, target: string | null = null) =>
    evaluateDockerfile(parseDockerfileModel(t(s)), { buildArgs, target });

  describe(`evaluateDockerfile (${eol})`, () => {
    it('global ARGs reach FROM, and only re-declared ARGs reach the stage', () => {
      const r = ev('ARG IMG=alpine\nARG V=1\nFROM $IMG\nRUN a\nARG V\nRUN b\n');
      const from = r.steps.find((s) => s.ins.keyword === 'FROM')!;
      assert.equal(from.baseRef, 'alpine');
      const runs = r.steps.filter((s) => s.ins.keyword === 'RUN');
      assert.deepEqual(Object.keys(runs[0]!.env), []);
      assert.deepEqual(runs[1]!.env.V, { value: '1', origin: 'arg' });
    });
    it('--build-arg overrides defaults; ENV wins over ARG of the same name', () => {
      const r = ev('FROM x\nARG V=1\nENV V=env\nRUN a\nCOPY $V /d\n', { V: '2' });
      assert.deepEqual(r.steps[3]!.env.V, { value: 'env', origin: 'env' });
      assert.deepEqual(r.steps[4]!.sources, ['env']);
    });
    it('WORKDIR resolves relative paths; COPY dest resolves against it', () => {
      const r = ev('FROM x\nWORKDIR /a\nWORKDIR b\nCOPY f ./\n');
      assert.equal(r.steps[2]!.workdir, '/a/b');
      assert.equal(r.steps[3]!.dest, '/a/b/');
    });
    it('FROM <stage> inherits env/workdir/user; --from resolves to stage indexes', () => {
      const r = ev('FROM x AS one\nENV E=1\nWORKDIR /w\nUSER u\nFROM one AS two\nRUN a\nFROM x\nCOPY --from=two /a /b\nCOPY --from=other:img /a /b\n');
      const run = r.steps.find((s) => s.ins.keyword === 'RUN')!;
      assert.deepEqual([run.env.E?.value, run.workdir, run.user], ['1', '/w', 'u']);
      const copies = r.steps.filter((s) => s.ins.keyword === 'COPY');
      assert.deepEqual([copies[0]!.fromStage, copies[1]!.fromImage], [1, 'other:img']);
      assert.deepEqual([...r.needed].sort(), [0, 1, 2]);
    });
    it('the target picks the needed stages', () => {
      const r = ev('FROM x AS a\nRUN 1\nFROM x AS b\nRUN 2\nFROM a AS c\nRUN 3\n', {}, 'c');
      assert.deepEqual([...r.needed].sort(), [0, 2]);
      assert.deepEqual(ev('FROM x AS a\n', {}, 'nope').problems, ['target stage "nope" not found']);
    });
    it('line numbers span continuations', () => {
      const m = parseDockerfileModel(t('FROM x\nRUN a \\\n  b\n# c\nCOPY a b\n'));
      assert.deepEqual(m.instructions.map((i) => [i.keyword, i.line, i.endLine]), [['FROM', 1, 1], ['RUN', 2, 3], ['COPY', 5, 5]]);
    });
  });
}
