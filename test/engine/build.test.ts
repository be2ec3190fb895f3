import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BuildRecord } from '../../server/src/build/buildRecord';
import { crlf, DIST } from '../support/paths';

/**
 * `strata build` (dist/cli.js) on the real engine (test/support/engineHarness.mjs: Debian's dockerd 20.10, client
 * without buildx, so `docker build` with DOCKER_BUILDKIT=1). Asserts exit codes, the saved record, and failures
 * mapped to Dockerfile lines.
 */
const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';
const DOCKER = process.env.STRATA_DOCKER ?? '/usr/bin/docker';
const TAG = `strata-test-build-${process.pid}`;
const tags: string[] = [];

function strata(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function project(files: Record<string, string>): { dir: string; state: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-engine-build-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return { dir, state: path.join(dir, '.state') };
}

function tag(name: string): string {
  const t = `${TAG}-${name}:1`;
  tags.push(t);
  return t;
}

function build(p: { dir: string; state: string }, extra: string[] = []) {
  const r = strata(['build', '--context', p.dir, '--state-dir', p.state, '--json', ...extra]);
  let json: { exitCode: number; record: BuildRecord; recordFile: string | null; diagnostics: { line: number; endLine: number; code: string; message: string }[] } | null = null;
  try { json = JSON.parse(r.stdout); } catch { /* asserted by callers */ }
  return { ...r, json };
}

after(() => {
  if (tags.length) spawnSync(DOCKER, ['image', 'rm', '--force', ...tags], { encoding: 'utf8' });
});

for (const eol of ['LF', 'CRLF'] as const) {
  const text = (s: string) => (eol === 'CRLF' ? crlf(s) : s);
  describe(`strata build on the real engine (${eol})`, () => {
    it('success: exit 0, record with per-step outcome, image id, tags and layers mapped to lines; rebuild is all CACHED', () => {
      const p = project({
        Dockerfile: text(`FROM ${BASE}\nWORKDIR /app\nCOPY a.txt .\nENV X=1\nRUN echo ${eol}-${process.pid} > /stamp \\\n && cat a.txt\n`),
        'a.txt': 'data\n',
      });
      const t = tag(`ok-${eol.toLowerCase()}`);
      const r = build(p, ['-t', t]);
      assert.equal(r.code, 0, r.stderr);
      const rec = r.json!.record;
      assert.ok(existsSync(r.json!.recordFile!));
      assert.deepEqual(JSON.parse(readFileSync(r.json!.recordFile!, 'utf8')), rec);
      assert.deepEqual(JSON.parse(readFileSync(path.join(path.dirname(r.json!.recordFile!), 'latest.json'), 'utf8')).id, rec.id);
      assert.deepEqual(rec.steps.map((s) => [s.line, s.endLine, s.instruction, s.stage]), [
        [1, 1, 'FROM', 'stage-0'], [2, 2, 'WORKDIR', 'stage-0'], [3, 3, 'COPY', 'stage-0'], [5, 6, 'RUN', 'stage-0'],
      ]);
      assert.equal(rec.steps.find((s) => s.line === 5)!.outcome, 'built');
      assert.equal(typeof rec.steps.find((s) => s.line === 5)!.durationMs, 'number');
      const id = spawnSync(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', t], { encoding: 'utf8' }).stdout.trim();
      assert.equal(rec.image!.id, id);
      assert.deepEqual(rec.tags, [t]);
      assert.equal(rec.exitCode, 0);
      assert.ok(rec.inputs !== null && typeof rec.inputs === 'object', 'cache model inputs recorded');
      // Layers: base (line 1), WORKDIR, COPY (5 bytes: "data\n"), RUN — bottom first.
      assert.deepEqual(rec.image!.layers.map((l) => l.line), [1, 2, 3, 5]);
      assert.equal(rec.image!.layers[2]!.size, 5);
      assert.ok(rec.image!.layers.every((l) => /^sha256:[0-9a-f]{64}$/.test(l.diffId)));

      const again = build(p, ['-t', t]);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(again.json!.record.steps.filter((s) => s.instruction !== 'FROM').map((s) => s.outcome), ['cached', 'cached', 'cached']);
      assert.notEqual(again.json!.record.id, rec.id);
      // The cache model's prediction (against the first build) was compared with what BuildKit did.
      assert.match((again.json as unknown as { prediction: string[] }).prediction[0] ?? '', /^\d+\/\d+ steps as predicted/);
      assert.match(again.stderr, /strata: \d+\/\d+ steps as predicted/);
      assert.match(again.stderr, /strata: built sha256:[0-9a-f]+ in [\d.]+ s: .*\d cached; record /);
    });

    it('failing RUN: docker\'s exit status, the failure on the instruction\'s lines with its output, later steps not run', () => {
      const p = project({ Dockerfile: text(`FROM ${BASE}\nRUN echo before\nRUN echo some output; \\\n    echo oops-${eol} >&2; exit 3\nRUN echo after\n`) });
      const r = build(p);
      assert.equal(r.code, 1, r.stderr);
      const d = r.json!.diagnostics;
      assert.equal(d.length, 1);
      assert.equal(d[0]!.line, 3);
      assert.equal(d[0]!.endLine, 4);
      assert.equal(d[0]!.code, 'build/step-failed');
      assert.match(d[0]!.message, /exit code: 3/);
      assert.match(d[0]!.message, new RegExp(`oops-${eol}`));
      const steps = r.json!.record.steps;
      assert.equal(steps.find((s) => s.line === 3)!.outcome, 'failed');
      assert.equal(steps.find((s) => s.line === 5)!.outcome, 'not-run');
      assert.ok(r.json!.recordFile, 'a failed build is recorded too');
      // Without --json: the problem-matcher line.
      const plain = strata(['build', '--context', p.dir, '--state-dir', p.state]);
      assert.equal(plain.code, 1);
      assert.match(plain.stdout, new RegExp(`^${p.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/Dockerfile:3:1: error build/step-failed: .*exit code: 3`, 'm'));
    });

    it('syntax error: the builder\'s line becomes the diagnostic', () => {
      const p = project({ Dockerfile: text(`FROM ${BASE}\nRUN echo ok\nFROBNICATE bar\n`) });
      const r = build(p);
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(r.json!.diagnostics.map((d) => [d.line, d.code]), [[3, 'build/dockerfile-error']]);
      assert.match(r.json!.diagnostics[0]!.message, /unknown instruction: FROBNICATE/i);
    });
  });
}

describe('strata build: stages, args, contexts, faults', () => {
  it('multi-stage with --target: only the needed stages run, the rest are not-run; layers map to the target chain', () => {
    const p = project({
      Dockerfile: `FROM ${BASE} AS base\nRUN echo base-${process.pid} > /base\n\nFROM base AS tools\nRUN echo tools > /tools\n\nFROM ${BASE}\nRUN echo other > /other\n\nFROM base AS final\nCOPY --from=tools /tools /tools\nRUN cat /tools\n`,
    });
    const r = build(p, ['--target', 'tools', '-t', tag('multi')]);
    assert.equal(r.code, 0, r.stderr);
    const byLine = new Map(r.json!.record.steps.map((s) => [s.line, s]));
    assert.equal(byLine.get(2)!.outcome, 'built');
    assert.equal(byLine.get(2)!.stage, 'base');
    assert.equal(byLine.get(5)!.outcome, 'built');
    assert.equal(byLine.get(5)!.stage, 'tools');
    assert.equal(byLine.get(8)!.outcome, 'not-run');
    assert.equal(byLine.get(12)!.outcome, 'not-run');
    assert.equal(r.json!.record.target, 'tools');
    assert.deepEqual(r.json!.record.image!.layers.map((l) => l.line), [1, 2, 5]);
  });

  it('build args reach the build and the record', () => {
    const p = project({ Dockerfile: `FROM ${BASE}\nARG GREETING=hi\nRUN echo "$GREETING-${process.pid}" > /g\n` });
    const r = build(p, ['--build-arg', 'GREETING=hello', '-t', tag('args')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json!.record.buildArgs, { GREETING: 'hello' });
    const run = r.json!.record.steps.find((s) => s.instruction === 'RUN')!;
    assert.equal(run.line, 3);
    assert.match(run.vertex, /hello/);
  });

  it('a Dockerfile outside the context builds (docker -f allows it)', () => {
    const ctx = project({ 'a.txt': `outside ${process.pid} ${Date.now()}\n` });
    const df = project({ 'Build.dockerfile': `FROM ${BASE}\nCOPY a.txt /a\n` });
    const r = strata(['build', '--context', ctx.dir, '--file', path.join(df.dir, 'Build.dockerfile'), '--state-dir', ctx.state, '--json', '-t', tag('outside')]);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { record: BuildRecord };
    assert.equal(json.record.dockerfile, path.join(df.dir, 'Build.dockerfile'));
    assert.equal(json.record.steps.find((s) => s.line === 2)!.outcome, 'built');
  });

  it('killed mid-way (SIGINT): the build stops, exit non-zero, the running step is recorded as canceled; a second build of the same Dockerfile meanwhile is refused', async () => {
    const p = project({ Dockerfile: `FROM ${BASE}\nRUN echo start-${process.pid}\nRUN echo slow-${process.pid}; sleep 60\nRUN echo never\n` });
    const child = spawn(process.execPath, [path.join(DIST, 'cli.js'), 'build', '--context', p.dir, '--state-dir', p.state, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        if (/\] RUN echo slow-\d+; sleep 60\n/.test(err)) resolve();
      });
      child.on('close', () => reject(new Error(`exited before the slow step: ${err}`)));
    });
    const second = strata(['build', '--context', p.dir, '--state-dir', p.state]);
    assert.equal(second.code, 2);
    assert.match(second.stderr, /^strata: build: another build of this Dockerfile is running \(pid \d+/);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.ok(Date.now() - started < 30_000, 'stopped well before the 60 s sleep');
    assert.notEqual(code, 0);
    const json = JSON.parse(out) as { cancelled: boolean; record: BuildRecord };
    assert.equal(json.cancelled, true);
    assert.equal(json.record.steps.find((s) => s.line === 3)!.outcome, 'canceled');
    assert.equal(json.record.steps.find((s) => s.line === 4)!.outcome, 'not-run');
    // The lock is released: the next build may run.
    const keyDirs = readdirSync(path.join(p.state, 'builds'));
    assert.equal(keyDirs.length, 1);
    assert.equal(existsSync(path.join(p.state, 'builds', keyDirs[0]!, 'build.lock')), false);
  });
});
