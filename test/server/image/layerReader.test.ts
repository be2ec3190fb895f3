/**
 * Uncompressed layers in a plain file are indexed by seeking over file contents (LayerSeeker in layerReader.ts);
 * every other source streams the whole tar through the same parser (STRATA_IMAGE_SEEK=0 forces that). Both must
 * give the same trees, and the same errors with the same partial trees, on layers written by real GNU tar in each
 * of its formats, with contents sized around the read windows (16 KiB after a seek, growing to 64 KiB).
 * Also: the JIT warm-up archive (warmUpTreeRead) must stay a valid archive that takes every branch it names.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, linkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openImage } from '../../../server/src/image/imageReader';
import { DEFAULT_LIMITS } from '../../../server/src/image/imageModel';
import { F_OPAQUE, F_WHITEOUT, ImageTree } from '../../../server/src/image/imageTree';
import { warmUpTreeRead } from '../../../server/src/image/layerReader';
import { comparableTrees, dockerSaveLegacy, tempDir, withEnv } from './imageFixtures';

const tmp = tempDir('strata-seek-test-');
after(() => tmp.cleanup());

/** A layer tar made by GNU tar from a directory of files sized around the read windows. */
function realLayer(name: string, format: string, seed: number): Buffer {
  const root = path.join(tmp.dir, `${name}-root`);
  const sizes = [0, 1, 511, 512, 513, 4096, 16 * 1024 - 1, 16 * 1024 + 1, 64 * 1024, 200_000];
  // deep directories: names over 100 bytes (ustar prefix, GNU long names or PAX paths, by format); ustar's
  // prefix holds at most 155 bytes
  for (let d = 0; d < (format === 'ustar' ? 5 : 6); d++) {
    const dir = path.join(root, `dir${d}`, 'sub'.repeat(d * 8 + 1), `leaf${seed}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(path.join(dir, `f${i}.txt`), Buffer.alloc(sizes[(i + d + seed) % sizes.length]!, 0x61 + (i % 26)));
    symlinkSync(`f0.txt`, path.join(dir, 'link'));
    if (d < 3) linkSync(path.join(dir, 'f1.txt'), path.join(dir, 'hard')); // ustar: link names of at most 100 bytes
  }
  mkdirSync(path.join(root, 'gone'), { recursive: true });
  writeFileSync(path.join(root, 'gone', '.wh.old'), '');
  const out = path.join(tmp.dir, `${name}.tar`);
  const r = spawnSync('tar', ['-C', root, `--format=${format}`, '--sort=name', '-cf', out, '.']);
  assert.equal(r.status, 0, String(r.stderr));
  return readFileSync(out);
}

function archive(name: string, layers: Buffer[]): string {
  return tmp.write(`${name}.tar`, dockerSaveLegacy([{ tags: [`seek/${name}:1`], layers }]));
}

/** Layer states, errors, entry counts and every layer's changes, read with `env` set. */
function outcome(file: string, env: Record<string, string>): Promise<unknown> {
  return withEnv(env, async () => {
    const img = await openImage(file);
    try {
      await img.done;
      const im = img.info.images[0]!;
      return im.layers.map((l) => ({ status: l.status, error: l.error, warnings: l.warnings, entries: l.entryCount, changes: img.layerChanges(0, l.index).changes }));
    } finally {
      await img.close();
    }
  });
}

describe('layer reading by seeking', () => {
  for (const format of ['gnu', 'ustar', 'pax'] as const) {
    it(`gives the same trees as streaming, on ${format} layers written by GNU tar`, async () => {
      const file = archive(`real-${format}`, [realLayer(`${format}0`, format, 0), realLayer(`${format}1`, format, 1)]);
      const seeking = await comparableTrees(openImage, file);
      const streaming = await comparableTrees(openImage, file, { STRATA_IMAGE_SEEK: '0' });
      assert.deepEqual(seeking, streaming);
      const layers = (seeking as { layers: Array<{ entries: number }> }).layers;
      assert.ok(layers.every((l) => l.entries > 200), JSON.stringify(layers.map((l) => l.entries)));
    });
  }

  it('fails alike on truncated and corrupt layers, keeping the same entries before the damage', async () => {
    const good = realLayer('damage', 'gnu', 2);
    // cut inside a big file's contents, cut inside a header, a header with a bad checksum mid-layer, empty
    const big = good.indexOf(Buffer.alloc(1024, 0x61 + 1)); // contents of a 200 000-byte (or 64 KiB) file
    assert.ok(big > 0);
    const corrupt = Buffer.from(good);
    const hdr = good.indexOf(`./dir1/${'sub'.repeat(9)}/leaf2/f5.txt\0`);
    assert.ok(hdr > 0 && hdr % 512 === 0, `header at ${hdr}`);
    corrupt.fill(0x37, hdr + 100, hdr + 107); // its mode field: the checksum no longer matches
    const damaged: Array<[string, Buffer]> = [
      ['cut-contents', good.subarray(0, big + 5000)],
      ['cut-header', good.subarray(0, 512 * 30 + 100)],
      ['bad-checksum', corrupt],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [name, layer] of damaged) {
      const file = archive(name, [realLayer(`${name}-base`, 'gnu', 3), layer]);
      const seeking = await outcome(file, {});
      const streaming = await outcome(file, { STRATA_IMAGE_SEEK: '0' });
      assert.deepEqual(seeking, streaming, name);
      const layers = seeking as Array<{ status: string; error: string | null }>;
      assert.equal(layers[0]!.status, 'read', name);
      assert.equal(layers[1]!.status, 'failed', name);
      assert.match(layers[1]!.error ?? '', /truncated tar|bad header checksum|empty layer blob/, name);
    }
  });
});

describe('JIT warm-up archive', () => {
  it('is read without errors and takes every branch it is meant to (links, long names, PAX, whiteouts, …)', () => {
    const tree = new ImageTree(3, DEFAULT_LIMITS, 2); // as imageReader makes it: 3 layers, tables that must grow
    warmUpTreeRead(tree);
    const nodes = Array.from({ length: tree.nodeCount }, (_, n) => tree.nodePath(n));
    for (const p of ['w/a', 'w/prefixed/x', 'w/s', 'w/h', 'w/pax/renamed', `w/long/${'n'.repeat(113)}`, 'abs/f', 'w/gone', 'w/o', 'w/c', 'w/f']) {
      assert.ok(nodes.includes(p), `${p} in ${nodes.join(' ')}`);
    }
    assert.ok(nodes.some((p) => p.startsWith('w/caf')), 'the non-UTF-8 name');
    assert.ok(nodes.includes('w/d/f39') && tree.nodeCount > 4 * 2 * 2, 'enough nodes and segments to grow both tables');
    for (let layer = 0; layer < 3; layer++) {
      const flags = Array.from(tree.layerEntries[layer]!.data.subarray(0, tree.layerEntries[layer]!.length), (e) => tree.eFlags.data[e]!);
      assert.ok(flags.some((f) => f & F_WHITEOUT) && flags.some((f) => f & F_OPAQUE), `layer ${layer}: a whiteout and an opaque marker`);
      assert.match(tree.layerWarnings[layer]!.join('\n'), /absolute paths/);
      assert.match(tree.layerWarnings[layer]!.join('\n'), /escapes the image root/);
    }
    assert.deepEqual(tree.links, ['a', 'w/a', 'a', 'w/a', 'a', 'w/a']);
    assert.deepEqual([...tree.xattrs.values()].map((x) => x.map((a) => a.name)), [['user.k'], ['user.k'], ['user.k']]);
  });
});
