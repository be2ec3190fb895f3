import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CORPUS, DIST } from '../support/paths';
import { dockerSaveLegacy, makeTar, ociArchive, sha256, tempDir } from '../server/image/imageFixtures';

function strata(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), ...args], { encoding: 'utf8', cwd, env: { ...process.env, STRATA_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const DIVE = path.join(CORPUS, 'images/wagoodman__dive/.data__test-docker-image.tar');
const tmp = tempDir('strata-cli-inspect-');
after(() => tmp.cleanup());

describe('strata inspect', () => {
  it('--json has the contract\'s shape: format, images, layers with changes, wastedBytes, efficiency', () => {
    const r = strata(['inspect', DIVE, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.format, 'docker-archive');
    assert.equal(j.images.length, 1);
    const im = j.images[0];
    assert.equal(im.ref, 'dive-test:latest');
    assert.equal(im.platform, 'linux/amd64');
    assert.match(im.configDigest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(im.layers.length, 14);
    for (const [i, l] of im.layers.entries()) {
      assert.equal(l.index, i);
      assert.match(l.digest, /^sha256:/);
      assert.match(l.diffId, /^sha256:/);
      assert.equal(l.compression, 'none');
      assert.equal(typeof l.size, 'number');
      assert.equal(typeof l.createdBy, 'string');
      for (const c of l.changes) {
        assert.deepEqual(Object.keys(c), ['path', 'kind', 'type', 'size']);
        assert.ok(!c.path.startsWith('/') && !c.path.startsWith('./') && !c.path.endsWith('/'), c.path);
        assert.ok(['added', 'modified', 'deleted', 'opaque'].includes(c.kind));
        assert.ok(['file', 'dir', 'symlink', 'hardlink', 'other'].includes(c.type));
      }
    }
    assert.deepEqual(im.layers[9].changes, [{ path: 'root', kind: 'modified', type: 'dir', size: 0 }, { path: 'root/example', kind: 'deleted', type: 'dir', size: 12810 }]);
    assert.equal(im.wastedBytes, 32025);
    assert.equal(im.efficiency, 0.9845016950136836);
  });

  it('--summary omits changes', () => {
    const r = strata(['inspect', DIVE, '--json', '--summary']);
    assert.equal(r.code, 0);
    const j = JSON.parse(r.stdout);
    assert.ok(j.images[0].layers.every((l: object) => !('changes' in l)));
    assert.equal(j.images[0].wastedBytes, 32025);
  });

  it('human output: layer table, summary, top wasted', () => {
    const r = strata(['inspect', DIVE]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /image dive-test:latest {2}linux\/amd64/);
    assert.match(r.stdout, /\n +9 +2\.0 kB +0 B +none +RUN rm -rf \/root\/example\//);
    assert.match(r.stdout, /wasted 32\.0 kB/);
    assert.match(r.stdout, /12\.8 kB {2}root\/example\/somefile1\.txt {2}\(written by layer 3, 4; deleted by layer 9\)/);
  });

  it('--ci: dive\'s defaults fail this image (exit 1), thresholds from flags and .dive-ci pass it', () => {
    const fail = strata(['inspect', DIVE, '--ci']);
    assert.equal(fail.code, 1);
    assert.match(fail.stdout, /FAIL {2}highestUserWastedPercent: 48\.35% is above 10\.00%/);
    assert.match(fail.stdout, /CI: FAIL/);
    const pass = strata(['inspect', DIVE, '--ci', '--highest-user-wasted-percent', '0.5', '--highest-wasted-bytes', '40KB']);
    assert.equal(pass.code, 0, pass.stdout);
    const bytes = strata(['inspect', DIVE, '--ci', '--highest-user-wasted-percent', 'disabled', '--highest-wasted-bytes', '20kB']);
    assert.equal(bytes.code, 1);
    assert.match(bytes.stdout, /FAIL {2}highestWastedBytes: 32025 bytes is above 20000 bytes/);
    const dir = tmp.dir;
    writeFileSync(path.join(dir, '.dive-ci'), 'rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: disabled\n  highestUserWastedPercent: 0.60\n');
    const file = strata(['inspect', DIVE, '--ci', '--json'], dir);
    assert.equal(file.code, 0, file.stdout);
    const ci = JSON.parse(file.stdout).images[0].ci;
    assert.equal(ci.passed, true);
    assert.deepEqual(ci.rules.map((x: { rule: string; status: string }) => `${x.rule}:${x.status}`), ['lowestEfficiency:pass', 'highestWastedBytes:skip', 'highestUserWastedPercent:pass']);
    const strict = strata(['inspect', DIVE, '--ci', '--lowest-efficiency', '0.99'], dir);
    assert.equal(strict.code, 1);
  });

  it('exit 2 with one `strata: …` line for bad input', () => {
    const cases: [string[], RegExp][] = [
      [['inspect'], /^strata: inspect: needs an image archive or OCI layout/],
      [['inspect', path.join(tmp.dir, 'nope.tar')], /^strata: .*nope\.tar: no such file or directory\n$/],
      [['inspect', tmp.write('text.tar', Buffer.from('x'.repeat(2000)))], /^strata: .*text\.tar: not a tar archive \(bad header checksum\)\n$/],
      [['inspect', DIVE, '--ci', '--lowest-efficiency', 'high'], /^strata: --lowest-efficiency: not a valid value: 'high'\n$/],
      [['inspect', DIVE, '--max-bytes', '-1'], /^strata: --max-bytes: expected a positive size/],
    ];
    for (const [args, re] of cases) {
      const r = strata(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('a digest mismatch is an error naming the layer (exit 2); --no-verify reads it', () => {
    const layer = makeTar([{ name: 'f', content: 'x' }]);
    const p = tmp.write('bad-diffid.tar', dockerSaveLegacy([{ tags: ['bad:1'], layers: [layer], diffIds: [sha256(Buffer.from('other'))] }]));
    const r = strata(['inspect', p, '--json']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^strata: .*bad-diffid\.tar: layer 0 \(sha256:[0-9a-f]{12}\): diffId mismatch: the config says sha256:/m);
    assert.equal(r.stdout, '');
    const nv = strata(['inspect', p, '--json', '--no-verify']);
    assert.equal(nv.code, 0, nv.stderr);
    assert.deepEqual(JSON.parse(nv.stdout).images[0].layers[0].changes, [{ path: 'f', kind: 'added', type: 'file', size: 1 }]);
  });

  it('waits for verification (hashed on worker threads) before printing: one corrupted byte in a middle layer is exit 2 naming it', () => {
    const mark = 'CORRUPT-ME-';
    const layers = [
      makeTar([{ name: 'etc/os', content: 'debian' }]),
      makeTar([{ name: 'usr/blob', content: mark + 'z'.repeat(2 * 1024 * 1024) }]),
      makeTar([{ name: 'app/main', content: 'm'.repeat(3000) }]),
    ];
    const good = dockerSaveLegacy([{ tags: ['corrupt:1'], layers }]);
    const bad = Buffer.from(good);
    bad[good.indexOf(mark)] = 'c'.charCodeAt(0); // the tar still parses; only the diffId no longer holds
    const p = tmp.write('corrupt-byte.tar', bad);
    for (const args of [['--json'], []]) {
      const r = strata(['inspect', p, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^strata: .*corrupt-byte\.tar: layer 1 \(sha256:[0-9a-f]{12}\): diffId mismatch: the config says sha256:[0-9a-f]{64}, the uncompressed tar hashes to sha256:[0-9a-f]{64}$/m);
      assert.equal(r.stdout, '', 'nothing printed for an unverified image');
    }
    const ok = strata(['inspect', tmp.write('good-3.tar', good), '--json', '--summary']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).images[0].layers.length, 3);
    const nv = strata(['inspect', p, '--json', '--no-verify']);
    assert.equal(nv.code, 0, nv.stderr);
    assert.deepEqual(JSON.parse(nv.stdout).images[0].layers[1].changes.map((c: { path: string }) => c.path), ['usr/blob']);
  });

  it('--platform picks an image from a multi-platform index; an unknown one is a usage error', () => {
    const base = makeTar([{ name: 'base', content: 'b' }]);
    const p = tmp.write('mp.tar', ociArchive([
      { tags: ['mp:1'], layers: [base, makeTar([{ name: 'amd', content: '1' }])], platform: { os: 'linux', architecture: 'amd64' } },
      { tags: ['mp:1'], layers: [base, makeTar([{ name: 'arm', content: '22' }])], platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    ], { multiPlatform: true, compression: 'zstd' }));
    const r = strata(['inspect', p, '--json', '--platform', 'linux/arm/v7']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.format, 'oci-archive');
    assert.equal(j.images[0].platform, 'linux/arm/v7');
    assert.equal(j.images[0].layers[1].compression, 'zstd');
    assert.deepEqual(j.images[0].layers[1].changes, [{ path: 'arm', kind: 'added', type: 'file', size: 2 }]);
    assert.deepEqual(j.platforms.map((x: { platform: string; selected: boolean }) => `${x.platform}${x.selected ? '*' : ''}`), ['linux/amd64', 'linux/arm/v7*']);
    const bad = strata(['inspect', p, '--platform', 'linux/s390x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no image for platform linux\/s390x \(available: linux\/amd64, linux\/arm\/v7\)/);
  });

  it('an OCI layout directory from the corpus', () => {
    const r = strata(['inspect', path.join(CORPUS, 'images/aquasecurity__trivy/pkg__fanal__test__testdata__test_image_tag.oci'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.format, 'oci-layout');
    assert.equal(j.images[0].layers[0].compression, 'gzip');
  });

  it('per-layer warnings go to stderr without failing', () => {
    const p = tmp.write('warn.tar', dockerSaveLegacy([{ tags: ['w:1'], layers: [makeTar([{ name: '../escape', content: 'x' }, { name: 'ok', content: 'y' }])] }]));
    const r = strata(['inspect', p, '--json']);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /strata: warning: .*warn\.tar: layer 0: \.\.\/escape: path escapes the image root/);
    assert.deepEqual(JSON.parse(r.stdout).images[0].layers[0].changes.map((c: { path: string }) => c.path), ['ok']);
  });
});
