import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireBuildLock, BuildBusyError } from '../../../server/src/build/buildLock';
import { BUILD_RECORD_VERSION, type BuildRecord } from '../../../server/src/build/buildRecord';
import { loadLatestBuildRecord, recordKey, saveBuildRecord } from '../../../server/src/build/buildRecordStore';
import { buildArgs, comparePrediction, normalizeRef } from '../../../server/src/build/buildRunner';
import { neededStages, parseDockerfileSteps } from '../../../server/src/build/dockerfileSteps';
import { mapImageLayers } from '../../../server/src/build/imageLayerLines';
import { isEmptyLayerStep } from '../../../server/src/docker/dockerClient';
import { crlf } from '../../support/paths';

const MULTI = 'ARG V=1\nFROM busybox AS base\nRUN a\n\nFROM base AS tools\nRUN --mount=type=cache,from=cachesrc,target=/c b\n\nFROM alpine AS cachesrc\nRUN c\n\nFROM scratch AS unused\nCOPY x y\n\nFROM base\nCOPY --from=tools /t /t\n';

for (const eol of ['LF', 'CRLF']) {
  const text = (s: string) => (eol === 'CRLF' ? crlf(s) : s);
  describe(`parseDockerfileSteps / neededStages (${eol})`, () => {
    it('stages, parents, 1-based lines, continuation joined like BuildKit; global ARG is not a step', () => {
      const m = parseDockerfileSteps(text('ARG X\nFROM busybox AS Build\nRUN echo a \\\n    && echo b\nFROM build\nCOPY . .\n'));
      assert.deepEqual(m.stages.map((s) => [s.name, s.parent, s.fromLine]), [['build', null, 2], [null, 0, 5]]);
      assert.deepEqual(m.steps.map((s) => [s.keyword, s.line, s.endLine, s.stageIndex]), [['FROM', 2, 2, 0], ['RUN', 3, 4, 0], ['FROM', 5, 5, 1], ['COPY', 6, 6, 1]]);
      assert.equal(m.steps[1]!.text, 'RUN echo a     && echo b');
    });
    it('the target needs its parents, COPY --from and RUN --mount from= stages; not the unused ones', () => {
      const m = parseDockerfileSteps(text(MULTI));
      assert.deepEqual([...neededStages(m, null)].sort(), [0, 1, 2, 4]);
      assert.deepEqual([...neededStages(m, 'tools')].sort(), [0, 1, 2]);
      assert.deepEqual([...neededStages(m, 'base')], [0]);
      assert.deepEqual([...neededStages(m, 'UNUSED')], [3]);
    });
  });
}

describe('mapImageLayers', () => {
  const h = (createdBy: string, size: number) => ({ createdBy, created: '', comment: '', size, emptyLayer: isEmptyLayerStep(createdBy, size) });
  it('base layers go to the root FROM, the top layers to the target chain\'s RUN/COPY/WORKDIR', () => {
    const m = parseDockerfileSteps('FROM busybox AS base\nWORKDIR /w\nENV A=1\nFROM base\nRUN x\nCOPY a b\n');
    const layers = mapImageLayers(m, null, ['sha256:1', 'sha256:2', 'sha256:3', 'sha256:4', 'sha256:5'], [
      h('/bin/sh -c #(nop) ADD file:abc in /', 100), h('/bin/sh -c #(nop)  CMD ["sh"]', 0), h('/bin/sh -c echo base-image-run', 50),
      h('WORKDIR /w', 0), h('ENV A=1', 0), h('RUN /bin/sh -c x # buildkit', 0), h('COPY a b # buildkit', 7),
    ]);
    assert.deepEqual(layers.map((l) => l.line), [1, 1, 2, 5, 6]);
    assert.deepEqual(layers.map((l) => l.size), [100, 50, 0, 0, 7]);
  });
  it('a keyword disagreement leaves the line null instead of guessing', () => {
    const m = parseDockerfileSteps('FROM busybox\nRUN x\n');
    const layers = mapImageLayers(m, null, ['sha256:1', 'sha256:2'], [h('', 10), h('COPY a b # buildkit', 1)]);
    assert.deepEqual(layers.map((l) => l.line), [1, null]);
  });
});

describe('build runner helpers', () => {
  it('docker arguments are an array; buildx adds --load; legacy uses `build`', () => {
    const o = { dockerfile: '/p/Dockerfile', context: '/p', target: 't', buildArgs: { A: 'x y' }, tags: ['a:1', 'b:2'], stateDir: '/s' };
    assert.deepEqual(buildArgs(false, o, '/tmp/iid'), ['build', '--progress=plain', '--file', '/p/Dockerfile', '--iidfile', '/tmp/iid', '--tag', 'a:1', '--tag', 'b:2', '--target', 't', '--build-arg', 'A=x y', '/p']);
    assert.deepEqual(buildArgs(true, o, '/tmp/iid').slice(0, 4), ['buildx', 'build', '--load', '--progress=plain']);
  });
  it('normalizeRef matches BuildKit\'s printed references', () => {
    assert.equal(normalizeRef('alpine'), 'docker.io/library/alpine:latest');
    assert.equal(normalizeRef('strata-test/busybox:1'), 'docker.io/strata-test/busybox:1');
    assert.equal(normalizeRef('ghcr.io/x/y@sha256:ab'), 'ghcr.io/x/y@sha256:ab');
    assert.equal(normalizeRef('localhost:5000/y'), 'localhost:5000/y:latest');
  });
  it('predicted vs actual: counts agreeing hit/miss steps and names each mismatch', () => {
    const steps = [
      { line: 1, endLine: 1, stage: 's', instruction: 'FROM', vertex: '[1/3] FROM x', outcome: 'cached' as const, durationMs: 0 },
      { line: 2, endLine: 2, stage: 's', instruction: 'COPY', vertex: '[2/3] COPY . .', outcome: 'built' as const, durationMs: 5 },
      { line: 3, endLine: 3, stage: 's', instruction: 'RUN', vertex: '[3/3] RUN make', outcome: 'built' as const, durationMs: 9 },
      { line: 4, endLine: 4, stage: 's', instruction: 'RUN', vertex: '', outcome: 'not-run' as const, durationMs: null },
    ];
    assert.deepEqual(comparePrediction([
      { line: 1, cache: 'hit' }, { line: 2, cache: 'hit', reason: { message: 'no file changed' } }, { line: 3, cache: 'miss' }, { line: 4, cache: 'miss' },
    ], steps), [
      '1/2 steps as predicted; line 2 predicted hit, was a miss: [2/3] COPY . . (model: no file changed)',
      'mismatch at line 2: model said hit [no reason]',
    ]);
    assert.deepEqual(comparePrediction([{ line: 2, cache: 'miss', reason: { code: 'file-changed', message: 'a changed' } }, { line: 3, cache: 'hit', reason: { code: 'unchanged', message: 'same' }, explanation: ['key: RUN make'] }], steps), [
      '1/2 steps as predicted; line 3 predicted hit, was a miss: [3/3] RUN make (model: same)',
      'mismatch at line 3: model said hit [unchanged]; inputs: key: RUN make',
    ]);
    assert.deepEqual(comparePrediction([{ line: 1, cache: 'unknown' }], steps), []);
  });
});

describe('build lock and records', () => {
  it('a second build of the same key is refused while the first holds the lock; released → allowed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-lock-'));
    const release = await acquireBuildLock(dir);
    await assert.rejects(acquireBuildLock(dir), (e: BuildBusyError) => e instanceof BuildBusyError && e.owner.pid === process.pid);
    await release();
    await (await acquireBuildLock(dir))();
  });
  it('a stale lock (owner gone) or a half-written one is taken over', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-lock-'));
    writeFileSync(path.join(dir, 'build.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 'x' }));
    await (await acquireBuildLock(dir))();
    writeFileSync(path.join(dir, 'build.lock'), '{"pid":');
    await (await acquireBuildLock(dir))();
  });
  it('a truncated record or one from another version is ignored with a notice, never thrown', async () => {
    const state = mkdtempSync(path.join(os.tmpdir(), 'strata-rec-'));
    const key = { dockerfile: '/p/Dockerfile', context: '/p', target: null };
    const record: BuildRecord = {
      version: BUILD_RECORD_VERSION, id: 'abc', builtAt: new Date(0).toISOString(), ...key, buildArgs: {}, tags: [],
      inputs: null, steps: [], image: null, exitCode: 0, durationMs: 1,
    };
    const file = await saveBuildRecord(state, record);
    assert.deepEqual((await loadLatestBuildRecord(state, key)).record, record);
    const latest = path.join(state, 'builds', recordKey(key), 'latest.json');
    assert.equal(path.dirname(file), path.dirname(latest));
    writeFileSync(latest, JSON.stringify(record).slice(0, 40));
    const truncated = await loadLatestBuildRecord(state, key);
    assert.equal(truncated.record, null);
    assert.match(truncated.notice!, /damaged/);
    writeFileSync(latest, JSON.stringify({ ...record, version: 0 }));
    assert.match((await loadLatestBuildRecord(state, key)).notice!, /another Strata version/);
  });
});
