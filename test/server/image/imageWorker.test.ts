/**
 * The worker-thread paths (dist/imageWorker.js): hashing uncompressed layers while the tree is built by seeking,
 * and the opt-in decoding of compressed layers in workers (STRATA_IMAGE_LAYER_WORKERS=1) must give the same
 * results and the same errors as the main-thread paths.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DIST } from '../../support/paths';
import { compress, dockerSaveLegacy, makeTar, ociFiles, sha256, tarOf, tempDir } from './imageFixtures';

const WORKER = path.join(DIST, 'imageWorker.js');
process.env.STRATA_IMAGE_WORKER = WORKER;
process.env.STRATA_IMAGE_WORKERS = '1'; // on by default only with > 2 cores
process.env.STRATA_IMAGE_LAYER_WORKERS = '1';

describe('image reader with worker threads', () => {
  const tmp = tempDir();
  let openImage: typeof import('../../../server/src/image/imageReader').openImage;
  before(async () => {
    assert.ok(existsSync(WORKER), `${WORKER} is built by scripts/build.mjs`);
    ({ openImage } = await import('../../../server/src/image/imageReader'));
  });
  after(() => tmp.cleanup());
  const layer = makeTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/hosts', content: 'localhost' }, ...Array.from({ length: 4500 }, (_, i) => ({ name: `many/f${i}`, content: 'x' }))]);

  for (const c of ['gzip', 'zstd', 'none'] as const) {
    it(`reads ${c} layers and verifies them`, async () => {
      const img = await openImage(tmp.write(`w-${c}.tar`, tarOf(ociFiles([{ tags: ['w:1'], layers: [layer] }], { compression: c }))));
      await img.done;
      const l = img.info.images[0]!.layers[0]!;
      assert.equal(l.status, 'read', l.error ?? '');
      assert.equal(l.compression, c);
      assert.equal(l.entryCount, 4502);
      assert.equal(img.listDirectory(0, 0, 'merged', 'many').total, 4500);
      assert.equal(Buffer.from((await img.readFile(0, 0, 'etc/hosts')).bytes).toString(), 'localhost');
      await img.close();
    });
  }

  it('reports digest mismatches, corrupt data and limits from the worker', async () => {
    const files = ociFiles([{ tags: ['w:1'], layers: [layer] }], { compression: 'gzip' });
    const name = `blobs/sha256/${sha256(compress(layer, 'gzip')).slice(7)}`;
    files[name] = gzipSync(makeTar([{ name: 'evil', content: 'x' }]));
    let img = await openImage(tmp.write('w-mismatch.tar', tarOf(files)));
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /blob digest mismatch/);
    await img.close();
    const bad = Buffer.from(compress(layer, 'gzip'));
    bad.fill(0x55, 40, 80);
    files[name] = bad;
    img = await openImage(tmp.write('w-corrupt.tar', tarOf(files)));
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /corrupt gzip data/);
    await img.close();
    files[name] = compress(layer, 'gzip');
    img = await openImage(tmp.write('w-limit.tar', tarOf(files)), { limits: { maxExpandedBytes: 100_000 } });
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /expands past the 100000-byte limit/);
    await img.close();
    img = await openImage(tmp.write('w-entries.tar', tarOf(files)), { limits: { maxEntries: 1000 } });
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /more than 1000 entries/);
    await img.close();
  });

  it('main-thread decoding with the blob hashed by a worker still catches a blob mismatch', async () => {
    process.env.STRATA_IMAGE_LAYER_WORKERS = '0';
    process.env.STRATA_ZSTD_PIPE = '0'; // zstd via the stream path on this thread (the FIFO path: zstdFileRange.test.ts)
    try {
      const files = ociFiles([{ tags: ['w:1'], layers: [layer] }], { compression: 'zstd' });
      const name = `blobs/sha256/${sha256(compress(layer, 'zstd')).slice(7)}`;
      files[name] = compress(makeTar([{ name: 'evil', content: 'x' }]), 'zstd');
      const img = await openImage(tmp.write('w-main-mismatch.tar', tarOf(files)));
      await img.done;
      assert.match(img.info.images[0]!.layers[0]!.error ?? '', /blob digest mismatch/);
      await img.close();
      const ok = await openImage(tmp.write('w-main-ok.tar', tarOf(ociFiles([{ tags: ['w:1'], layers: [layer] }], { compression: 'gzip' }))));
      await ok.done;
      assert.equal(ok.info.images[0]!.layers[0]!.status, 'read');
      await ok.close();
      // the diffId of decompressed bytes is hashed on a worker from chunks this thread posts
      const diff = await openImage(tmp.write('w-main-diffid.tar', tarOf(ociFiles([{ tags: ['w:1'], layers: [layer], diffIds: [sha256(Buffer.from('x'))] }], { compression: 'zstd' }))));
      await diff.done;
      assert.match(diff.info.images[0]!.layers[0]!.error ?? '', /diffId mismatch: the config says sha256:/);
      await diff.close();
    } finally {
      process.env.STRATA_IMAGE_LAYER_WORKERS = '1';
      delete process.env.STRATA_ZSTD_PIPE;
    }
  });

  it('hashing for verification waits for the tree read where it would take its cores; streamed-blob hashing does not', async () => {
    const { foregroundWork, hashFileRange } = await import('../../../server/src/image/imageWorkerPool');
    const os = await import('node:os');
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const file = tmp.write('w-prio.bin', data);
    const release = foregroundWork();
    let bgDone = false;
    const bg = hashFileRange(file, 0, data.length, 'sha256', undefined, true).then((r) => {
      bgDone = true;
      return r;
    });
    try {
      // a blob hash someone is streaming against runs during the tree read…
      const fg = await hashFileRange(file, 1, data.length - 1, 'sha256');
      assert.equal(`sha256:${fg.hex}`, sha256(data.subarray(1)));
      await new Promise((r) => setTimeout(r, 200));
      // …a verification hash only if two cores are left for the tree read (the pool has max(2, cores) ≤ 4 threads)
      const pool = Math.min(4, Math.max(2, os.availableParallelism()));
      assert.equal(bgDone, pool > 2, `pool of ${pool}: background hash ${bgDone ? 'ran' : 'waited'} during the tree read`);
    } finally {
      release();
    }
    const r = await bg;
    assert.equal(`sha256:${r.hex}`, sha256(data));
    assert.equal(r.read, data.length);
  });

  it('diffId mismatch of an uncompressed layer is found by the hashing worker', async () => {
    const img = await openImage(tmp.write('w-diffid.tar', dockerSaveLegacy([{ tags: ['w:1'], layers: [layer], diffIds: [sha256(Buffer.from('x'))] }])));
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /diffId mismatch/);
    await img.close();
  });
});
