/**
 * zstd layers through a `zstd -dc` process read by a worker thread from a FIFO (zstdFileRange.ts, the default for
 * zstd on runtimes without zlib zstd): the function itself against the real zstd binary (whole files, byte ranges
 * of a bigger file through dd, concatenated frames, corrupt data, a consumer that stops, cancellation, nothing left
 * in the temp dir), and the image reader on real skopeo-written zstd archives and layouts with dist/imageWorker.js:
 * the same trees as the stream path and the uncompressed original, digest mismatches, corrupt data, limits.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { zstdFileRange, ZstdPipeUnavailable, type ZstdFileRange } from '../../../server/src/image/zstdFileRange';
import { DIST } from '../../support/paths';
import { comparableTrees, compress, dockerSaveLegacy, makeTar, ociFiles, sha256, tarOf, tempDir, zstdCompress, type ImageSpec } from './imageFixtures';

const WORKER = path.join(DIST, 'imageWorker.js');

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** Text-like data that compresses ~3:1 and has no period a decoder bug could hide behind. */
function sample(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = 97 + ((x >>> 16) % 20);
  }
  return b;
}

async function collect(o: Omit<ZstdFileRange, 'onChunk' | 'cancelled' | 'zstd'> & Partial<ZstdFileRange>): Promise<{ out: Buffer; total: number; chunks: number[]; buffers: number }> {
  const parts: Buffer[] = [];
  const chunks: number[] = [];
  let buffers = 0;
  const total = await zstdFileRange({
    zstd: 'zstd', cancelled: () => false,
    onChunk: (c) => {
      parts.push(Buffer.from(c)); // the view is reused after the call
      chunks.push(c.length);
      if (Buffer.isBuffer(c)) buffers++;
    },
    ...o,
  });
  return { out: Buffer.concat(parts), total, chunks, buffers };
}

describe('zstdFileRange: zstd -dc output read from a FIFO', () => {
  const tmp = tempDir('strata-zstd-range-');
  // the FIFOs' private dirs are made under os.tmpdir(): a dir of our own, so the test can see they are gone
  const fifoRoot = path.join(tmp.dir, 'tmp');
  const savedTmp = process.env.TMPDIR;
  const original = sample(5_000_000, 1);
  const blob = zstdCompress(original);
  before(() => {
    mkdirSync(fifoRoot);
    process.env.TMPDIR = fifoRoot;
  });
  after(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    tmp.cleanup();
  });
  const leftovers = () => readdirSync(fifoRoot);

  it('decodes a whole file (zstd reads it itself) in chunks of at most 2 MiB', async () => {
    const file = tmp.write('whole.zst', blob);
    const r = await collect({ file, offset: 0, size: blob.length });
    assert.equal(r.total, original.length);
    assert.ok(r.out.equals(original), 'same bytes as the input of zstd');
    assert.ok(r.chunks.every((n) => n > 0 && n <= 2 * 1024 * 1024), `chunk sizes ${r.chunks.slice(0, 5).join()}`);
    // the memory is reused: a Buffer would make the tar parser's slice() of a name a view instead of a copy
    assert.equal(r.buffers, 0, 'chunks are plain Uint8Arrays');
    assert.deepEqual(leftovers(), []);
  });

  it('decodes a byte range of a bigger file (dd reads the range), including concatenated frames', async () => {
    const second = sample(300_000, 2);
    const frames = Buffer.concat([blob, zstdCompress(second)]);
    const file = tmp.write('range.bin', Buffer.concat([randomBytes(12_345), frames, randomBytes(777)]));
    const r = await collect({ file, offset: 12_345, size: frames.length });
    assert.ok(r.out.equals(Buffer.concat([original, second])), `got ${r.total} bytes`);
    assert.deepEqual(leftovers(), []);
  });

  it('reports corrupt data with zstd\'s message', async () => {
    const bad = Buffer.from(blob);
    bad.fill(0x55, 100, 400);
    const file = tmp.write('bad.bin', Buffer.concat([Buffer.alloc(512), bad]));
    await assert.rejects(collect({ file, offset: 512, size: bad.length }), (e: Error) => {
      assert.ok(e.message.length > 0 && !/^zstd exited/.test(e.message), `zstd's own message: ${e.message}`);
      return true;
    });
    await assert.rejects(collect({ file, offset: 512, size: 100 }), /./, 'a truncated blob fails too');
    assert.deepEqual(leftovers(), []);
  });

  it('stops when the consumer throws or the job is cancelled, without waiting for the rest', async () => {
    const file = tmp.write('stop.zst', blob);
    let calls = 0;
    await assert.rejects(zstdFileRange({
      zstd: 'zstd', file, offset: 0, size: blob.length, cancelled: () => false,
      onChunk: () => {
        if (++calls === 1) throw new Error('limit passed');
      },
    }), /limit passed/);
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(zstdFileRange({
      zstd: 'zstd', file, offset: 0, size: blob.length, cancelled: () => calls > 0,
      onChunk: () => void calls++,
    }), /cancelled/);
    assert.equal(calls, 1);
    assert.deepEqual(leftovers(), []);
  });

  it('throws ZstdPipeUnavailable, before any output and leaving nothing behind, when no FIFO can be made', async () => {
    const file = tmp.write('nofifo.zst', blob);
    const bin = path.join(tmp.dir, 'failing-mkfifo');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'mkfifo'), '#!/bin/sh\nexit 1\n');
    chmodSync(path.join(bin, 'mkfifo'), 0o755);
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    let calls = 0;
    try {
      await assert.rejects(zstdFileRange({
        zstd: 'zstd', file, offset: 0, size: blob.length, cancelled: () => false, onChunk: () => void calls++,
      }), (e: Error) => e instanceof ZstdPipeUnavailable && /mkfifo failed/.test(e.message));
    } finally {
      process.env.PATH = savedPath;
    }
    assert.equal(calls, 0);
    assert.deepEqual(leftovers(), []);
  });
});

const spec: ImageSpec = {
  tags: ['pipe:1'],
  layers: [
    makeTar([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/os-release', content: 'ID=debian\n' },
      { name: 'usr/bin/tool', content: sample(3_000_000, 3), mode: 0o755 },
      { name: `deep/${'d'.repeat(120)}/file`, content: 'long name' },
      ...Array.from({ length: 3000 }, (_, i) => ({ name: `many/f${i}`, content: `file ${i}` })),
    ]),
    makeTar([
      { name: 'etc/os-release', content: 'ID=debian\nVERSION=12\n' },
      { name: 'usr/share/.wh..wh..opq' },
      { name: 'many/.wh.f7' },
      { name: 'app/data.bin', content: sample(2_500_000, 4) },
      { name: 'app/hard', type: 'hardlink', link: 'usr/bin/tool' },
    ]),
  ],
  createdBy: ['ADD rootfs', 'RUN app'],
};

describe('image reader: zstd layers through zstd -dc on a worker thread', () => {
  const tmp = tempDir('strata-zstd-pipe-');
  const log = path.join(tmp.dir, 'zstd-stdin.log');
  const noFifo = path.join(tmp.dir, 'no-fifo');
  const saved = { ...process.env };
  let openImage: typeof import('../../../server/src/image/imageReader').openImage;
  let original: string;
  let archive: string;
  let layout: string;
  before(async () => {
    assert.ok(existsSync(WORKER), `${WORKER} is built by scripts/build.mjs`);
    // a `zstd` first on PATH that records what its stdin is, then runs the real one: proves which path ran
    const bin = path.join(tmp.dir, 'bin');
    mkdirSync(bin);
    const real = spawnSync('sh', ['-c', 'command -v zstd'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(path.join(bin, 'zstd'), `#!/bin/sh\nreadlink /proc/$$/fd/0 >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(path.join(bin, 'zstd'), 0o755);
    // a `mkfifo` that fails while the marker exists (read at run time: the workers copied PATH when they started)
    const realMkfifo = spawnSync('sh', ['-c', 'command -v mkfifo'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(path.join(bin, 'mkfifo'), `#!/bin/sh\n[ -e '${noFifo}' ] && exit 1\nexec '${realMkfifo}' "$@"\n`);
    chmodSync(path.join(bin, 'mkfifo'), 0o755);
    Object.assign(process.env, { PATH: `${bin}:${process.env.PATH}`, STRATA_IMAGE_WORKER: WORKER, STRATA_ZSTD: 'zstd' });
    ({ openImage } = await import('../../../server/src/image/imageReader'));
    original = tmp.write('original.tar', dockerSaveLegacy([spec]));
    archive = path.join(tmp.dir, 'skopeo.oci.tar');
    run('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'zstd', `docker-archive:${original}`, `oci-archive:${archive}:pipe`]);
    layout = path.join(tmp.dir, 'skopeo-layout');
    run('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'zstd', `docker-archive:${original}`, `oci:${layout}:pipe`]);
  });
  after(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    tmp.cleanup();
  });

  const trees = (file: string, env: Record<string, string> = {}) => comparableTrees(openImage, file, env);

  // (`zstd --version`, the one-time probe for the binary, runs with stdin on /dev/null)
  const stdinKinds = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter((k) => k && k !== '/dev/null') : []);

  it('gives the trees of the uncompressed original and of the stream path, for an OCI archive and a layout', async () => {
    const reference = await trees(original);
    writeFileSync(log, '');
    const viaArchive = await trees(archive);
    // archive members are fed by dd through a FIFO; a layout's blob file is zstd's stdin itself
    assert.deepEqual(stdinKinds().map((k) => (k.includes('strata-zstd-') ? 'fifo' : k)), ['fifo', 'fifo'], 'the worker path ran for both layers');
    assert.deepEqual(viaArchive, reference);
    writeFileSync(log, '');
    const viaLayout = await trees(layout);
    assert.ok(stdinKinds().length === 2 && stdinKinds().every((k) => k.startsWith(path.join(layout, 'blobs/sha256/'))), stdinKinds().join());
    assert.deepEqual(viaLayout, reference);
    writeFileSync(log, '');
    assert.deepEqual(await trees(archive, { STRATA_ZSTD_PIPE: '0' }), reference);
    assert.ok(stdinKinds().every((k) => k.startsWith('socket:') || k.startsWith('pipe:')), `stream path feeds stdin itself: ${stdinKinds().join()}`);
  });

  it('falls back to the stream path when the worker cannot build the FIFO pipeline (no mkfifo)', async () => {
    const reference = await trees(original);
    writeFileSync(noFifo, '');
    try {
      writeFileSync(log, '');
      assert.deepEqual(await trees(archive), reference);
      assert.ok(stdinKinds().length === 2 && stdinKinds().every((k) => k.startsWith('socket:') || k.startsWith('pipe:')), `stream path: ${stdinKinds().join()}`);
    } finally {
      rmSync(noFifo);
    }
  });

  const layer = spec.layers[0]!;
  const blobName = `blobs/sha256/${sha256(compress(layer, 'zstd')).slice(7)}`;

  it('finds a blob digest mismatch and a diffId mismatch', async () => {
    const files = ociFiles([{ tags: ['p:1'], layers: [layer] }], { compression: 'zstd' });
    files[blobName] = compress(makeTar([{ name: 'evil', content: 'x' }]), 'zstd');
    let img = await openImage(tmp.write('mismatch.tar', tarOf(files)));
    await img.treesReady;
    assert.equal(img.listDirectory(0, 0, 'layer', '').entries.map((e) => e.name).join(), 'evil', 'the tree is read before verification settles');
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /blob digest mismatch/);
    assert.equal(img.info.images[0]!.layers[0]!.verification, 'mismatch');
    await img.close();
    img = await openImage(tmp.write('diffid.tar', tarOf(ociFiles([{ tags: ['p:1'], layers: [layer], diffIds: [sha256(Buffer.from('x'))] }], { compression: 'zstd' }))));
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /diffId mismatch: the config says sha256:/);
    await img.close();
  });

  it('reports corrupt zstd data, a blob that is not a tar, the expansion limit and the entry limit as layer errors', async () => {
    const files = ociFiles([{ tags: ['p:1'], layers: [layer] }], { compression: 'zstd' });
    const bad = Buffer.from(files[blobName] as Uint8Array);
    bad.fill(0x55, 200, 600);
    files[blobName] = bad;
    let img = await openImage(tmp.write('corrupt.tar', tarOf(files)), { verify: false });
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /corrupt zstd data/);
    await img.close();
    files[blobName] = compress(sample(100_000, 5), 'zstd');
    img = await openImage(tmp.write('not-tar.tar', tarOf(files)), { verify: false });
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /not a tar archive/);
    await img.close();
    const good = tmp.write('good.tar', tarOf(ociFiles([{ tags: ['p:1'], layers: [layer] }], { compression: 'zstd' })));
    img = await openImage(good, { limits: { maxExpandedBytes: 1_000_000 } });
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /expands past the 1000000-byte limit/);
    await img.close();
    img = await openImage(good, { limits: { maxEntries: 1000 } });
    await img.done;
    assert.match(img.info.images[0]!.layers[0]!.error ?? '', /more than 1000 entries/);
    await img.close();
    // the workers are free again: a normal open still works after the stopped jobs
    img = await openImage(good);
    await img.done;
    assert.equal(img.info.images[0]!.layers[0]!.entryCount, 3004);
    await img.close();
  });

  it('closing the image mid-read cancels the worker jobs', async () => {
    const img = await openImage(archive);
    await img.close();
    await Promise.race([img.done.catch(() => undefined), new Promise((_, rej) => setTimeout(() => rej(new Error('open did not settle after close')), 10_000))]);
    const again = await openImage(archive);
    await again.done;
    assert.ok(again.info.images[0]!.layers.every((l) => l.status === 'read'));
    await again.close();
  });
});
