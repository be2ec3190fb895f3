import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerClient } from '../../server/src/docker/dockerClient';
import { DockerError } from '../../server/src/docker/dockerError';
import { openImage } from '../../server/src/image/imageReader';
import { contractType } from '../../server/src/image/treeViews';
import { DockerContainerEngine } from '../../server/src/container/containerEngine';
import { inspectContainer, type OpenedContainer } from '../../server/src/container/containerInspector';
import { loadArchive, saveImageToFile } from '../../server/src/container/imageTransfer';
import { DIST } from '../support/paths';

/**
 * Containers on the real engine: a container from a 3-layer busybox image adds, modifies (copy-up from layers 1
 * and 2), chmods and deletes files; Strata's writable layer is checked against `docker diff`, against what
 * `docker commit` really produces, and through a save → open → load round trip.
 */
const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';
const DOCKER = process.env.STRATA_DOCKER ?? '/usr/bin/docker';
const ID = `${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `strata-test-container-${ID}:1`;
const COMMITTED = `strata-test-container-${ID}:committed`;
const NAME = `strata-test-container-${ID}`;
const created: { containers: string[]; images: string[] } = { containers: [], images: [IMAGE, COMMITTED] };

function docker(...args: string[]): string {
  const r = spawnSync(DOCKER, args, { encoding: 'utf8', env: process.env, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Starts a container running `script` then sleeping; waits until the script printed `ready`. */
async function runContainer(name: string, script: string): Promise<void> {
  created.containers.push(name);
  docker('run', '-d', '--name', name, '--label', `strata-test=${ID}`, IMAGE, 'sh', '-c', `${script}; echo ready; exec sleep 3600`);
  for (let i = 0; i < 300; i++) {
    if (docker('logs', name).includes('ready')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`container ${name} never got ready`);
}

const CHANGES = [
  'echo new > /data/new.txt',
  'echo more >> /data/keep.txt', // copy-up from layer 1
  'echo 2nd >> /data/second.txt', // copy-up from layer 2
  'chmod 755 /data/mode.sh', // copy-up for metadata only
  'rm /data/gone.txt', // whiteout of a layer-1 file
  'rm -r /data/sub', // whiteout of a directory (2 files, 3000 bytes)
  'mkdir /newdir',
  'head -c 4096 /dev/zero > /newdir/f',
  'ln -s /data/keep.txt /newdir/link',
].join(' && ');

describe('containers on the real engine', () => {
  const engine = new DockerContainerEngine(new DockerClient({ env: process.env }));
  const work = mkdtempSync(path.join(os.tmpdir(), 'strata-container-test-'));
  let opened: OpenedContainer;

  before(async () => {
    const dir = path.join(work, 'ctx');
    docker('version', '--format', '{{.Server.Version}}');
    mkdtempSync(path.join(work, 'x'));
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(path.join(dir, 'Dockerfile'), [
      `FROM ${BASE}`,
      'RUN mkdir -p /data/sub && echo hello > /data/keep.txt && echo gone > /data/gone.txt && echo m > /data/mode.sh && head -c 1000 /dev/zero > /data/sub/a && head -c 2000 /dev/zero > /data/sub/b',
      'RUN echo second > /data/second.txt',
      '',
    ].join('\n'));
    docker('build', '-q', '-t', IMAGE, dir);
    await runContainer(NAME, CHANGES);
    opened = await inspectContainer(engine, NAME, openImage, { workDir: work });
  });

  after(async () => {
    await opened?.dispose();
    for (const c of created.containers) spawnSync(DOCKER, ['container', 'rm', '--force', c]);
    for (const i of created.images) spawnSync(DOCKER, ['image', 'rm', '--force', i]);
    rmSync(work, { recursive: true, force: true });
  });

  it('the writable layer sits on top of the image layers, with kinds, types, sizes and copy-up origins', () => {
    const { inspection, image } = opened;
    const layers = image.info.images[0]!.layers;
    assert.equal(layers.length, 4, 'busybox + 2 RUN layers + the writable layer');
    assert.equal(inspection.writableIndex, 3);
    assert.equal(inspection.container.name, NAME);
    assert.equal(inspection.container.state, 'running');
    const byPath = new Map(inspection.changes.map((c) => [c.path, c]));
    const pick = (p: string) => {
      const c = byPath.get(p);
      assert.ok(c, `${p} missing from ${[...byPath.keys()].join(', ')}`);
      return c;
    };
    assert.deepEqual({ ...pick('data/new.txt') }, { path: 'data/new.txt', kind: 'added', type: 'file', size: 4, mode: pick('data/new.txt').mode });
    assert.deepEqual([pick('data/keep.txt').kind, pick('data/keep.txt').size, pick('data/keep.txt').from, pick('data/keep.txt').oldSize], ['modified', 11, 1, 6]);
    assert.deepEqual([pick('data/second.txt').kind, pick('data/second.txt').size, pick('data/second.txt').from, pick('data/second.txt').oldSize], ['modified', 11, 2, 7]);
    const mode = pick('data/mode.sh');
    assert.deepEqual([mode.kind, mode.from, mode.metadataOnly, mode.mode & 0o777, (mode.oldMode ?? 0) & 0o777], ['modified', 1, true, 0o755, 0o644]);
    assert.ok(!pick('data/keep.txt').metadataOnly, 'its bytes changed');
    assert.deepEqual([pick('data/gone.txt').kind, pick('data/gone.txt').from, pick('data/gone.txt').oldSize], ['deleted', 1, 5]);
    assert.deepEqual([pick('data/sub').kind, pick('data/sub').oldType, pick('data/sub').oldSize], ['deleted', 'dir', 3000]);
    assert.deepEqual([pick('data').kind, pick('data').type], ['modified', 'dir']);
    assert.deepEqual([pick('newdir').kind, pick('newdir/f').size, pick('newdir/link').type], ['added', 4096, 'symlink']);
    // Exactly docker diff's paths, nothing more.
    const diff = docker('diff', NAME).trim().split('\n').map((l) => l.slice(2).replace(/^\//, '')).sort();
    assert.deepEqual([...byPath.keys()].sort(), diff);
  });

  it('the merged view at the writable layer is the container\'s filesystem', async () => {
    const { image, inspection } = opened;
    const n = inspection.writableIndex;
    assert.equal(image.stat(0, n, 'merged', 'data/gone.txt'), null);
    assert.equal(image.stat(0, n, 'merged', 'data/sub'), null);
    const keep = await image.readFile(0, n, 'data/keep.txt');
    assert.equal(Buffer.from(keep.bytes).toString(), docker('exec', NAME, 'cat', '/data/keep.txt'));
    assert.ok(image.stat(0, n, 'merged', 'bin/sh'), 'lower layers stay visible');
  });

  it('strata inspect --container --json: the image plus a writable top layer with "from"', () => {
    const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), 'inspect', '--container', NAME, '--json'], { encoding: 'utf8', env: process.env });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.format, 'container');
    const img = j.images[0];
    assert.equal(img.configDigest, docker('container', 'inspect', '--format', '{{.Image}}', NAME).trim());
    assert.equal(img.layers.length, 4);
    const top = img.layers[3];
    assert.equal(top.index, 3);
    assert.equal(top.writable, true);
    const keep = top.changes.find((c: { path: string }) => c.path === 'data/keep.txt');
    assert.deepEqual({ path: keep.path, kind: keep.kind, type: keep.type, size: keep.size, from: keep.from }, { path: 'data/keep.txt', kind: 'modified', type: 'file', size: 11, from: 1 });
    assert.ok(top.changes.some((c: { path: string; kind: string }) => c.path === 'data/gone.txt' && c.kind === 'deleted'));
    for (const l of img.layers.slice(0, 3)) assert.match(l.diffId, /^sha256:/);
    assert.deepEqual(img.layers.slice(0, 3).map((l: { diffId: string }) => l.diffId), JSON.parse(docker('image', 'inspect', '--format', '{{json .RootFS.Layers}}', IMAGE)));
    assert.equal(j.commitPreview.wastedBytes, opened.inspection.preview.wastedBytes);
  });

  it('the commit preview matches what docker commit really produces', async () => {
    const preview = opened.inspection.preview;
    const id = await engine.commit(NAME, COMMITTED);
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const saved = path.join(work, 'committed.tar');
    await saveImageToFile(engine, [COMMITTED], saved);
    const real = await openImage(saved);
    const base = path.join(work, 'base.tar');
    await saveImageToFile(engine, [IMAGE], base);
    const baseImg = await openImage(base);
    try {
      await Promise.all([real.done, baseImg.done]);
      const layers = real.info.images[0]!.layers;
      assert.equal(layers.length, 4);
      const top = layers[3]!;
      const realChanges = real.layerChanges(0, 3).changes.map((c) => `${c.kind} ${contractType(c.type)} ${c.size} ${c.path}`).sort();
      const predicted = opened.inspection.changes.map((c) => `${c.kind} ${c.type} ${c.size} ${c.path}`).sort();
      assert.deepEqual(predicted, realChanges);
      assert.equal(preview.layerSize, top.contentSize);
      assert.equal(preview.entryCount, top.entryCount);
      const wastedAdded = real.summary(0).wastedBytes - baseImg.summary(0).wastedBytes;
      assert.equal(preview.wastedBytes, wastedAdded);
      assert.equal(preview.wastedBytes, 6 + 7 + 2 + 5 + 3000, 'keep.txt + second.txt + mode.sh + gone.txt + sub/*');
      assert.equal(preview.metadataOnlyBytes, 2);
    } finally {
      await real.close();
      await baseImg.close();
    }
  });

  it('save (gzip, with progress) → open → load → inspect keeps the diffIds and tags', async () => {
    const file = path.join(work, 'roundtrip.tar.gz');
    const progress: number[] = [];
    const r = await saveImageToFile(engine, [COMMITTED], file, { gzip: true, onProgress: (b) => progress.push(b) });
    assert.ok(progress.length > 0 && progress.at(-1) === r.archiveBytes);
    assert.ok(r.fileBytes < r.archiveBytes, 'gzip made it smaller');
    const before = JSON.parse(docker('image', 'inspect', '--format', '{{json .RootFS.Layers}}', COMMITTED));
    const img = await openImage(file);
    let fromArchive: string[];
    try {
      await img.done;
      fromArchive = img.info.images[0]!.layers.map((l) => l.diffId);
      assert.deepEqual(img.info.images[0]!.refs, [COMMITTED]);
    } finally {
      await img.close();
    }
    assert.deepEqual(fromArchive, before);
    docker('image', 'rm', COMMITTED);
    const loaded = await loadArchive(engine, file);
    assert.deepEqual(loaded.tags, [COMMITTED]);
    assert.deepEqual(JSON.parse(docker('image', 'inspect', '--format', '{{json .RootFS.Layers}}', COMMITTED)), fromArchive);
  });

  it('a paused container is read as it is (and stays paused)', async () => {
    docker('pause', NAME);
    try {
      const again = await inspectContainer(engine, NAME, openImage, { workDir: work });
      try {
        assert.equal(again.inspection.container.state, 'paused');
        assert.deepEqual(again.inspection.changes.map((c) => c.path).sort(), opened.inspection.changes.map((c) => c.path).sort());
      } finally {
        await again.dispose();
      }
      assert.equal(docker('container', 'inspect', '--format', '{{.State.Paused}}', NAME).trim(), 'true');
    } finally {
      docker('unpause', NAME);
    }
  });

  it('a container removed while being read: a clear error, no files left behind', async () => {
    const victim = `${NAME}-victim`;
    await runContainer(victim, 'echo x > /x');
    const before = readdirSync(work).length;
    await assert.rejects(
      inspectContainer(engine, victim, openImage, {
        workDir: work,
        onProgress: (p) => { if (p.phase === 'save-image' && p.bytes > 0) spawnSync(DOCKER, ['container', 'rm', '--force', victim]); },
      }),
      (e: unknown) => e instanceof DockerError && /was removed while Strata was reading it/.test(e.message) && e.message.includes(victim),
    );
    assert.equal(readdirSync(work).length, before);
  });

  it('an unknown container and an unreachable engine: one-line CLI errors, exit 2', () => {
    const cli = (env: NodeJS.ProcessEnv, name: string) => spawnSync(process.execPath, [path.join(DIST, 'cli.js'), 'inspect', '--container', name, '--json'], { encoding: 'utf8', env });
    const missing = cli(process.env, `no-such-container-${ID}`);
    assert.equal(missing.status, 2, missing.stderr);
    assert.equal(missing.stderr.trim(), `strata: no-such-container-${ID}: no such container: no-such-container-${ID}`);
    const gone = cli({ ...process.env, DOCKER_HOST: `unix://${work}/nothing.sock` }, NAME);
    assert.equal(gone.status, 2, gone.stderr);
    assert.match(gone.stderr.trim(), /^strata: .+: cannot reach the Docker engine at DOCKER_HOST=unix:\/\/.*nothing\.sock/);
    assert.equal(gone.stderr.trim().split('\n').length, 1);
  });

  it('a huge writable layer: bounded memory, progress, and cancel stops docker and cleans up', async () => {
    const big = `${NAME}-big`;
    const MB = 1024 * 1024;
    await runContainer(big, `head -c ${96 * MB} /dev/zero > /big.bin`);
    let peak = process.memoryUsage().rss;
    const base = peak;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    let exported = 0;
    try {
      const o = await inspectContainer(engine, big, openImage, { workDir: work, onProgress: (p) => { if (p.phase === 'export') exported = p.bytes; } });
      try {
        assert.equal(o.inspection.changes.find((c) => c.path === 'big.bin')?.size, 96 * MB);
        assert.ok(exported >= 96 * MB, `export progress reached ${exported}`);
      } finally {
        await o.dispose();
      }
    } finally {
      clearInterval(timer);
    }
    assert.ok(peak - base < 48 * MB, `rss grew by ${((peak - base) / MB).toFixed(1)} MiB while reading a 96 MiB layer`);

    const ac = new AbortController();
    const started = Date.now();
    const before = readdirSync(work).length;
    await assert.rejects(
      inspectContainer(engine, big, openImage, { workDir: work, signal: ac.signal, onProgress: (p) => { if (p.phase === 'export' && p.bytes > 8 * MB) ac.abort(); } }),
      (e: unknown) => e instanceof DockerError && e.kind === 'aborted',
    );
    assert.ok(Date.now() - started < 30_000);
    assert.equal(readdirSync(work).length, before);
    assert.ok(!existsSync(path.join(work, 'container.tar')));
  });
});
