import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerClient, resolveDockerBinary } from '../../server/src/docker/dockerClient';
import { DockerError } from '../../server/src/docker/dockerError';

/** The docker wrapper every feature uses (images view, layer explorer, build), against the real engine. */
const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';
const DOCKER = process.env.STRATA_DOCKER ?? '/usr/bin/docker';
const TAG = `strata-test-dockerclient-${process.pid}:1`;

describe('DockerClient on the real engine', () => {
  const docker = new DockerClient({ env: process.env });
  before(() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-dc-'));
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${BASE}\nENV A=1\nRUN echo ${process.pid} > /pid\nCOPY f /f\n`);
    writeFileSync(path.join(dir, 'f'), '12345678');
    const r = spawnSync(DOCKER, ['build', '-q', '-t', TAG, dir], { encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '1' } });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => { spawnSync(DOCKER, ['image', 'rm', '--force', TAG]); });

  it('ping answers the server version', async () => {
    assert.match(await docker.ping(), /^\d+\.\d+/);
  });

  it('hasBuildx is false for the Debian 20.10 client (no plugin), so builds use `docker build`', async () => {
    const expected = spawnSync(DOCKER, ['buildx', 'version']).status === 0;
    assert.equal(await docker.hasBuildx(), expected);
  });

  it('listImages includes the test image with exact sizes and tags', async () => {
    const images = await docker.listImages();
    const mine = images.find((i) => i.repoTags.includes(TAG));
    assert.ok(mine, JSON.stringify(images.map((i) => i.repoTags)));
    assert.match(mine.id, /^sha256:[0-9a-f]{64}$/);
    assert.ok(mine.size > 1000);
  });

  it('imageInspect and imageHistory agree: one non-empty history step per diffId, oldest first', async () => {
    const inspect = await docker.imageInspect(TAG);
    assert.equal(inspect.diffIds.length, 3);
    assert.ok(inspect.config.env.includes('A=1'));
    const history = await docker.imageHistory(TAG);
    const layers = history.filter((h) => !h.emptyLayer);
    assert.equal(layers.length, inspect.diffIds.length);
    assert.match(history.at(-1)!.createdBy, /^COPY f \/f/);
    assert.equal(history.at(-1)!.size, 8);
    assert.ok(history.some((h) => h.emptyLayer && /^ENV A=1/.test(h.createdBy)));
  });

  it('saveImage streams a docker-archive tar (manifest.json inside)', async () => {
    const chunks: Buffer[] = [];
    for await (const c of docker.saveImage([TAG])) chunks.push(c as Buffer);
    const tar = Buffer.concat(chunks);
    assert.ok(tar.length > 1_000_000);
    assert.ok(tar.includes(Buffer.from('manifest.json')));
  });

  it('an unknown image is a not-found DockerError (inspect, history, save)', async () => {
    await assert.rejects(docker.imageInspect('strata-test/does-not-exist:0'), (e: DockerError) => e.kind === 'not-found');
    await assert.rejects(docker.imageHistory('strata-test/does-not-exist:0'), (e: DockerError) => e.kind === 'not-found');
    await assert.rejects(async () => { for await (const _ of docker.saveImage(['strata-test/does-not-exist:0'])) { /* drain */ } },
      (e: DockerError) => e instanceof DockerError && e.kind !== 'binary-missing');
  });

  it('an unreachable engine is engine-unreachable and names the host that was tried', async () => {
    const down = new DockerClient({ env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/strata-down.sock' } });
    await assert.rejects(down.listImages(), (e: DockerError) => {
      assert.equal(e.kind, 'engine-unreachable');
      assert.match(e.message, /DOCKER_HOST=unix:\/\/\/nonexistent\/strata-down\.sock/);
      assert.match(e.message, /start Docker/);
      return true;
    });
  });

  it('a missing binary is binary-missing and names the setting', async () => {
    const none = new DockerClient({ dockerPath: '/nonexistent/docker', env: process.env });
    await assert.rejects(none.ping(), (e: DockerError) => e.kind === 'binary-missing' && /strata\.dockerPath/.test(e.message));
    await assert.rejects(none.hasBuildx(), (e: DockerError) => e.kind === 'binary-missing');
  });

  it('aborting a command kills it', async () => {
    const ac = new AbortController();
    const p = docker.run(['events'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(p, (e: DockerError) => e.kind === 'aborted');
  });
});

describe('resolveDockerBinary', () => {
  it('setting (when not the default) > STRATA_DOCKER > docker', () => {
    assert.equal(resolveDockerBinary('/opt/docker', { STRATA_DOCKER: '/usr/bin/docker' }), '/opt/docker');
    assert.equal(resolveDockerBinary('docker', { STRATA_DOCKER: '/usr/bin/docker' }), '/usr/bin/docker');
    assert.equal(resolveDockerBinary(undefined, {}), 'docker');
    assert.equal(resolveDockerBinary('  ', {}), 'docker');
  });
});
