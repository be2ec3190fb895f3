import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BuildProgressParser, builderError, type ProgressEvent } from '../../../server/src/build/buildProgressParser';
import { parseDockerfileSteps } from '../../../server/src/build/dockerfileSteps';
import { VertexLineMapper } from '../../../server/src/build/vertexLineMapper';
import { crlf, ROOT } from '../../support/paths';

const FIXTURES = path.join(ROOT, 'test/fixtures/build-logs');
const fixture = (name: string) => ({
  log: readFileSync(path.join(FIXTURES, `${name}.log`), 'utf8'),
  dockerfile: readFileSync(path.join(FIXTURES, `${name}.Dockerfile`), 'utf8'),
});

/** Parses a captured log and maps every step vertex to its line: `{ name → [line, state, durationMs] }`. */
function run(name: string, opts: { crlfDockerfile?: boolean; chunk?: number } = {}) {
  const f = fixture(name);
  const events: ProgressEvent[] = [];
  const parser = new BuildProgressParser((e) => events.push(e), { now: () => 0 });
  if (opts.chunk) for (let i = 0; i < f.log.length; i += opts.chunk) parser.push(f.log.slice(i, i + opts.chunk));
  else parser.push(f.log);
  parser.end();
  const mapper = new VertexLineMapper(parseDockerfileSteps(opts.crlfDockerfile ? crlf(f.dockerfile) : f.dockerfile));
  const steps = new Map<string, { line: number | null; state: string; ms: number | null; kind: string }>();
  for (const v of parser.list()) {
    const m = mapper.map(v.name);
    steps.set(v.name, { line: m.step?.line ?? null, state: v.state, ms: v.durationMs, kind: m.kind });
  }
  return { parser, events, steps };
}

for (const variant of [{ crlfDockerfile: false }, { crlfDockerfile: true }]) {
  const tag = variant.crlfDockerfile ? 'CRLF' : 'LF';
  describe(`BuildKit plain progress on real logs (${tag} Dockerfiles)`, () => {
    it('success: every step maps to its line, with DONE durations and internal vertices classified', () => {
      const { steps } = run('success', variant);
      assert.deepEqual(steps.get('[1/5] FROM docker.io/strata-test/busybox:1'), { line: 1, state: 'cached', ms: 0, kind: 'step' });
      assert.deepEqual(steps.get('[2/5] WORKDIR /app'), { line: 2, state: 'done', ms: 0, kind: 'step' });
      assert.deepEqual(steps.get('[3/5] COPY a.txt .'), { line: 3, state: 'done', ms: 0, kind: 'step' });
      assert.deepEqual(steps.get('[4/5] RUN echo hello && sleep 1'), { line: 4, state: 'done', ms: 1400, kind: 'step' });
      assert.deepEqual(steps.get('[5/5] RUN cat a.txt'), { line: 6, state: 'done', ms: 500, kind: 'step' });
      assert.equal(steps.get('[internal] load build definition from Dockerfile')?.kind, 'definition');
      assert.equal(steps.get('[internal] load .dockerignore')?.kind, 'dockerignore');
      assert.equal(steps.get('[internal] load metadata for docker.io/strata-test/busybox:1')?.kind, 'metadata');
      assert.equal(steps.get('[internal] load build context')?.kind, 'context');
      assert.equal(steps.get('exporting to image')?.kind, 'export');
    });

    it('cached rebuild: every step is CACHED', () => {
      const { steps } = run('cached', variant);
      for (const line of [2, 3, 4, 6]) {
        const s = [...steps.values()].find((x) => x.line === line);
        assert.equal(s?.state, 'cached', `line ${line}`);
      }
    });

    it('failing RUN: the error, its output and the continued instruction (lines 3–4) are found', () => {
      const { parser, steps } = run('failing-run', variant);
      const failed = parser.list().find((v) => v.state === 'error')!;
      assert.equal(failed.name, '[3/4] RUN echo some output; echo err >&2;     exit 3');
      assert.match(failed.error!, /exit code: 3/);
      assert.deepEqual(failed.logTail, ['some output', 'err']);
      assert.equal(steps.get(failed.name)?.line, 3);
      const mapper = new VertexLineMapper(parseDockerfileSteps(fixture('failing-run').dockerfile));
      assert.equal(mapper.map(failed.name).step?.endLine, 4);
      assert.equal(steps.get('[2/4] RUN echo before')?.state, 'done');
      assert.equal([...steps.keys()].some((n) => n.includes('echo after')), false);
    });

    it('syntax error: the builder message names line 3', () => {
      const { parser } = run('syntax-error', variant);
      assert.deepEqual(builderError(parser.messages), { line: 3, message: 'dockerfile parse error: unknown instruction: FROBNICATE' });
    });

    it('multi-stage: named stages, stage-N, interrupted vertices (`...`) resuming, deduplicated FROM', () => {
      const { steps, events } = run('multi-stage', variant);
      assert.deepEqual(steps.get('[base 2/2] RUN echo base > /base'), { line: 2, state: 'done', ms: 500, kind: 'step' });
      assert.deepEqual(steps.get('[a 1/1] RUN sleep 1 && echo a > /a'), { line: 5, state: 'done', ms: 1500, kind: 'step' });
      assert.deepEqual(steps.get('[stage-2 2/2] RUN sleep 1 && echo b > /b'), { line: 8, state: 'done', ms: 1700, kind: 'step' });
      assert.equal(steps.get('[stage-2 1/2] FROM docker.io/strata-test/busybox:1')?.line, 7);
      assert.equal(steps.get('[final 1/3] COPY --from=a /a /a')?.line, 11);
      assert.equal(steps.get('[final 2/3] COPY --from=2 /b /b')?.line, 12);
      assert.equal(steps.get('[final 3/3] RUN cat /a /b')?.line, 13);
      // The `...` interruption is not an end: stage-2's RUN and a's RUN both start before either ends.
      const order = events.filter((e) => e.type === 'vertex-start' || e.type === 'vertex-end')
        .map((e) => `${e.type === 'vertex-start' ? '+' : '-'}${(e as { vertex: { id: number } }).vertex.id}`);
      assert.ok(order.indexOf('+6') < order.indexOf('-8'), order.join(' '));
      assert.equal(order.filter((x) => x === '-8').length, 1);
    });

    it('cancelled: the running step ends CANCELED and later steps never start', () => {
      const { steps } = run('cancelled', variant);
      assert.equal(steps.get('[3/4] RUN echo slow; sleep 30')?.state, 'canceled');
      assert.equal(steps.get('[3/4] RUN echo slow; sleep 30')?.line, 3);
      assert.equal([...steps.keys()].some((n) => n.includes('never')), false);
    });

    it('14 steps: padded counters (`[ 8/14]`) and ARG-expanded commands map to their lines', () => {
      const { steps } = run('many-steps', variant);
      assert.equal(steps.get('[ 1/14] FROM docker.io/strata-test/busybox:1')?.line, 1);
      // `RUN echo step7 $V` with --build-arg V=7 is shown expanded.
      assert.equal(steps.get('[ 8/14] RUN echo step7 7')?.line, 9);
      assert.equal(steps.get('[12/14] RUN echo step11 7')?.line, 13);
      assert.equal(steps.get('[13/14] COPY --chown=0:0 f /f')?.line, 14);
      assert.equal(steps.get('[14/14] ADD f /g')?.line, 15);
    });
  });
}

describe('BuildProgressParser robustness', () => {
  it('gives the same vertices whatever the chunking (1, 7, 4096 bytes)', () => {
    const whole = run('multi-stage').parser.list();
    for (const chunk of [1, 7, 4096]) assert.deepEqual(run('multi-stage', { chunk }).parser.list(), whole, `chunk ${chunk}`);
  });

  it('CRLF output parses like LF', () => {
    const lf = new BuildProgressParser(undefined, { now: () => 0 });
    lf.push(fixture('failing-run').log);
    lf.end();
    const cr = new BuildProgressParser(undefined, { now: () => 0 });
    cr.push(crlf(fixture('failing-run').log));
    cr.end();
    assert.deepEqual(cr.list(), lf.list());
  });

  it('keeps memory bounded on a huge log: tail of 40 lines, long lines cut', () => {
    const p = new BuildProgressParser(undefined, { now: () => 0 });
    p.push('#1 [1/2] RUN yes\n');
    for (let i = 0; i < 100_000; i++) p.push(`#1 0.${String(i % 1000).padStart(3, '0')} line ${i}\n`);
    p.push(`#1 1.000 ${'x'.repeat(1_000_000)}\n`);
    p.push('#1 DONE 3.0s\n');
    p.end();
    const v = p.list()[0]!;
    assert.equal(v.logLines, 100_001);
    assert.equal(v.logTail.length, 40);
    assert.ok(v.logTail.at(-1)!.length < 5000);
    assert.equal(v.logTail[0], 'line 99961');
    assert.equal(v.state, 'done');
  });

  it('a line with no newline for megabytes does not grow the buffer without limit', () => {
    const p = new BuildProgressParser(undefined, { now: () => 0 });
    for (let i = 0; i < 100; i++) p.push('y'.repeat(100_000));
    p.end();
    assert.ok(p.messages.every((m) => m.length <= 4097));
  });

  it('newer BuildKit errors: `on line N`, the Dockerfile:N context block', () => {
    assert.deepEqual(builderError(['ERROR: failed to solve: dockerfile parse error on line 7: unknown instruction: FOO']),
      { line: 7, message: 'dockerfile parse error: unknown instruction: FOO' });
    assert.deepEqual(builderError(['Dockerfile:4', '--------------------', 'ERROR: failed to solve: target stage "x" could not be found']),
      { line: 4, message: 'target stage "x" could not be found' });
    assert.equal(builderError(['nothing to see']), null);
  });
});

describe('VertexLineMapper', () => {
  it('platform prefixes, case-insensitive stage names, duplicate instructions told apart by the counter', () => {
    const df = 'FROM busybox AS Build\nRUN echo x\nRUN echo x\nFROM build\nRUN echo x\n';
    const m = new VertexLineMapper(parseDockerfileSteps(df));
    assert.equal(m.map('[linux/amd64 build 3/3] RUN echo x').step?.line, 3);
    assert.equal(m.map('[linux/amd64 build 2/3] RUN echo x').step?.line, 2);
    assert.equal(m.map('[stage-1 1/1] RUN echo x').step?.line, 5);
    assert.equal(m.map('[linux/arm64->amd64 build 1/3] FROM docker.io/library/busybox:latest@sha256:abc').step?.line, 1);
  });
  it('unknown stage or instruction gives no line rather than a wrong one', () => {
    const m = new VertexLineMapper(parseDockerfileSteps('FROM busybox\nRUN a\n'));
    assert.equal(m.map('[2/2] COPY x y').step, null);
    assert.equal(m.map('some other vertex').kind, 'other');
  });
});
