/**
 * How to read a container's writable layer: one streamed `docker container export` (what Strata does) vs one
 * `docker cp CONTAINER:PATH -` per changed file, on a busybox container with 8 changed files — plus the full
 * `inspectContainer` (save + export + reader). Baseline: one docker CLI round trip (`docker version`) in the same run.
 *
 *   eval $(node test/support/engineHarness.mjs start) && npm run bench -- containers
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DockerClient } from '../server/src/docker/dockerClient';
import { openImage } from '../server/src/image/imageReader';
import { DockerContainerEngine } from '../server/src/container/containerEngine';
import { inspectContainer } from '../server/src/container/containerInspector';
import { writeWritableLayer } from '../server/src/container/writableLayerWriter';

const DOCKER = process.env.STRATA_DOCKER ?? 'docker';
const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';
const RUNS = 3;
const name = `strata-bench-container-${process.pid}`;

async function median(f: () => Promise<unknown> | unknown): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = performance.now();
    await f();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

async function main(): Promise<void> {
  if (spawnSync(DOCKER, ['version', '--format', '{{.Server.Version}}']).status !== 0) {
    console.log('containers: skipped (no Docker engine; start one with test/support/engineHarness.mjs)');
    return;
  }
  const files = Array.from({ length: 8 }, (_, i) => `/tmp/f${i}`);
  const run = spawnSync(DOCKER, ['run', '-d', '--name', name, BASE, 'sh', '-c', `for f in ${files.join(' ')}; do echo $f > $f; done; exec sleep 600`]);
  if (run.status !== 0) throw new Error(String(run.stderr));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-bench-c-'));
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const engine = new DockerContainerEngine(new DockerClient());
    const changes = await engine.diff(name);
    const baseline = await median(() => spawnSync(DOCKER, ['version', '--format', '{{.Server.Version}}']));
    const exportMs = await median(async () => {
      const s = engine.exportStream(name);
      await Promise.all([writeWritableLayer(s.stream, changes, path.join(dir, 'l.tar')), s.exited]);
    });
    const cpMs = await median(() => { for (const f of files) spawnSync(DOCKER, ['cp', `${name}:${f}`, '-'], { maxBuffer: 1 << 20 }); });
    const fullMs = await median(async () => (await inspectContainer(engine, name, openImage, { workDir: dir })).dispose());
    console.log(`baseline (one docker CLI call): ${baseline.toFixed(0)} ms`);
    console.log(`export + writable layer:        ${(exportMs / baseline).toFixed(2)}× baseline (${exportMs.toFixed(0)} ms)`);
    console.log(`docker cp × ${files.length} files:            ${(cpMs / baseline).toFixed(2)}× baseline (${cpMs.toFixed(0)} ms) = ${(cpMs / exportMs).toFixed(2)}× export`);
    console.log(`inspectContainer (full):        ${(fullMs / baseline).toFixed(2)}× baseline (${fullMs.toFixed(0)} ms)`);
  } finally {
    spawnSync(DOCKER, ['rm', '--force', name]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
