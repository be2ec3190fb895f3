/**
 * Every archive under ../shared/corpus/images, read in place (never copied): the facts in SOURCES.tsv's notes
 * (image and layer counts, layer compression, platforms, whiteout and opaque-marker counts) must come out of the
 * reader; things that are not image archives must give a clear error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { openImage } from '../../../server/src/image/imageReader';
import { ImageReadError } from '../../../server/src/image/imageReadError';
import { CORPUS } from '../../support/paths';

const DIR = path.join(CORPUS, 'images');
interface Row {
  file: string;
  format: string;
  notes: string;
}
const rows: Row[] = readFileSync(path.join(DIR, 'SOURCES.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => {
  const [file, , , , format, notes] = l.split('\t');
  return { file: file!.replace(/\/$/, ''), format: format!, notes: notes ?? '' };
});
const num = (notes: string, re: RegExp) => {
  const m = re.exec(notes);
  return m ? Number(m[1]) : null;
};

async function read(file: string) {
  const img = await openImage(path.join(DIR, file));
  await img.done;
  return img;
}

function countKinds(img: Awaited<ReturnType<typeof read>>, image: number) {
  let deleted = 0;
  let opaque = 0;
  for (const l of img.info.images[image]!.layers) {
    for (const c of img.layerChanges(image, l.index).changes) {
      if (c.kind === 'deleted') deleted++;
      if (c.kind === 'opaque') opaque++;
    }
  }
  return { deleted, opaque };
}

describe('corpus images: docker save archives match SOURCES.tsv', () => {
  const saves = rows.filter((r) => r.format === 'docker-save (legacy)' && /image\(s\) in manifest.json/.test(r.notes));
  it('covers the corpus', () => assert.equal(saves.length, 15));
  for (const r of saves) {
    it(r.file, async () => {
      const img = await read(r.file);
      assert.equal(img.info.format, 'docker-archive');
      assert.equal(img.info.images.length, num(r.notes, /(\d+) image\(s\) in manifest.json/));
      const layers = num(r.notes, /(\d+) layer\(s\)/)!;
      // notes count distinct layers over the archive; each image here has at most that many
      assert.ok(img.info.images.every((i) => i.layers.length <= layers && i.layers.length > 0));
      if (img.info.images.length === 1) assert.equal(img.info.images[0]!.layers.length, layers);
      const tags = /RepoTags: ([^;]+)/.exec(r.notes)?.[1]!.split(',') ?? [];
      assert.deepEqual(img.info.images.flatMap((i) => i.refs).sort(), [...tags].sort());
      for (const i of img.info.images) assert.ok(i.layers.every((l) => l.status === 'read'), `${i.ref}: ${i.layers.map((l) => l.error).join()}`);
      const comps = /layer compression: ([a-z,]+)/.exec(r.notes)![1]!.split(',');
      // "tar" in the notes = uncompressed; "other" = a layer that is empty or neither (go-containerregistry's empty layer)
      const seen = new Set<string>(img.info.images.flatMap((i) => i.layers.map((l) => (l.compression === 'none' ? 'tar' : l.compression))));
      for (const c of comps.filter((x) => x !== 'other')) assert.ok(seen.has(c), `compression ${c} in ${[...seen]}`);
      const whiteouts = num(r.notes, /(\d+) whiteout file\(s\)/) ?? 0;
      assert.equal(img.info.images.reduce((s, _, k) => s + countKinds(img, k).deleted, 0), whiteouts);
      await img.close();
    });
  }

  it('dive\'s test image: the figures dive\'s own test expects (efficiency, wasted, sizes)', async () => {
    const img = await read('wagoodman__dive/.data__test-docker-image.tar');
    const s = img.summary(0);
    // dive/image/docker/image_archive_analysis_test.go: {0.9844212134184309, 1220598, 66237, 32025, 0.4834911001404049}
    assert.equal(s.diveEfficiency, 0.9844212134184309);
    assert.equal(s.totalSize, 1220598);
    assert.equal(s.userSize, 66237);
    assert.equal(s.diveWastedBytes, 32025);
    assert.equal(s.diveWastedBytes / s.userSize, 0.4834911001404049);
    // ours: somefile1 (2 copies, deleted), somefile2, somefile3 (moved away), saved.txt (chmod rewrote it)
    assert.equal(s.wastedBytes, 6405 * 5);
    assert.deepEqual(s.topWasted.map((w) => `${w.path}:${w.writtenBy}:${w.hiddenBy}:${w.how}`), [
      'root/example/somefile1.txt:3,4:9:deleted', 'root/example/somefile2.txt:5:9:deleted',
      'root/example/somefile3.txt:6:7:deleted', 'root/saved.txt:7:13:replaced',
    ]);
    const l9 = img.layerChanges(0, 9).changes.filter((c) => c.kind === 'deleted');
    assert.deepEqual(l9.map((c) => [c.path, c.type, c.size]), [['root/example', 'dir', 12810]]);
    assert.equal(img.info.images[0]!.layers[9]!.createdBy, '/bin/sh -c rm -rf /root/example/');
    await img.close();
  });

  it('kaniko-built dive image (gzip layers) gives the same tree as the docker-built one', async () => {
    const a = await read('wagoodman__dive/.data__test-docker-image.tar');
    const b = await read('wagoodman__dive/.data__test-kaniko-image.tar');
    // same Dockerfile, different builder: same paths and types (kaniko's test file content differs in size)
    const names = (img: typeof a) => img.listDirectory(0, 13, 'merged', 'root').entries.map((e) => `${e.name}:${e.type}`);
    assert.deepEqual(names(b), names(a));
    assert.ok(b.info.images[0]!.layers.every((l) => l.compression === 'gzip'));
    await a.close();
    await b.close();
  });

  it('trivy\'s gzip-wrapped docker saves (alpine 3.10/3.11)', async () => {
    for (const v of ['310', '311']) {
      const img = await read(`aquasecurity__trivy/pkg__fanal__test__testdata__alpine-${v}.tar.gz`);
      assert.equal(img.info.images[0]!.ref, `alpine:3.${v.slice(1)}`);
      assert.equal(img.stat(0, 0, 'merged', 'etc/alpine-release')!.type, 'file');
      const rel = Buffer.from((await img.readFile(0, 0, 'etc/alpine-release')).bytes).toString();
      assert.match(rel, new RegExp(`^3\\.${v.slice(1)}\\.`));
      await img.close();
    }
  });

  it('go-containerregistry whiteout_dir: a whole directory deleted', async () => {
    const img = await read('google__go-containerregistry/pkg__v1__mutate__testdata__whiteout_dir.tar');
    const deleted = img.info.images[0]!.layers.flatMap((l) => img.layerChanges(0, l.index).changes.filter((c) => c.kind === 'deleted'));
    // layer 2 whites out a/, layer 3 copies a new a/ in: the old a/foo must stay hidden
    assert.deepEqual(deleted.map((c) => [c.path, c.type]), [['a', 'dir']]);
    assert.equal(img.stat(0, 2, 'merged', 'a'), null);
    assert.deepEqual(img.listDirectory(0, 3, 'merged', 'a').entries.map((e) => e.name), ['baz']);
    assert.equal(img.stat(0, 3, 'merged', 'a/foo'), null);
    assert.equal(img.stat(0, 1, 'merged', 'a/foo')!.type, 'file');
    await img.close();
  });
});

describe('corpus images: OCI archives, docker 25 save and layouts', () => {
  const ociArchives = rows.filter((r) => r.format.startsWith('oci-archive'));
  for (const r of ociArchives) {
    it(r.file, async () => {
      const img = await read(r.file);
      assert.equal(img.info.format, 'oci-archive');
      assert.equal(img.info.images.length, num(r.notes, /(\d+) manifest\(s\)/));
      const im = img.info.images[0]!;
      assert.equal(im.layers.length, num(r.notes, /(\d+) layer\(s\)/));
      assert.equal(im.platform, /platforms: ([^;]+)/.exec(r.notes)![1]);
      const comp = /layer compression: (\w+)/.exec(r.notes)![1];
      assert.equal(im.layers[0]!.compression === 'none' ? 'tar' : im.layers[0]!.compression, comp);
      assert.equal(im.layers[0]!.status, 'read');
      assert.equal(img.stat(0, 0, 'merged', 'README.md')!.type, 'file');
      await img.close();
    });
  }

  it('hello-world-v25: docker 25 save read through manifest.json although index.json has "manifests": null', async () => {
    const img = await read('google__go-containerregistry/pkg__v1__tarball__testdata__hello-world-v25.tar');
    assert.equal(img.info.flavor, 'docker-save-oci');
    assert.equal(img.info.images[0]!.layers.length, 1);
    assert.equal(img.stat(0, 0, 'merged', 'hello')!.type, 'file');
    await img.close();
  });

  it('regclient testrepo: many tags, multi-platform indexes (host platform chosen), artifacts skipped', async () => {
    const img = await read('regclient__regclient/testdata__testrepo');
    assert.equal(img.info.format, 'oci-layout');
    const plats = new Set(img.info.platforms.map((p) => p.platform));
    for (const p of ['linux/amd64', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm64']) assert.ok(plats.has(p), p);
    assert.ok(img.info.images.length >= 6);
    assert.ok(img.info.images.every((i) => i.layers.every((l) => l.status === 'read')));
    assert.ok(img.info.warnings.some((w) => /not a container image/.test(w)));
    await img.close();
  });

  it('go-containerregistry test_index: several images by ref name in one layout', async () => {
    const img = await read('google__go-containerregistry/pkg__v1__layout__testdata__test_index');
    assert.ok(img.info.images.length >= 2);
    assert.ok(img.info.images.every((i) => i.layers[0]!.compression === 'gzip' && i.layers[0]!.status === 'read'));
    await img.close();
  });

  const layouts = rows.filter((r) => r.format === 'oci-layout (directory)');
  it('every OCI layout directory opens or fails with a clear error', async () => {
    let opened = 0;
    for (const r of layouts) {
      try {
        const img = await read(r.file);
        opened++;
        for (const i of img.info.images) {
          for (const l of i.layers) assert.ok(l.status === 'read' || (l.status === 'failed' && /truncated tar|not a tar/.test(l.error!)), `${r.file}: ${l.error}`);
        }
        await img.close();
      } catch (e) {
        assert.ok(e instanceof ImageReadError, `${r.file}: ${String(e)}`);
        assert.match(e.why, /missing from the archive|no manifests|not a container image|no container images/);
      }
    }
    assert.ok(opened >= 9, `opened ${opened}`); // 6 of the 15 hold only artifacts or name missing blobs
  });
});

describe('corpus images: files that are not image archives', () => {
  const notImages = rows.filter((r) => /not an image|single layer tar|no manifest.json|compression sample|rootfs\/layer contents/.test(r.format) || r.notes.includes("manifest.json is b'null'"));
  for (const r of notImages) {
    it(`${r.file} → clear error`, async () => {
      await assert.rejects(read(r.file), (e: unknown) => {
        assert.ok(e instanceof ImageReadError, String(e));
        assert.match(e.why, /not an image archive|not a tar|not supported|lists no images|zstd-compressed|truncated tar|too short/);
        return true;
      });
    });
  }
});
