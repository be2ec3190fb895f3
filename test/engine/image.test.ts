/**
 * The image reader on archives produced by real tools: an image built by the real engine (dockerd 20.10,
 * overlay2, BuildKit) with a deleted file and a directory deleted and re-created (overlay2 writes an opaque
 * marker), `docker save` of one and of two images sharing layers, then `skopeo copy` to OCI archives / layouts with
 * gzip, zstd and no compression, and `umoci repack` of a changed rootfs (whiteouts written by umoci).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openImage } from '../../server/src/image/imageReader';
import type { OpenedImage } from '../../server/src/image/imageModel';
import { DIST } from '../support/paths';

const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';
const DOCKER = process.env.STRATA_DOCKER ?? '/usr/bin/docker';
const TAG = `strata-test-image-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'strata-engine-image-'));
const tags: string[] = [];

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000, ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function build(name: string, dockerfile: string): string {
  const ctx = path.join(work, `ctx-${name}`);
  mkdirSync(ctx, { recursive: true });
  writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
  const tag = `${TAG}-${name}:1`;
  tags.push(tag);
  run(DOCKER, ['build', '-q', '-t', tag, ctx]);
  return tag;
}

async function open(p: string, opts = {}): Promise<OpenedImage> {
  const img = await openImage(p, opts);
  await img.done;
  for (const im of img.info.images) for (const l of im.layers) assert.equal(l.status, 'read', `${p} layer ${l.index}: ${l.error}`);
  return img;
}

let app = '';
let other = '';
let baseLayers = 0;
const saved = path.join(work, 'app.tar');

before(() => {
  baseLayers = JSON.parse(run(DOCKER, ['image', 'inspect', BASE]))[0].RootFS.Layers.length;
  app = build('app', `FROM ${BASE}
RUN mkdir -p /app/cache /app/keep && echo one > /app/cache/a && echo two > /app/keep/b && dd if=/dev/zero of=/big bs=1024 count=64
ENV MODE=test
RUN rm /big && rm -rf /app/cache && mkdir /app/cache && echo new > /app/cache/c
CMD ["sh"]
`);
  other = build('other', `FROM ${BASE}\nRUN echo other > /other\n`);
  run(DOCKER, ['save', '-o', saved, app]);
});

after(() => {
  if (tags.length) spawnSync(DOCKER, ['image', 'rm', '--force', ...tags], { encoding: 'utf8' });
  rmSync(work, { recursive: true, force: true });
});

/** What every conversion of the app image must show. */
function assertAppImage(img: OpenedImage, ref: number | string = 0): void {
  const im = img.image(ref);
  assert.equal(im.layers.length, baseLayers + 2);
  const top = im.layers.length - 1;
  const last = img.layerChanges(ref, top).changes.map((c) => `${c.kind}:${c.path}`);
  assert.ok(last.includes('opaque:app/cache'), last.join());
  assert.ok(last.includes('deleted:big'), last.join());
  assert.ok(last.includes('added:app/cache/c'), last.join());
  assert.deepEqual(img.listDirectory(ref, top, 'merged', 'app/cache').entries.map((e) => e.name), ['c']);
  assert.deepEqual(img.listDirectory(ref, top - 1, 'merged', 'app/cache').entries.map((e) => e.name), ['a']);
  assert.equal(img.stat(ref, top - 1, 'merged', 'big')!.size, 65536);
  assert.equal(img.stat(ref, top, 'merged', 'big'), null);
  const s = img.summary(ref);
  assert.equal(s.wastedBytes, 65536 + 'one\n'.length);
  assert.deepEqual(s.topWasted.map((w) => `${w.path}:${w.how}:${w.hiddenBy}`), [`big:deleted:${top}`, `app/cache/a:opaque:${top}`]);
  assert.ok(im.config.env.includes('MODE=test'));
  assert.deepEqual(im.config.cmd, ['sh']);
  assert.ok(im.layers[top]!.emptySteps.some((s2) => /ENV MODE=test/.test(s2.createdBy)));
}

describe('image reader on real engine and tool output', () => {
  it('docker save (docker-archive, uncompressed layers, overlay2 opaque marker)', async () => {
    const img = await open(saved);
    assert.equal(img.info.format, 'docker-archive');
    assert.deepEqual(img.info.images[0]!.refs, [app]);
    assert.ok(img.info.images[0]!.layers.every((l) => l.compression === 'none'));
    assertAppImage(img);
    assert.equal(Buffer.from((await img.readFile(0, img.info.images[0]!.layers.length - 1, 'app/keep/b')).bytes).toString(), 'two\n');
    await img.close();
  });

  it('docker save of two images sharing the base layers', async () => {
    const both = path.join(work, 'both.tar');
    run(DOCKER, ['save', '-o', both, app, other]);
    const img = await open(both);
    assert.deepEqual(img.info.images.map((i) => i.ref).sort(), [app, other].sort());
    assertAppImage(img, app);
    const o = img.image(other);
    assert.equal(o.layers.length, baseLayers + 1);
    assert.deepEqual(img.image(app).layers.slice(0, baseLayers).map((l) => l.diffId), o.layers.slice(0, baseLayers).map((l) => l.diffId));
    assert.equal(Buffer.from((await img.readFile(other, baseLayers, 'other')).bytes).toString(), 'other\n');
    await img.close();
  });

  for (const [label, flags, compression] of [
    ['gzip', ['--dest-compress', '--dest-compress-format', 'gzip'], 'gzip'],
    ['zstd', ['--dest-compress', '--dest-compress-format', 'zstd'], 'zstd'],
  ] as const) {
    it(`skopeo copy to an OCI archive with ${label} layers`, async () => {
      const out = path.join(work, `app-${label}.oci.tar`);
      run('skopeo', ['copy', '-q', ...flags, `docker-archive:${saved}`, `oci-archive:${out}:app`]);
      const img = await open(out);
      assert.equal(img.info.format, 'oci-archive');
      assert.equal(img.info.images[0]!.ref, 'app');
      assert.ok(img.info.images[0]!.layers.every((l) => l.compression === compression));
      assertAppImage(img);
      await img.close();
    });
  }

  it('skopeo copy to an OCI layout with uncompressed layers', async () => {
    const layout = path.join(work, 'layout');
    run('skopeo', ['copy', '-q', '--dest-oci-accept-uncompressed-layers', `docker-archive:${saved}`, `oci:${layout}:app`]);
    const img = await open(layout);
    assert.equal(img.info.format, 'oci-layout');
    assert.ok(img.info.images[0]!.layers.every((l) => l.compression === 'none'));
    assertAppImage(img, 'app');
    await img.close();
  });

  it('umoci repack of a changed rootfs (umoci 0.4 reads only gzip layouts, so from skopeo\'s default gzip one)', async () => {
    const layout = path.join(work, 'layout-gz');
    run('skopeo', ['copy', '-q', `docker-archive:${saved}`, `oci:${layout}:app`]);
    const bundle = path.join(work, 'bundle');
    run('umoci', ['unpack', '--image', `${layout}:app`, bundle]);
    rmSync(path.join(bundle, 'rootfs/app/keep'), { recursive: true });
    writeFileSync(path.join(bundle, 'rootfs/app/new'), 'hi\n');
    run('umoci', ['repack', '--image', `${layout}:app2`, bundle]);
    const img = await open(layout);
    assert.deepEqual(img.info.images.map((i) => i.ref).sort(), ['app', 'app2']);
    const im = img.image('app2');
    const top = im.layers.length - 1;
    assert.equal(im.layers[top]!.compression, 'gzip');
    const changes = img.layerChanges('app2', top).changes.map((c) => `${c.kind}:${c.type}:${c.path}`);
    assert.ok(changes.includes('deleted:dir:app/keep'), changes.join());
    assert.ok(changes.includes('added:file:app/new'), changes.join());
    assert.equal(img.stat('app2', top, 'merged', 'app/keep'), null);
    assert.equal(img.summary('app2').wastedBytes, 65536 + 4 + 'two\n'.length);
    await img.close();
  });

  it('strata inspect --json on the saved archive (CLI)', () => {
    const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), 'inspect', saved, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const im = j.images[0];
    assert.equal(im.ref, app);
    assert.equal(im.wastedBytes, 65540);
    const last = im.layers.at(-1);
    assert.deepEqual(last.changes.filter((c: { path: string }) => c.path.startsWith('app/cache') || c.path === 'big'), [
      { path: 'app/cache', kind: 'modified', type: 'dir', size: 0 },
      { path: 'app/cache', kind: 'opaque', type: 'dir', size: 4 },
      { path: 'app/cache/c', kind: 'added', type: 'file', size: 4 },
      { path: 'big', kind: 'deleted', type: 'file', size: 65536 },
    ]);
  });
});
