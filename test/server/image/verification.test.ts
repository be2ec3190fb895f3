/**
 * Verification runs apart from reading the trees: uncompressed layers are indexed by seeking while their bytes are
 * hashed (on worker threads when dist/imageWorker.js is built, else on the main thread), and each layer's state
 * goes pending → verified / mismatch. Both ways are tested, and the streamed (gzip) path too.
 */
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { openImage } from '../../../server/src/image/imageReader';
import { hashWorkersAvailable } from '../../../server/src/image/imageWorkerPool';
import type { ImageProgressEvent, OpenOptions } from '../../../server/src/image/imageModel';
import { dockerSaveLegacy, makeTar, ociArchive, tempDir, type ImageSpec } from './imageFixtures';
import { DIST } from '../../support/paths';

const WORKER = path.join(DIST, 'imageWorker.js');
const MARK = 'CORRUPT-ME-';

/** Three uncompressed layers; layer 1 holds a file whose content starts with MARK (big enough to need hashing). */
function spec(): ImageSpec {
  return {
    tags: ['verify:1'],
    layers: [
      makeTar([{ name: 'etc/os', content: 'debian' }, { name: 'bin/sh', content: 's'.repeat(70_000) }]),
      makeTar([{ name: 'usr/share/blob', content: MARK + 'z'.repeat(3 * 1024 * 1024) }, { name: 'usr/share/small', content: 'x' }]),
      makeTar([{ name: 'app/main', content: 'm'.repeat(5000) }]),
    ],
    createdBy: ['ADD rootfs', 'RUN blob', 'COPY app'],
  };
}

/** The archive with one byte of layer 1's file content changed: its tar still parses, its diffId no longer holds. */
function corrupted(archive: Buffer): Buffer {
  const at = archive.indexOf(MARK);
  assert.ok(at > 0 && archive.indexOf(MARK, at + 1) < 0, 'marker occurs once');
  const out = Buffer.from(archive);
  out[at] = 'c'.charCodeAt(0);
  return out;
}

const modes: Array<[string, string | null]> = [
  ['worker threads', WORKER],
  ['main thread', null],
];

for (const [label, worker] of modes) {
  describe(`verification apart from the trees (${label})`, () => {
    const tmp = tempDir();
    const saved = { w: process.env.STRATA_IMAGE_WORKER, ws: process.env.STRATA_IMAGE_WORKERS };
    const setMode = () => {
      if (worker) {
        assert.ok(existsSync(worker), `${worker} is built (scripts/test.mjs builds dist/ first)`);
        process.env.STRATA_IMAGE_WORKER = worker;
        delete process.env.STRATA_IMAGE_WORKERS;
      } else process.env.STRATA_IMAGE_WORKERS = '0';
      assert.equal(hashWorkersAvailable(), worker !== null);
    };
    afterEach(() => {
      if (saved.w === undefined) delete process.env.STRATA_IMAGE_WORKER;
      else process.env.STRATA_IMAGE_WORKER = saved.w;
      if (saved.ws === undefined) delete process.env.STRATA_IMAGE_WORKERS;
      else process.env.STRATA_IMAGE_WORKERS = saved.ws;
    });
    after(() => tmp.cleanup());

    it('a good image: every layer ends verified, after trees-ready', async () => {
      setMode();
      const p = tmp.write(`good-${label}.tar`, dockerSaveLegacy([spec()]));
      const events: ImageProgressEvent[] = [];
      const img = await openImage(p, { onProgress: (e) => events.push(e) });
      assert.equal(img.info.verification, 'pending');
      assert.deepEqual(img.info.images[0]!.layers.map((l) => l.verification), ['pending', 'pending', 'pending']);
      const result = await img.verified;
      await img.done;
      assert.deepEqual(result, { state: 'verified', problems: [] });
      assert.equal(img.info.verification, 'verified');
      const layers = img.info.images[0]!.layers;
      assert.deepEqual(layers.map((l) => [l.status, l.verification]), [['read', 'verified'], ['read', 'verified'], ['read', 'verified']]);
      const verifiedEvents = events.filter((e) => e.type === 'layer-verified').map((e) => (e as { layer: number }).layer).sort();
      assert.deepEqual(verifiedEvents, [0, 1, 2]);
      const types = events.map((e) => e.type);
      assert.ok(types.indexOf('trees-ready') >= 0 && types.indexOf('trees-ready') < types.indexOf('verified'), types.join());
      assert.equal(types.at(-1), 'done');
      await img.close();
    });

    it('a corrupted byte in a layer: trees are usable first, then that layer is a mismatch naming it', async () => {
      setMode();
      const p = tmp.write(`bad-${label}.tar`, corrupted(dockerSaveLegacy([spec()])));
      const atTreesReady: Array<{ status: string; verification: string }> = [];
      const opts: OpenOptions = {
        // hashing starts once the trees are read, so the state at trees-ready is known
        verifyAfterTrees: true,
        onProgress: (e) => {
          if (e.type === 'trees-ready') atTreesReady.push(...e.archive.images[0]!.layers.map((l) => ({ status: l.status, verification: l.verification })));
        },
      };
      const img = await openImage(p, opts);
      await img.treesReady;
      assert.deepEqual(atTreesReady.map((l) => l.status), ['read', 'read', 'read']);
      assert.deepEqual(atTreesReady.map((l) => l.verification), ['pending', 'pending', 'pending']);
      // the corrupted layer's tree is there while it is being verified
      assert.equal(img.stat(0, 1, 'merged', 'usr/share/blob')!.size, MARK.length + 3 * 1024 * 1024);
      const result = await img.verified;
      assert.equal(result.state, 'mismatch');
      assert.equal(result.problems.length, 1);
      assert.equal(result.problems[0]!.layer, 1);
      assert.match(result.problems[0]!.message, /^layer 1 \(sha256:[0-9a-f]{12}\): diffId mismatch: the config says sha256:[0-9a-f]{64}, the uncompressed tar hashes to sha256:[0-9a-f]{64}$/);
      await img.done;
      const layers = img.info.images[0]!.layers;
      assert.deepEqual(layers.map((l) => l.verification), ['verified', 'mismatch', 'verified']);
      assert.equal(layers[1]!.status, 'failed');
      assert.match(layers[1]!.error ?? '', /diffId mismatch/);
      assert.equal(img.info.verification, 'mismatch');
      assert.equal(img.stat(0, 2, 'merged', 'usr/share/small')!.size, 1, 'the tree stays queryable');
      await img.close();
    });

    it('in parallel (the default) the outcome is the same', async () => {
      setMode();
      const p = tmp.write(`bad-par-${label}.tar`, corrupted(dockerSaveLegacy([spec()])));
      const img = await openImage(p);
      await img.done;
      assert.deepEqual(img.info.images[0]!.layers.map((l) => l.verification), ['verified', 'mismatch', 'verified']);
      assert.equal((await img.verified).problems[0]!.layer, 1);
      await img.close();
    });

    it('a layer that cannot be hashed (the file is gone once the trees are read): error, not mismatch, trees kept', async () => {
      setMode();
      const p = tmp.write(`gone-${label}.tar`, dockerSaveLegacy([spec()]));
      const img = await openImage(p, {
        verifyAfterTrees: true,
        // emitted just before hashing starts: the open archive handle keeps the trees readable
        onProgress: (e) => { if (e.type === 'trees-ready') unlinkSync(p); },
      });
      const result = await img.verified;
      await img.done;
      assert.equal(result.state, 'error');
      assert.deepEqual(result.problems.map((x) => [x.layer, x.state]), [[0, 'error'], [1, 'error'], [2, 'error']]);
      assert.match(result.problems[0]!.message, /^layer 0 \(sha256:[0-9a-f]{12}\): could not hash the layer \(/);
      assert.equal(img.info.verification, 'error');
      assert.deepEqual(img.info.images[0]!.layers.map((l) => [l.status, l.verification]), [['failed', 'error'], ['failed', 'error'], ['failed', 'error']]);
      assert.equal(img.stat(0, 2, 'merged', 'app/main')!.size, 5000, 'the trees stay queryable');
      await img.close();
    });

    it('--no-verify skips: every layer skipped, the corrupted layer reads fine', async () => {
      setMode();
      const p = tmp.write(`bad-nv-${label}.tar`, corrupted(dockerSaveLegacy([spec()])));
      const img = await openImage(p, { verify: false });
      assert.equal(img.info.verification, 'skipped');
      await img.done;
      assert.deepEqual(await img.verified, { state: 'skipped', problems: [] });
      assert.deepEqual(img.info.images[0]!.layers.map((l) => [l.status, l.verification]), [['read', 'skipped'], ['read', 'skipped'], ['read', 'skipped']]);
      await img.close();
    });

    it('a streamed (gzip) layer with a tampered blob: mismatch on that layer only', async () => {
      setMode();
      const s = spec();
      const good = ociArchive([s], { compression: 'gzip' });
      // change the gzip header's mtime of layer 2's blob: it still decompresses to the same tar, but the
      // descriptor's digest no longer holds
      const bad = Buffer.from(good);
      const at = bad.indexOf(gzipSync(s.layers[2]!));
      assert.ok(at > 0, 'layer 2 blob found');
      bad[at + 4]! ^= 1;
      const img = await openImage(tmp.write(`oci-bad-${label}.tar`, bad));
      const result = await img.verified;
      await img.done;
      assert.equal(result.state, 'mismatch');
      assert.deepEqual(result.problems.map((x) => x.layer), [2]);
      assert.match(result.problems[0]!.message, /^layer 2 \(sha256:[0-9a-f]{12}\): blob digest mismatch/);
      assert.deepEqual(img.info.images[0]!.layers.map((l) => l.verification), ['verified', 'verified', 'mismatch']);
      await img.close();
    });
  });
}
