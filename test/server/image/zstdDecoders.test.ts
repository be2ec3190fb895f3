/**
 * Every zstd decoder gives the same trees: Node's built-in zlib zstd (when the runtime has it — else through a
 * Node ≥ 22.15 binary running dist/cli.js, when one is installed), the `zstd -dc` process and pure-JS fzstd, on a
 * real `skopeo copy --dest-compress-format zstd` archive (made here from a docker-save built in code) and on a
 * layout `umoci` wrote — compared with the uncompressed original.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { openImage } from '../../../server/src/image/imageReader';
import { builtinZstd, zstdDecoder } from '../../../server/src/image/layerReader';
import { DIST } from '../../support/paths';
import { comparableTrees, dockerSaveLegacy, makeTar, nodeWithZlibZstd, tempDir, type ImageSpec } from './imageFixtures';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const spec: ImageSpec = {
  tags: ['zstd:1'],
  layers: [
    makeTar([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/os-release', content: 'ID=debian\n' },
      { name: 'usr/bin/tool', content: Buffer.alloc(300_000, 7), mode: 0o755 },
      { name: 'usr/lib/libx.so', content: 'x'.repeat(70_000) },
      { name: 'usr/lib/liby.so', type: 'symlink', link: 'libx.so' },
      { name: `deep/${'d'.repeat(120)}/file`, content: 'long name' },
    ]),
    makeTar([
      { name: 'etc/os-release', content: 'ID=debian\nVERSION=12\n' },
      { name: 'usr/lib/.wh.libx.so' },
      { name: 'usr/share/.wh..wh..opq' },
      { name: 'app/data.bin', content: Buffer.from(Array.from({ length: 2_000_000 }, (_, i) => (i * 7919) % 251)) },
      { name: 'app/hard', type: 'hardlink', link: 'usr/bin/tool' },
    ]),
  ],
  createdBy: ['ADD rootfs', 'RUN app'],
};

const trees = (file: string, env: Record<string, string>) => comparableTrees(openImage, file, env);

describe('zstd decoders give identical trees', () => {
  const tmp = tempDir();
  let original: string;
  let skopeoZstd: string;
  let reference: unknown;
  before(async () => {
    original = tmp.write('original.tar', dockerSaveLegacy([spec]));
    skopeoZstd = path.join(tmp.dir, 'skopeo-zstd.oci.tar');
    run('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'zstd', `docker-archive:${original}`, `oci-archive:${skopeoZstd}:zstd`]);
    reference = await trees(original, {});
  });
  after(() => tmp.cleanup());

  it('skopeo wrote zstd layers', async () => {
    const img = await openImage(skopeoZstd, { metadataOnly: true });
    assert.ok(img.info.images[0]!.layers.every((l) => l.compression === 'zstd' && /zstd/.test(l.mediaType)), img.info.images[0]!.layers.map((l) => l.mediaType).join());
    await img.close();
  });

  for (const decoder of ['zstd', 'fzstd', 'builtin'] as const) {
    const skip = decoder === 'builtin' && !builtinZstd({}) ? `this runtime (node ${process.version}) has no zlib zstd (covered below through a newer node binary)` : false;
    it(`${decoder}: same trees and sizes as the uncompressed original`, { skip }, async () => {
      assert.equal(zstdDecoder({ STRATA_ZSTD: decoder }), decoder, `${decoder} is the decoder used`);
      const got = (await trees(skopeoZstd, { STRATA_ZSTD: decoder })) as { layers: Array<{ uncompressed: number }> };
      assert.deepEqual(got, reference);
    });
  }

  const node = builtinZstd({}) ? null : nodeWithZlibZstd();
  it('built-in zlib zstd under a Node ≥ 22.15 binary (dist/cli.js): same JSON as the zstd process here', { skip: builtinZstd({}) ? 'the runtime itself has zlib zstd (tested above)' : node ? false : 'no Node ≥ 22.15 binary on this machine' }, () => {
    const cli = path.join(DIST, 'cli.js');
    const viaBuiltin = run(node!, [cli, 'inspect', skopeoZstd, '--json'], { STRATA_ZSTD: 'builtin', STRATA_DEBUG: '' });
    const viaProcess = run(process.execPath, [cli, 'inspect', skopeoZstd, '--json'], { STRATA_ZSTD: 'zstd', STRATA_DEBUG: '' });
    assert.equal(viaBuiltin, viaProcess);
    assert.equal(JSON.parse(viaBuiltin).images[0].layers[1].compression, 'zstd');
  });

  it('a layout umoci wrote (gzip; umoci 0.4 cannot write zstd) recompressed to zstd by skopeo: same trees', async () => {
    const layout = path.join(tmp.dir, 'umoci');
    run('umoci', ['init', '--layout', layout]);
    run('umoci', ['new', '--image', `${layout}:base`]);
    const bundle = path.join(tmp.dir, 'bundle');
    run('umoci', ['unpack', '--rootless', '--image', `${layout}:base`, bundle]);
    run('sh', ['-c', `mkdir -p '${bundle}/rootfs/srv' && printf hello > '${bundle}/rootfs/srv/hello' && head -c 500000 /dev/zero > '${bundle}/rootfs/srv/zeros'`]);
    run('umoci', ['repack', '--image', `${layout}:base`, bundle]);
    const zst = path.join(tmp.dir, 'umoci-zstd');
    run('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'zstd', `oci:${layout}:base`, `oci:${zst}:base`]);
    const results = [];
    for (const decoder of ['zstd', 'fzstd', ...(builtinZstd({}) ? ['builtin'] : [])]) results.push(await trees(zst, { STRATA_ZSTD: decoder }));
    const first = results[0] as { layers: Array<{ changes: Array<{ path: string }> }> };
    assert.ok(first.layers.some((l) => l.changes.some((c) => c.path === 'srv/hello')), 'umoci layer read');
    for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
  });
});
