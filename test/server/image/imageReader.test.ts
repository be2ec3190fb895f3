import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { openArchiveSource } from '../../../server/src/image/archiveSource';
import { openImage } from '../../../server/src/image/imageReader';
import type { OpenedImage } from '../../../server/src/image/imageModel';
import { dockerSaveLegacy, makeTar, ociFiles, ociArchive, tempDir, tarOf, type ImageSpec } from './imageFixtures';

const NON_UTF8 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf\xe9" in Latin-1
const LONG = `deep/${'x'.repeat(150)}`;
const GNU_LONG = `gnu/${'y'.repeat(140)}`;

/** Five layers exercising every change rule (see the comments per layer). */
function modelImage(): ImageSpec {
  const l0 = makeTar([
    { name: 'etc/', type: 'dir' },
    { name: 'etc/passwd', content: 'p'.repeat(100) },
    { name: 'etc/os', content: 'o'.repeat(20) },
    { name: 'bin/', type: 'dir' },
    { name: 'bin/sh', content: 's'.repeat(1000), mode: 0o755 },
    { name: 'usr/lib/a.so', content: 'a'.repeat(500) }, // usr/ and usr/lib/ implied
    { name: 'usr/lib/b.so', content: 'b'.repeat(300) },
    { name: 'var/cache/x', content: 'x'.repeat(200) },
    { name: 'data/d1/f', content: 'f'.repeat(50) },
    { name: 'link', type: 'symlink', link: 'etc/passwd' },
  ]);
  const l1 = makeTar([
    { name: 'etc/', type: 'dir' },
    { name: 'etc/passwd', content: 'P'.repeat(120), uid: 1000, gid: 1000 }, // modified
    { name: 'etc/.wh.os' }, // deleted
    { name: 'usr/lib/.wh..wh..opq' }, // opaque: hides a.so and b.so
    { name: 'usr/lib/c.so', content: 'c'.repeat(40) },
    { name: './var/cache/y', content: 'y'.repeat(10) }, // ./ prefix
    { name: '/tmp/big', content: 'B'.repeat(5000) }, // absolute path
    { name: './rel/file', content: 'r'.repeat(5) },
  ]);
  const l2 = makeTar([
    { name: '.wh.tmp' }, // a whole directory deleted (at the root)
    { name: 'data/d1', content: 'D'.repeat(7) }, // dir replaced by a file
    { name: 'bin/sh2', type: 'hardlink', link: 'bin/sh' }, // hardlink to a lower layer's file
    { name: LONG, content: 'L'.repeat(3), pax: { 'SCHILY.xattr.user.test': 'v' } }, // PAX long name + xattr
    { name: GNU_LONG, content: 'G'.repeat(2), gnuLongName: true },
    { name: Buffer.concat([Buffer.from('names/'), NON_UTF8]), content: 'n'.repeat(4) },
  ]);
  const l3 = makeTar([{ name: 'var/cache', type: 'symlink', link: '/tmp' }]); // dir replaced by a symlink
  const l4 = makeTar([
    { name: '.wh.nothing' }, // whiteout of something that never existed
    { name: 'dup', content: 'one' },
    { name: 'dup', content: 'dup2' }, // duplicate entry: the later wins
  ]);
  return {
    tags: ['model:1'],
    layers: [l0, l1, l2, l3, l4],
    createdBy: ['ADD rootfs', 'RUN edit', 'RUN clean', 'RUN link', 'RUN dup'],
    emptySteps: [{ before: 1, createdBy: 'ENV A=1' }, { before: 5, createdBy: 'CMD ["sh"]' }],
  };
}

describe('image reader: change model', () => {
  const tmp = tempDir();
  let img: OpenedImage;
  before(async () => {
    img = await openImage(tmp.write('model.tar', dockerSaveLegacy([modelImage()])));
    await img.done;
  });
  after(async () => {
    await img.close();
    tmp.cleanup();
  });

  it('reads the layer list, config and history (empty-layer steps attached to the next layer)', () => {
    assert.equal(img.info.format, 'docker-archive');
    assert.equal(img.info.flavor, 'docker-save-legacy');
    const im = img.image('model:1');
    assert.equal(im.layers.length, 5);
    assert.deepEqual(im.layers.map((l) => l.createdBy), ['ADD rootfs', 'RUN edit', 'RUN clean', 'RUN link', 'RUN dup']);
    assert.deepEqual(im.layers[1]!.emptySteps.map((s) => s.createdBy), ['ENV A=1']);
    assert.equal(im.config.history.length, 7);
    assert.deepEqual(im.config.cmd, ['sh']);
    assert.equal(im.config.workingDir, '/app');
    assert.deepEqual(im.config.exposedPorts, ['80/tcp']);
    assert.equal(im.platform, 'linux/amd64');
    assert.ok(im.layers.every((l) => l.status === 'read' && l.compression === 'none'));
  });

  it('classifies each layer\'s entries as added / modified / deleted / opaque', () => {
    const kinds = (l: number) => img.layerChanges(0, l).changes.map((c) => `${c.kind}:${c.type}:${c.path}:${c.size}`);
    assert.deepEqual(kinds(1), [
      'modified:dir:etc:0', 'modified:file:etc/passwd:120', 'deleted:file:etc/os:20', 'opaque:dir:usr/lib:800',
      'added:file:usr/lib/c.so:40', 'added:file:var/cache/y:10', 'added:file:tmp/big:5000', 'added:file:rel/file:5',
    ]);
    assert.deepEqual(kinds(2), [
      'deleted:dir:tmp:5000', 'modified:file:data/d1:7', 'added:hardlink:bin/sh2:0', `added:file:${LONG}:3`,
      `added:file:${GNU_LONG}:2`, 'added:file:names/caf\\xe9:4',
    ]);
    assert.deepEqual(kinds(3), ['modified:symlink:var/cache:0']);
    assert.deepEqual(kinds(4), ['deleted:file:nothing:0', 'added:file:dup:4']);
    const c1 = img.layerChanges(0, 1).changes;
    assert.equal(c1.find((c) => c.path === 'etc/os')!.whiteoutPath, 'etc/.wh.os');
    assert.equal(c1.find((c) => c.kind === 'opaque')!.whiteoutPath, 'usr/lib/.wh..wh..opq');
    assert.equal(c1.find((c) => c.path === 'etc/passwd')!.uid, 1000);
    assert.equal(img.layerChanges(0, 2).changes.find((c) => c.path.startsWith('names/'))!.rawName, true);
    assert.equal(img.layerChanges(0, 0).changes.find((c) => c.path === 'link')!.linkTarget, 'etc/passwd');
    assert.equal(img.layerChanges(0, 2).changes.find((c) => c.path === 'bin/sh2')!.linkTarget, 'bin/sh');
  });

  it('pages the change list', () => {
    const all = img.layerChanges(0, 1);
    const page = img.layerChanges(0, 1, { offset: 2, limit: 3 });
    assert.equal(page.total, all.total);
    assert.deepEqual(page.changes, all.changes.slice(2, 5));
  });

  it('warns per layer about duplicates, whiteouts of nothing and absolute paths', () => {
    const w = img.image(0).layers.map((l) => l.warnings.join(' | '));
    assert.match(w[4]!, /dup: duplicate entry/);
    assert.match(w[4]!, /whiteout of nothing, which no lower layer has/);
    assert.match(w[1]!, /absolute paths/);
  });

  it('merged view: upper wins, whiteouts and opaque dirs hide, type replacement hides children', () => {
    const names = (n: number, dir: string) => img.listDirectory(0, n, 'merged', dir).entries.map((e) => e.name);
    assert.deepEqual(names(0, ''), ['bin', 'data', 'etc', 'link', 'usr', 'var']);
    assert.deepEqual(names(1, ''), ['bin', 'data', 'etc', 'link', 'rel', 'tmp', 'usr', 'var']);
    assert.deepEqual(names(1, 'etc'), ['passwd']);
    assert.deepEqual(names(1, 'usr/lib'), ['c.so']);
    assert.deepEqual(names(1, 'var/cache'), ['x', 'y']);
    assert.deepEqual(names(4, ''), ['bin', 'data', 'deep', 'dup', 'etc', 'gnu', 'link', 'names', 'rel', 'usr', 'var']);
    assert.equal(img.stat(0, 2, 'merged', 'data/d1')!.type, 'file');
    assert.equal(img.stat(0, 2, 'merged', 'data/d1/f'), null);
    assert.equal(img.stat(0, 3, 'merged', 'var/cache')!.type, 'symlink');
    assert.equal(img.stat(0, 3, 'merged', 'var/cache/x'), null);
    assert.equal(img.stat(0, 2, 'merged', 'var/cache/x')!.size, 200);
    assert.equal(img.stat(0, 4, 'merged', 'etc/passwd')!.size, 120);
    assert.equal(img.stat(0, 0, 'merged', 'etc/passwd')!.size, 100);
    assert.throws(() => img.listDirectory(0, 3, 'merged', 'var/cache'), /var\/cache: not a directory \(symlink\)/);
    assert.throws(() => img.listDirectory(0, 3, 'merged', 'tmp/nope'), /no such directory/);
  });

  it('directory sizes are cumulative and child counts match the view', () => {
    const root = img.stat(0, 0, 'merged', '')!;
    assert.equal(root.size, 100 + 20 + 1000 + 500 + 300 + 200 + 50);
    const usr = img.stat(0, 1, 'merged', 'usr')!;
    assert.equal(usr.size, 40);
    assert.equal(usr.childCount, 1);
    assert.equal(img.stat(0, 1, 'merged', 'usr/lib')!.opaque, true);
    assert.equal(img.stat(0, 4, 'merged', 'bin')!.childCount, 2);
  });

  it('badges in the merged view are relative to the layer below', () => {
    const e = Object.fromEntries(img.listDirectory(0, 1, 'merged', 'etc').entries.map((x) => [x.name, x.kind]));
    assert.deepEqual(e, { passwd: 'modified' });
    const root = Object.fromEntries(img.listDirectory(0, 1, 'merged', '').entries.map((x) => [x.name, x.kind]));
    assert.equal(root.bin, 'unchanged');
    assert.equal(root.tmp, 'added');
  });

  it('layer view shows only the layer\'s own entries with whiteouts under their real names', () => {
    const l1 = img.listDirectory(0, 1, 'layer', 'etc').entries;
    assert.deepEqual(l1.map((x) => [x.name, x.kind, x.whiteoutName]), [['os', 'deleted', '.wh.os'], ['passwd', 'modified', null]]);
    assert.equal(l1[0]!.size, 20);
    const root2 = img.listDirectory(0, 2, 'layer', '').entries.map((x) => `${x.name}:${x.kind}`);
    assert.deepEqual(root2, ['bin:modified', 'data:modified', 'deep:added', 'gnu:added', 'names:added', 'tmp:deleted']);
    assert.equal(img.listDirectory(0, 1, 'layer', 'usr').entries[0]!.opaque, true);
  });

  it('range view: what layers A..B changed relative to the tree below A', () => {
    const r = img.listDirectory(0, 2, 'range', '', { rangeStart: 1 }).entries.map((x) => `${x.name}:${x.kind}`);
    // tmp was added in 1 and deleted in 2: it neither existed before nor after, so it is not shown.
    assert.deepEqual(r, ['bin:modified', 'data:modified', 'deep:added', 'etc:modified', 'gnu:added', 'names:added', 'rel:added', 'usr:modified', 'var:modified']);
    const etc = img.listDirectory(0, 2, 'range', 'etc', { rangeStart: 1 }).entries.map((x) => `${x.name}:${x.kind}`);
    assert.deepEqual(etc, ['os:deleted', 'passwd:modified']);
    const whole = img.listDirectory(0, 4, 'range', '', { rangeStart: 0 }).entries.length;
    assert.equal(whole, img.listDirectory(0, 4, 'merged', '').entries.length);
  });

  it('pages, sorts and filters directory listings', () => {
    const bySize = img.listDirectory(0, 0, 'merged', '', { sort: 'size', descending: true }).entries.map((e) => e.name);
    assert.deepEqual(bySize.slice(0, 2), ['bin', 'usr']);
    const page = img.listDirectory(0, 4, 'merged', '', { offset: 2, limit: 3 });
    assert.equal(page.total, 11);
    assert.deepEqual(page.entries.map((e) => e.name), ['deep', 'dup', 'etc']);
    const filtered = img.listDirectory(0, 0, 'merged', '', { filter: 'B.SO' }).entries.map((e) => e.name);
    assert.deepEqual(filtered, ['usr']);
    const kinds = img.listDirectory(0, 1, 'layer', 'etc', { kinds: ['deleted'] }).entries.map((e) => e.name);
    assert.deepEqual(kinds, ['os']);
  });

  it('wastedBytes counts each hidden copy once (replaced, deleted, opaque, parent replaced) and names who hid it', () => {
    const s = img.summary(0);
    assert.equal(s.wastedBytes, 100 + 20 + 500 + 300 + 5000 + 50 + 200 + 10);
    const top = Object.fromEntries(s.topWasted.map((w) => [w.path, `${w.writtenBy.join(',')}>${w.hiddenBy}:${w.how}`]));
    assert.deepEqual(top, {
      'tmp/big': '1>2:deleted', 'usr/lib/a.so': '0>1:opaque', 'usr/lib/b.so': '0>1:opaque', 'var/cache/x': '0>3:parent-replaced',
      'etc/passwd': '0>1:replaced', 'data/d1/f': '0>2:parent-replaced', 'etc/os': '0>1:deleted', 'var/cache/y': '1>3:parent-replaced',
    });
    assert.equal(s.topWasted[0]!.path, 'tmp/big');
    assert.equal(img.stat(0, 1, 'merged', 'tmp')!.wasted, true);
    assert.equal(img.stat(0, 1, 'merged', 'rel')!.wasted, false);
  });

  it('efficiency follows dive\'s formula (leaf paths: Σ smallest ÷ Σ all; whiteouts count what they remove)', () => {
    const s = img.summary(0);
    // per-path contributions worked out by hand from the layers above
    const minSum = 2170 + (800 + 40 + 10 + 5000 + 5) + (5000 + 7 + 0 + 3 + 2 + 4) + 0 + (0 + 4);
    const allSum = minSum + (120 - 0) + 20; // etc/passwd seen as 100 and 120, etc/os as 20 and 20 (its whiteout)
    assert.equal(s.efficiency, minSum / allSum);
    // dive's own implementation counts the removed *file* etc/os as 0
    assert.equal(s.diveEfficiency, (minSum - 20) / (allSum - 20));
    assert.equal(s.totalSize, 2170 + 5175 + 16 + 0 + 4);
    assert.equal(s.userSize, 5175 + 16 + 4);
  });

  it('reads one file\'s bytes (merged or layer view, size-capped, following hardlinks)', async () => {
    const f = await img.readFile(0, 4, 'etc/passwd');
    assert.equal(Buffer.from(f.bytes).toString(), 'P'.repeat(120));
    assert.equal(f.layerIndex, 1);
    const old = await img.readFile(0, 0, 'etc/passwd');
    assert.equal(Buffer.from(old.bytes).toString(), 'p'.repeat(100));
    const capped = await img.readFile(0, 4, 'bin/sh', { maxBytes: 10 });
    assert.equal(capped.bytes.length, 10);
    assert.equal(capped.truncated, true);
    const hl = await img.readFile(0, 4, 'bin/sh2');
    assert.equal(hl.bytes.length, 1000);
    await assert.rejects(img.readFile(0, 4, 'etc/passwd', { mode: 'layer' }), /no such file in layer 4/);
    await assert.rejects(img.readFile(0, 4, 'var/cache'), /not a regular file \(symlink\)/);
    await assert.rejects(img.readFile(0, 4, 'etc'), /not a regular file \(dir\)/);
  });

  it('rejects unknown images and layers with a clear error', () => {
    assert.throws(() => img.image('nope:1'), /no such image/);
    assert.throws(() => img.listDirectory(0, 9, 'merged', ''), /no such layer/);
  });
});

describe('image reader: formats', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());
  const a: ImageSpec = { tags: ['a:1'], layers: [makeTar([{ name: 'base', content: 'b' }]), makeTar([{ name: 'a', content: 'aa' }])] };
  const b: ImageSpec = { tags: ['b:1'], layers: [a.layers[0]!, makeTar([{ name: 'b', content: 'bbb' }])] };

  async function open(p: string, opts = {}) {
    const img = await openImage(p, opts);
    await img.done;
    return img;
  }

  it('legacy docker save with several images sharing a (symlinked) layer', async () => {
    const img = await open(tmp.write('multi.tar', dockerSaveLegacy([a, b])));
    assert.deepEqual(img.info.images.map((i) => i.ref), ['a:1', 'b:1']);
    assert.deepEqual(img.info.images.map((i) => i.layers.map((l) => l.status)), [['read', 'read'], ['read', 'read']]);
    assert.deepEqual(img.listDirectory('b:1', 1, 'merged', '').entries.map((e) => e.name), ['b', 'base']);
    await img.close();
  });

  it('gzip-wrapped docker save', async () => {
    const img = await open(tmp.write('wrapped.tar.gz', dockerSaveLegacy([a], { gzipOuter: true })));
    assert.equal(img.info.format, 'docker-archive');
    assert.deepEqual(img.listDirectory(0, 1, 'merged', '').entries.map((e) => e.name), ['a', 'base']);
    assert.equal(Buffer.from((await img.readFile(0, 1, 'a')).bytes).toString(), 'aa');
    await img.close();
  });

  it('gzip-wrapped docker save: manifests and configs come from the one indexing pass (no re-decompression)', async () => {
    const file = tmp.write('wrapped-once.tar.gz', dockerSaveLegacy([a], { gzipOuter: true }));
    const src = await openArchiveSource(file, 1 << 30);
    assert.equal(src.kind, 'gzip-tar');
    writeFileSync(file, 'gone'); // any further decompression pass would now fail
    const manifest = JSON.parse((await src.readSmall('manifest.json', 1 << 20)).toString()) as Array<{ Config: string; Layers: string[] }>;
    assert.equal(manifest.length, 1);
    const config = JSON.parse((await src.readSmall(manifest[0]!.Config, 1 << 20)).toString()) as { rootfs: { diff_ids: string[] } };
    assert.equal(config.rootfs.diff_ids.length, 2);
    let layerBytes = 0;
    for await (const c of src.stream(manifest[0]!.Layers[0]!)) layerBytes += c.length; // small blobs: from memory too
    assert.equal(layerBytes, a.layers[0]!.length);
    await src.close();
  });

  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    it(`OCI archive and OCI layout directory with ${compression} layers`, async () => {
      const arch = await open(tmp.write(`oci-${compression}.tar`, ociArchive([a], { compression })));
      assert.equal(arch.info.format, 'oci-archive');
      assert.deepEqual(arch.info.images[0]!.layers.map((l) => l.compression), [compression, compression]);
      assert.equal(arch.info.images[0]!.ref, 'a:1');
      assert.equal(Buffer.from((await arch.readFile(0, 1, 'a')).bytes).toString(), 'aa');
      await arch.close();
      const dir = await open(tmp.writeFiles(`layout-${compression}`, ociFiles([a], { compression })));
      assert.equal(dir.info.format, 'oci-layout');
      assert.deepEqual(dir.listDirectory(0, 1, 'merged', '').entries.map((e) => e.name), ['a', 'base']);
      await dir.close();
    });
  }

  it('docker 25+ save (OCI layout + manifest.json) with the index and manifests after the layers', async () => {
    const img = await open(tmp.write('v25.tar', ociArchive([a], { dockerManifest: true, order: 'layers-first', compression: 'none' })));
    assert.equal(img.info.format, 'docker-archive');
    assert.equal(img.info.flavor, 'docker-save-oci');
    assert.equal(img.info.images[0]!.ref, 'a:1');
    assert.ok(img.info.images[0]!.layers.every((l) => l.status === 'read'));
    await img.close();
  });

  const arm: ImageSpec = { ...a, platform: { os: 'linux', architecture: 'arm64' }, layers: [a.layers[0]!, makeTar([{ name: 'arm', content: 'x' }])] };
  const amd: ImageSpec = { ...a, platform: { os: 'linux', architecture: 'amd64' }, layers: [a.layers[0]!, makeTar([{ name: 'amd', content: 'y' }])] };

  it('multi-platform index: lists every platform, picks --platform, ignores attestation manifests', async () => {
    const p = tmp.write('multi-platform.tar', ociArchive([amd, arm], { multiPlatform: true, attestations: true }));
    const img = await open(p, { platform: 'linux/arm64' });
    assert.deepEqual(img.info.platforms.map((x) => `${x.platform}${x.selected ? '*' : ''}`), ['linux/amd64', 'linux/arm64*']);
    assert.equal(img.info.images.length, 1);
    assert.equal(img.info.images[0]!.platform, 'linux/arm64');
    assert.equal(img.stat(0, 1, 'merged', 'arm')!.type, 'file');
    assert.ok(img.info.warnings.some((w) => /attestation/.test(w)));
    await img.close();
    const host = await open(p);
    assert.equal(host.info.images.length, 1);
    assert.equal(host.info.platforms.filter((x) => x.selected).length, 1);
    await host.close();
    await assert.rejects(openImage(p, { platform: 'windows/amd64' }), /no image for platform windows\/amd64 \(available: linux\/amd64, linux\/arm64\)/);
  });

  it('nested indexes resolve to the image', async () => {
    const img = await open(tmp.write('nested.tar', ociArchive([amd, arm], { multiPlatform: true, nested: true })), { platform: 'linux/amd64' });
    assert.equal(img.info.images[0]!.platform, 'linux/amd64');
    assert.equal(img.stat(0, 1, 'merged', 'amd')!.size, 1);
    await img.close();
  });

  it('a foreign (non-distributable) layer is reported, not fatal', async () => {
    const img = await open(tmp.write('foreign.tar', ociArchive([a], { foreignLayer: 0 })));
    const layers = img.info.images[0]!.layers;
    assert.equal(layers[0]!.foreign, true);
    assert.equal(layers[0]!.status, 'foreign');
    assert.match(layers[0]!.warnings[0]!, /foreign layer/);
    assert.equal(layers[1]!.status, 'read');
    await img.close();
  });

  it('metadataOnly gives the layer list without reading layers; progress events arrive per layer', async () => {
    const p = tmp.write('progress.tar', ociArchive([a]));
    const meta = await openImage(p, { metadataOnly: true });
    assert.deepEqual(meta.info.images[0]!.layers.map((l) => l.status), ['pending', 'pending']);
    await meta.close();
    const events: string[] = [];
    const img = await openImage(p, { onProgress: (e) => events.push(e.type === 'layer-done' ? `done${e.layer}` : e.type) });
    await img.done;
    assert.equal(events[0], 'archive');
    assert.equal(events.at(-1), 'done');
    assert.ok(events.includes('done0') && events.includes('done1'));
    await img.close();
  });

  it('a layer\'s tree is queryable as soon as it is read, before the last layer is', async () => {
    const layers = Array.from({ length: 8 }, (_, i) => makeTar([{ name: `l${i}/zeros`, content: Buffer.alloc(2 * 1024 * 1024) }]));
    const p = tmp.write('progressive.tar', ociArchive([{ tags: ['p:1'], layers }], { compression: 'gzip' }));
    let img: Awaited<ReturnType<typeof openImage>> | null = null;
    const seen: { layer: number; names: string[]; unread: number }[] = [];
    img = await openImage(p, {
      onProgress: (e) => {
        if (e.type !== 'layer-done' || !img) return;
        const unread = img.info.images[0]!.layers.filter((l) => l.status === 'pending' || l.status === 'reading').length;
        seen.push({ layer: e.layer, names: img.listDirectory(0, e.layer, 'layer', '').entries.map((x) => x.name), unread });
      },
    });
    await img.done;
    assert.equal(seen.length, 8);
    assert.ok(seen[0]!.unread > 0, 'the first finished layer was visible while others were still being read');
    for (const s of seen) assert.deepEqual(s.names, [`l${s.layer}`]);
    await img.close();
  });

  it('cancelling with an AbortSignal stops reading and marks layers failed', async () => {
    const ac = new AbortController();
    ac.abort();
    const img = await openImage(tmp.write('cancel.tar', ociArchive([a])), { signal: ac.signal });
    await img.done;
    assert.ok(img.info.images[0]!.layers.every((l) => l.status === 'failed' && /cancelled/.test(l.error ?? '')));
    await img.close();
  });

  it('detects by content, not by name: a tar named .gz, a layout without oci-layout file', async () => {
    const img = await open(tmp.write('misnamed.gz', dockerSaveLegacy([a])));
    assert.equal(img.info.format, 'docker-archive');
    await img.close();
    const files = ociFiles([a]);
    delete files['oci-layout'];
    const dir = await open(tmp.writeFiles('no-oci-layout', files));
    assert.equal(dir.info.format, 'oci-layout');
    await dir.close();
    void tarOf;
  });
});

describe('image reader: extended attributes (PAX SCHILY.xattr.*)', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('are exposed on layer changes and directory entries: text as utf8, binary values as base64', async () => {
    const cap = '\u0001\u0000\u0000\u0002\u0020\u0000'; // a file-capability-like value: NUL bytes → base64
    const layer = makeTar([
      { name: 'usr/bin/ping', content: 'elf', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.note': 'héllo' } },
      { name: 'usr/bin/plain', content: 'x' },
    ]);
    const upper = makeTar([{ name: 'usr/bin/ping', content: 'elf2' }]); // replaced without xattrs
    for (const compression of ['none', 'gzip'] as const) {
      const img = await openImage(tmp.write(`xattr-${compression}.tar`, ociArchive([{ layers: [layer, upper] }], { compression })));
      await img.done;
      const ping = img.layerChanges(0, 0).changes.find((c) => c.path === 'usr/bin/ping')!;
      assert.deepEqual(ping.xattrs, [
        { name: 'security.capability', value: Buffer.from(cap).toString('base64'), encoding: 'base64' },
        { name: 'user.note', value: 'héllo', encoding: 'utf8' },
      ]);
      assert.deepEqual(img.layerChanges(0, 0).changes.find((c) => c.path === 'usr/bin/plain')!.xattrs, []);
      assert.deepEqual(img.stat(0, 0, 'merged', 'usr/bin/ping')!.xattrs, ping.xattrs);
      assert.equal(img.stat(0, 1, 'merged', 'usr/bin/ping')!.xattrs, undefined, 'the upper copy has none');
      assert.deepEqual(img.layerChanges(0, 1).changes.find((c) => c.path === 'usr/bin/ping')!.xattrs, []);
      await img.close();
    }
  });
});

describe('image reader: whiteouts of paths no lower layer has', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('are warned about once per path, in layer order, and not once a later entry replaced the whiteout', async () => {
    const lower = makeTar([{ name: 'keep', content: 'k' }, { name: 'd/', type: 'dir' }]);
    const upper = makeTar([
      { name: '.wh.x' }, { name: '.wh.keep' }, { name: '.wh.x' }, // a duplicate whiteout: one path
      { name: 'd/.wh.y' }, { name: 'd/y', content: 'now a file' }, // a whiteout replaced in the same layer
      { name: 'd/.wh.z' },
    ]);
    for (const compression of ['none', 'gzip'] as const) {
      const img = await openImage(tmp.write(`wh-${compression}.tar`, ociArchive([{ layers: [lower, upper] }], { compression })));
      await img.done;
      const warnings = img.image(0).layers[1]!.warnings.filter((w) => w.startsWith('whiteout of'));
      assert.deepEqual(warnings, ['whiteout of x and 1 more path(s), which no lower layer has'], compression);
      assert.deepEqual(img.image(0).layers[0]!.warnings, []);
      await img.close();
    }
  });
});
