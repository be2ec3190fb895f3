/**
 * BuildKit's checks re-used across edits (buildkitCheckMemo.ts): reused exactly when nothing they read changed (a
 * keystroke in a RUN's script), re-run when anything they read did, and always equal to a fresh run — one-line cases
 * with their CRLF twins, then seeded random edit sessions with options (build args, .dockerignore) that change too.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { BuildkitCheckMemo } from '../../../../server/src/rules/buildkit/buildkitCheckMemo';
import { runBuildkitChecks, type BuildkitCheckOptions } from '../../../../server/src/rules/buildkit/buildkitChecks';
import { scanDockerfile } from '../../../../server/src/rules/dockerfileScan';
import { IncrementalScanner } from '../../../../server/src/rules/incrementalScan';
import { apply, randomEdit } from '../../../support/dockerfileEdits';
import { crlf } from '../../../support/paths';
import { rng } from '../../../fuzz/corpusMutator';

const BASE = 'FROM alpine:3.20 AS build\nENV A=1\nRUN echo hi && make\nCOPY src/ /src/\nCMD ["sh"]\n';

/** Checks `before`, then `after` (through an incremental scan, as the checker does): reused or not, and exact. */
function second(before: string, after: string, options: BuildkitCheckOptions = {}, optionsAfter = options): boolean {
  const memo = new BuildkitCheckMemo();
  const scanner = new IncrementalScanner();
  memo.run(scanner.scan(before), options);
  const result = memo.run(scanner.scan(after), optionsAfter);
  assert.deepStrictEqual(result, runBuildkitChecks(scanDockerfile(after), optionsAfter));
  return memo.reused;
}

describe('BuildkitCheckMemo', () => {
  for (const [name, eol] of [['LF', (t: string) => t], ['CRLF', crlf]] as const) {
    const edit = (find: string, replace: string) => eol(BASE.replace(find, replace));
    const base = eol(BASE);
    it(`reuses the result for a keystroke in a RUN's script (${name})`, () => assert.equal(second(base, edit('echo hi', 'echo hix')), true));
    it(`reuses it for the same text (${name})`, () => assert.equal(second(base, base), true));
    it(`re-runs for a changed ENV value (${name})`, () => assert.equal(second(base, edit('A=1', 'A 1')), false));
    it(`re-runs for a flag added to a RUN (${name})`, () => assert.equal(second(base, edit('RUN echo', 'RUN --mount=type=cache,target=/x echo')), false));
    it(`re-runs for a RUN's keyword casing (${name})`, () => assert.equal(second(base, edit('RUN echo', 'run echo')), false));
    it(`re-runs for a comment before a RUN (${name})`, () => assert.equal(second(base, edit('RUN echo', '# check=skip=all\nRUN echo')), false));
    it(`re-runs for an empty continuation line in a RUN (${name})`, () => assert.equal(second(base, edit('echo hi &&', 'echo hi && \\\n\n')), false));
    it(`re-runs when lines move (${name})`, () => assert.equal(second(base, edit('ENV A=1\n', 'ENV A=1\n\n')), false));
    it(`re-runs for a changed COPY source (${name})`, () => assert.equal(second(base, edit('src/', 'node_modules/'), { dockerignore: 'node_modules\n' }), false));
    it(`re-runs for another .dockerignore (${name})`, () => assert.equal(second(base, base, { dockerignore: 'x\n' }, { dockerignore: 'src\n' }), false));
    it(`re-runs for other build args (${name})`, () => assert.equal(second(base, base, { buildArgs: new Map([['A', '1']]) }, { buildArgs: new Map([['A', '2']]) }), false));
    it(`reuses it for equal build args in a new map (${name})`, () => assert.equal(second(base, base, { buildArgs: new Map([['A', '1']]) }, { buildArgs: new Map([['A', '1']]) }), true));
    it(`re-runs for another target (${name})`, () => assert.equal(second(base, base, { target: 'build', allStages: false }, { target: null, allStages: false }), false));
    it(`re-runs for a check directive (${name})`, () => assert.equal(second(base, eol('# check=error=true\n' + BASE)), false));
  }

  it('equals a fresh run after every edit of seeded random sessions, options changing now and then', () => {
    const r = rng(20261126);
    const optionSets: BuildkitCheckOptions[] = [
      {}, { dockerignore: 'src\n*.md\n' }, { buildArgs: new Map([['A', 'x'], ['BUILDKIT_DOCKERFILE_CHECK', 'skip=all']]) }, { target: 'build', allStages: false },
    ];
    let reused = 0;
    let runs = 0;
    for (let session = 0; session < 30; session++) {
      const eol = session % 3 === 0 ? '\r\n' : '\n';
      let text = eol === '\r\n' ? crlf(BASE) : BASE;
      const memo = new BuildkitCheckMemo();
      const scanner = new IncrementalScanner();
      let options = optionSets[0];
      for (let k = 0; k < 60; k++) {
        text = apply(text, randomEdit(text, r, eol));
        if (r() < 0.1) options = optionSets[Math.floor(r() * optionSets.length)];
        const result = memo.run(scanner.scan(text), options);
        assert.deepStrictEqual(result, runBuildkitChecks(scanDockerfile(text), options), `session ${session} edit ${k}: ${JSON.stringify(text)}`);
        runs++;
        if (memo.reused) reused++;
      }
    }
    // Random edits land in RUN scripts often enough that some results are reused, and change other things more often.
    assert.ok(reused > 0 && reused < runs, `${reused} of ${runs} reused`);
  });
});
