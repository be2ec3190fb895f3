/**
 * Node's built-in zstd driven synchronously on a worker thread (builtinZstdRange.ts, the default for zstd layers in
 * plain files on Node ≥ 22.15): the function against bytes the real `zstd` binary wrote (byte ranges, concatenated
 * frames, output bigger than one chunk, corrupt and truncated blobs, a range past the end of the file, a consumer
 * that stops, cancellation, data that is not zstd), and the image reader through dist/imageWorker.js on real
 * skopeo-written archives: the same trees as the zlib stream path and the uncompressed original, corrupt and
 * truncated layers as per-layer errors, digest mismatches.
 *
 * The CI runtime (Node 20) has no built-in zstd: this file then runs itself again under a Node ≥ 22.15 binary
 * (imageFixtures' rerunUnderZlibZstd: code-server's Node 24 that CI caches) and passes or fails with it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { builtinZstdRange, builtinZstdRangeAvailable, TruncatedBlob, type ZstdRange } from '../../../server/src/image/builtinZstdRange';
import { openImage } from '../../../server/src/image/imageReader';
import { zstdWorkerLayers } from '../../../server/src/image/imageWorkerPool';
import { DIST } from '../../support/paths';
import { comparableTrees, compress, dockerSaveLegacy, makeTar, ociFiles, rerunUnderZlibZstd, sha256, tarOf, tempDir, zstdCompress, type ImageSpec } from './imageFixtures';

const WORKER = path.join(DIST, 'imageWorker.js');
const here = builtinZstdRangeAvailable();

/** Letters from a xorshift generator: compresses to about half (several reads of compressed input), no period. */
function sample(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = 97 + ((x >>> 0) % 20);
  }
  return b;
}

function collect(o: Omit<ZstdRange, 'onChunk' | 'cancelled'> & Partial<ZstdRange>): { out: Buffer; total: number; chunks: number } {
  const parts: Buffer[] = [];
  let chunks = 0;
  const total = builtinZstdRange({
    cancelled: () => false,
    ...o,
    onChunk: (c) => {
      chunks++;
      parts.push(Buffer.from(c)); // the view is reused: copy
      o.onChunk?.(c);
    },
  });
  return { out: Buffer.concat(parts), total, chunks };
}

if (!here) {
  rerunUnderZlibZstd(__filename, 12, { STRATA_IMAGE_WORKER: WORKER });
} else {
  describe('builtinZstdRange: Node\'s zstd driven on this thread', () => {
    const tmp = tempDir('strata-builtin-zstd-');
    after(() => tmp.cleanup());
    const data = sample(3_000_000, 7); // ~12 output chunks of 256 KiB, ~1.7 MB compressed: two reads of 1 MiB
    let z: Buffer;
    before(() => {
      z = zstdCompress(data);
      assert.ok(z.length > 1024 * 1024 && z.length < 2 * 1024 * 1024, `${z.length} compressed bytes: more than one read`);
    });

    it('decodes a whole file, in chunks of bounded size', () => {
      const f = tmp.write('whole.zst', z);
      const r = collect({ file: f, offset: 0, size: z.length });
      assert.equal(r.total, data.length);
      assert.ok(r.out.equals(data));
      assert.ok(r.chunks >= 11, `${r.chunks} chunks`);
    });

    it('decodes a byte range inside a bigger file (an archive member), ignoring the bytes around it', () => {
      const f = tmp.write('range.bin', Buffer.concat([Buffer.from('x'.repeat(1234)), z, Buffer.from('trailing tar bytes')]));
      assert.ok(collect({ file: f, offset: 1234, size: z.length }).out.equals(data));
    });

    it('decodes concatenated frames as one stream (as zstd -dc does)', () => {
      const b = sample(100_000, 3);
      const f = tmp.write('frames.zst', Buffer.concat([z, zstdCompress(b)]));
      assert.ok(collect({ file: f, offset: 0, size: z.length + zstdCompress(b).length }).out.equals(Buffer.concat([data, b])));
    });

    it('corrupt data: zstd\'s own error (checksum or corruption), not a truncation', () => {
      const bad = Buffer.from(z);
      for (let i = 100_000; i < 100_016; i++) bad[i] = bad[i]! ^ 0xff;
      const f = tmp.write('corrupt.zst', bad);
      assert.throws(() => collect({ file: f, offset: 0, size: bad.length }), (e: Error) => !(e instanceof TruncatedBlob) && /checksum|corrupt/i.test(e.message));
    });

    it('a blob cut short inside its frame: "unexpected end of file"', () => {
      const f = tmp.write('cut.zst', z.subarray(0, z.length >> 1));
      assert.throws(() => collect({ file: f, offset: 0, size: z.length >> 1 }), /unexpected end of file/);
    });

    it('a range past the end of the file (archive truncated): TruncatedBlob naming the bytes read', () => {
      const f = tmp.write('short.zst', z.subarray(0, 5000));
      assert.throws(() => collect({ file: f, offset: 0, size: z.length }), (e: Error) => e instanceof TruncatedBlob && /cut short: 5000 of \d+ bytes/.test(e.message));
    });

    it('bytes that are not zstd at all', () => {
      const f = tmp.write('plain.txt', Buffer.from('plain text, not zstd '.repeat(100)));
      assert.throws(() => collect({ file: f, offset: 0, size: 2100 }), /Unknown frame descriptor/);
    });

    it('a consumer that throws stops the decoding with its error', () => {
      const f = tmp.write('stop.zst', z);
      let seen = 0;
      assert.throws(() => collect({ file: f, offset: 0, size: z.length, onChunk: () => {
        if (++seen === 3) throw new Error('enough');
      } }), /enough/);
      assert.equal(seen, 3);
    });

    it('cancellation is polled between reads', () => {
      const f = tmp.write('cancel.zst', z);
      let polls = 0;
      assert.throws(() => collect({ file: f, offset: 0, size: z.length, cancelled: () => ++polls > 1 }), /cancelled/);
    });
  });

  describe('the image reader with built-in zstd on worker threads', () => {
    const tmp = tempDir('strata-builtin-zstd-image-');
    after(() => tmp.cleanup());
    const spec: ImageSpec = {
      tags: ['bz:1'],
      layers: [
        makeTar([
          { name: 'etc/', type: 'dir' },
          { name: 'etc/os-release', content: 'ID=debian\n' },
          { name: 'usr/bin/tool', content: sample(900_000, 1), mode: 0o755 },
          { name: `deep/${'d'.repeat(120)}/file`, content: 'long name' },
        ]),
        makeTar([
          { name: 'etc/os-release', content: 'ID=debian\nVERSION=12\n' },
          { name: 'usr/bin/.wh.tool' },
          { name: 'app/data.bin', content: sample(2_500_000, 2) },
          { name: 'app/hard', type: 'hardlink', link: 'etc/os-release' },
        ]),
      ],
      createdBy: ['ADD rootfs', 'RUN app'],
    };
    let original: string;
    let skopeoZstd: string;
    before(() => {
      assert.ok(existsSync(WORKER), `${WORKER} is built (scripts/test.mjs builds dist/ first)`);
      process.env.STRATA_IMAGE_WORKER = WORKER;
      original = tmp.write('original.tar', dockerSaveLegacy([spec]));
      skopeoZstd = path.join(tmp.dir, 'skopeo-zstd.oci.tar');
      const r = spawnSync('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'zstd', `docker-archive:${original}`, `oci-archive:${skopeoZstd}:zstd`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    });

    it('same trees, sizes and verification as the uncompressed original and as the zlib stream path', async () => {
      const reference = await comparableTrees(openImage, original, {});
      const before = zstdWorkerLayers.builtin;
      const viaWorker = await comparableTrees(openImage, skopeoZstd, { STRATA_ZSTD: 'builtin' });
      assert.equal(zstdWorkerLayers.builtin - before, 2, 'both layers were decoded on worker threads');
      const viaStream = await comparableTrees(openImage, skopeoZstd, { STRATA_ZSTD: 'builtin', STRATA_ZSTD_PIPE: '0' });
      assert.equal(zstdWorkerLayers.builtin - before, 2, 'STRATA_ZSTD_PIPE=0: the stream path, no worker decoding');
      assert.deepEqual(viaWorker, reference);
      assert.deepEqual(viaStream, reference);
      const img = await openImage(skopeoZstd);
      await img.done;
      assert.equal(img.info.verification, 'verified');
      assert.deepEqual(img.info.images[0]!.layers.map((l) => l.compression), ['zstd', 'zstd']);
      await img.close();
    });

    /** An OCI archive whose zstd layer blob is replaced by `tamper(blob)` (descriptor digests left as they were). */
    function tampered(tamper: (b: Buffer) => Buffer): string {
      const layer = spec.layers[1]!;
      const files = ociFiles([{ ...spec, layers: [layer] }], { compression: 'zstd' });
      const name = `blobs/sha256/${sha256(compress(layer, 'zstd')).slice(7)}`;
      assert.ok(files[name], 'the layer blob is in the layout');
      files[name] = tamper(files[name] as Buffer);
      const p = path.join(tmp.dir, `tampered-${Math.random().toString(36).slice(2)}.tar`);
      writeFileSync(p, tarOf(files));
      return p;
    }

    async function layerError(p: string, verify = true): Promise<string> {
      const img = await openImage(p, { verify });
      await img.done;
      const l = img.info.images[0]!.layers[0]!;
      await img.close();
      assert.equal(l.status, 'failed');
      return l.error ?? '';
    }

    it('a corrupt zstd layer: "corrupt zstd data" on that layer, the open itself works', async () => {
      const err = await layerError(tampered((b) => {
        const c = Buffer.from(b);
        for (let i = c.length >> 1; i < (c.length >> 1) + 16; i++) c[i] = c[i]! ^ 0xff;
        return c;
      }), false);
      assert.match(err, /corrupt zstd data/);
    });

    it('a zstd layer cut in half: "corrupt zstd data (unexpected end of file)"', async () => {
      assert.match(await layerError(tampered((b) => b.subarray(0, b.length >> 1)), false), /corrupt zstd data \(unexpected end of file\)/);
    });

    it('a layer whose blob does not match its digest: verification names the layer\'s blob digest', async () => {
      const other = zstdCompress(makeTar([{ name: 'other', content: 'not the layer the config names' }]));
      assert.match(await layerError(tampered(() => other)), /blob digest mismatch|diffId mismatch/);
    });
  });
}
