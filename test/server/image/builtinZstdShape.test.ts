/**
 * A runtime whose zlib has zstd but not the native handle shape that builtinZstdRange.ts drives synchronously (a
 * future Node that changed those internals): `builtinZstdRangeAvailable()` says no, and the image reader decodes zstd
 * layers through zlib's public stream API on the main thread instead, with the same trees and verification as the
 * uncompressed original. The shape is broken here by hiding `writeSync` on each decoder's native handle (the stream
 * API does not use it). Needs a Node ≥ 22.15: on the CI runtime (Node 20) the file runs itself again under one,
 * as builtinZstdRange.test.ts does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { builtinZstdRangeAvailable, zlibZstdFactory } from '../../../server/src/image/builtinZstdRange';
import { openImage } from '../../../server/src/image/imageReader';
import { zstdWorkerLayers } from '../../../server/src/image/imageWorkerPool';
import { DIST } from '../../support/paths';
import { comparableTrees, dockerSaveLegacy, makeTar, ociFiles, rerunUnderZlibZstd, tarOf, tempDir, type ImageSpec } from './imageFixtures';

const WORKER = path.join(DIST, 'imageWorker.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the real module object, which the reader's namespace reads through
const zlib = require('node:zlib') as Record<string, unknown>;
const real = zlib.createZstdDecompress as ((o?: object) => { _handle: object }) | undefined;

if (typeof real !== 'function') {
  rerunUnderZlibZstd(__filename, 2, { STRATA_IMAGE_WORKER: WORKER });
} else {
  // before anything probes the shape (the probe's answer is kept for the process)
  // (the export is read-only but configurable in Node 24)
  Object.defineProperty(zlib, 'createZstdDecompress', {
    value: (o?: object) => {
      const s = real(o);
      Object.defineProperty(s._handle, 'writeSync', { value: undefined });
      return s;
    },
  });

  describe('built-in zstd without the native shape the synchronous driver needs', () => {
    it('is not used for the synchronous driver, while zlib\'s zstd itself is still there', () => {
      assert.equal(typeof zlibZstdFactory(), 'function');
      assert.equal(builtinZstdRangeAvailable(), false);
    });

    it('the image reader decodes zstd layers as a stream on this thread: same trees, verified, no worker decoding', async () => {
      const tmp = tempDir('strata-zstd-shape-');
      try {
        process.env.STRATA_IMAGE_WORKER = WORKER;
        const spec: ImageSpec = {
          tags: ['shape:1'],
          layers: [
            makeTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/os-release', content: 'ID=debian\n' }, { name: 'bin/tool', content: 'x'.repeat(300_000), mode: 0o755 }]),
            makeTar([{ name: 'etc/os-release', content: 'ID=debian\nVERSION=12\n' }, { name: 'bin/.wh.tool' }, { name: 'app/a', content: 'a' }]),
          ],
          createdBy: ['ADD rootfs', 'RUN app'],
        };
        const original = tmp.write('original.tar', dockerSaveLegacy([spec]));
        const zstd = tmp.write('zstd.oci.tar', tarOf(ociFiles([spec], { compression: 'zstd' })));
        const reference = await comparableTrees(openImage, original, {});
        const before = zstdWorkerLayers.builtin + zstdWorkerLayers.process;
        assert.deepEqual(await comparableTrees(openImage, zstd, { STRATA_ZSTD: 'builtin' }), reference);
        assert.equal(zstdWorkerLayers.builtin + zstdWorkerLayers.process, before, 'no layer went to a worker decoder');
        const img = await openImage(zstd);
        await img.done;
        assert.deepEqual(img.info.images[0]!.layers.map((l) => [l.compression, l.status]), [['zstd', 'read'], ['zstd', 'read']]);
        await img.close();
      } finally {
        tmp.cleanup();
      }
    });
  });
}
