/**
 * Bad and hostile archives, all built here at test time: each must give a clear `<what>: <why>` error (the CLI
 * prints it as `strata: …`) or a per-layer warning / failed layer — never a crash, a hang or a file written.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { openImage } from '../../../server/src/image/imageReader';
import { ImageReadError } from '../../../server/src/image/imageReadError';
import type { OpenOptions } from '../../../server/src/image/imageModel';
import {
  compress, dockerSaveLegacy, imageConfig, makeTar, ociFiles, sha256, tarOf, tempDir, type Compression, type FileMap, type ImageSpec,
} from './imageFixtures';

const tmp = tempDir();
after(() => tmp.cleanup());
let n = 0;
const file = (data: Uint8Array) => tmp.write(`case-${n++}.tar`, data);

const okLayer = makeTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/hosts', content: 'localhost' }]);
const spec = (...layers: Buffer[]): ImageSpec => ({ tags: ['t:1'], layers });

/** The open must fail with an ImageReadError whose message matches. */
async function openFails(p: string, re: RegExp, opts: OpenOptions = {}): Promise<void> {
  const before = readdirSync(tmp.dir).length;
  await assert.rejects(async () => {
    const img = await openImage(p, opts);
    await img.done;
    await img.close();
  }, (e: unknown) => {
    assert.ok(e instanceof ImageReadError, `expected ImageReadError, got ${String(e)}`);
    assert.match(e.message, re);
    assert.ok(!/\n/.test(e.message), 'one line');
    return true;
  });
  assert.equal(readdirSync(tmp.dir).length, before, 'nothing written');
}

/** Opening works; layer `layer` ends 'failed' with a matching error. */
async function layerFails(p: string, layer: number, re: RegExp, opts: OpenOptions = {}): Promise<void> {
  const img = await openImage(p, opts);
  await img.done;
  const l = img.info.images[0]!.layers[layer]!;
  assert.equal(l.status, 'failed', `layer ${layer} status`);
  assert.match(l.error ?? '', re);
  await img.close();
}

/** Opening and reading work; some layer warning matches. Returns the opened image for more checks. */
async function layerWarns(p: string, re: RegExp, opts: OpenOptions = {}) {
  const img = await openImage(p, opts);
  await img.done;
  const layers = img.info.images[0]!.layers;
  assert.ok(layers.every((l) => l.status === 'read'), layers.map((l) => l.error).join());
  assert.ok(layers.some((l) => l.warnings.some((w) => re.test(w))), `warnings: ${layers.flatMap((l) => l.warnings).join(' | ')}`);
  return img;
}

/** An OCI archive whose layer blob (compressed with `c`) is replaced by `tamper(blob)`. */
function ociWithTamperedLayer(layer: Buffer, c: Compression, tamper: (b: Buffer) => Buffer): Buffer {
  const files = ociFiles([spec(layer)], { compression: c });
  const name = `blobs/sha256/${sha256(compress(layer, c)).slice(7)}`;
  files[name] = tamper(files[name] as Buffer);
  return tarOf(files);
}

function flipMiddle(b: Buffer): Buffer {
  const c = Buffer.from(b);
  for (let i = Math.floor(c.length / 3); i < Math.floor(c.length / 3) + 16 && i < c.length; i++) c[i] = c[i]! ^ 0xff;
  return c;
}

describe('hostile input: the outer archive', () => {
  it('1 empty file', () => openFails(file(Buffer.alloc(0)), /empty file/));
  it('2 a text file, not a tar', () => openFails(file(Buffer.from('hello '.repeat(200))), /not a tar archive \(bad header checksum\)/));
  it('3 truncated archive (cut inside a member)', () => {
    const files: FileMap = { 'manifest.json': Buffer.from('[]'), 'l/layer.tar': Buffer.alloc(20000) };
    return openFails(file(tarOf(files).subarray(0, 5000)), /truncated archive: l\/layer.tar claims 20000 bytes but only \d+ remain/);
  });
  it('4 a 1 TB size claimed in an outer tar header', () =>
    openFails(file(makeTar([{ name: 'manifest.json', content: '[]', claimedSize: 2 ** 40 }])), /claims 1099511627776 bytes/));
  it('5 a zstd-compressed file passed as the archive', () => openFails(file(compress(dockerSaveLegacy([spec(okLayer)]), 'zstd')), /zstd-compressed file/));
  it('6 corrupt gzip around the whole archive', () => {
    const gz = gzipSync(dockerSaveLegacy([spec(okLayer)]));
    return openFails(file(gz.subarray(0, gz.length - 40)), /corrupt gzip data|truncated/);
  });
  it('7 a plain tar with no image metadata', () => openFails(file(makeTar([{ name: 'README.md', content: 'hi' }])), /not an image archive: no manifest.json, index.json or oci-layout \(it holds README.md\)/));
  it('8 a directory that is not an OCI layout', () => openFails(tmp.writeFiles('plain-dir', { 'a.txt': Buffer.from('x') }), /not an image archive/));
  it('9 no such file', () => openFails(`${tmp.dir}/does-not-exist.tar`, /no such file or directory/));
  it('10 an oversized tar extended header', () => {
    const big = makeTar([{ name: 'manifest.json', content: '[]', pax: { comment: 'x'.repeat(5 * 1024 * 1024) } }]);
    return openFails(file(big), /oversized tar extended header/);
  });
});

describe('hostile input: metadata', () => {
  it('11 manifest.json is not JSON', () => openFails(file(tarOf({ 'manifest.json': Buffer.from('{nope') })), /manifest manifest.json is not valid JSON/));
  it('12 manifest.json is null', () => openFails(file(tarOf({ 'manifest.json': Buffer.from('null') })), /manifest.json lists no images \(it is null\)/));
  it('13 image config is not JSON', () => {
    const files: FileMap = { 'cfg.json': Buffer.from('not json'), 'l/layer.tar': okLayer, 'manifest.json': Buffer.from(JSON.stringify([{ Config: 'cfg.json', Layers: ['l/layer.tar'] }])) };
    return openFails(file(tarOf(files)), /image config cfg.json is not valid JSON/);
  });
  it('14 legacy manifest names a missing layer.tar', () => {
    const cfg = imageConfig(spec(okLayer));
    const files: FileMap = { 'cfg.json': cfg, 'manifest.json': Buffer.from(JSON.stringify([{ Config: 'cfg.json', Layers: ['gone/layer.tar'] }])) };
    return openFails(file(tarOf(files)), /layer 0 \(gone\/layer.tar\) is missing from the archive/);
  });
  it('15 OCI manifest names a missing layer blob', () => {
    const files = ociFiles([spec(okLayer)], { compression: 'gzip' });
    delete files[`blobs/sha256/${sha256(compress(okLayer, 'gzip')).slice(7)}`];
    return openFails(file(tarOf(files)), /names layer 0 sha256:[0-9a-f]{64}, which is missing from the archive/);
  });
  it('16 OCI index names a missing manifest', () => {
    const files: FileMap = { 'oci-layout': Buffer.from('{}'), 'index.json': Buffer.from(JSON.stringify({ manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 1 }] })) };
    return openFails(file(tarOf(files)), /manifest sha256:a{64} is missing from the archive/);
  });
  it('17 index.json is not JSON', () => openFails(file(tarOf({ 'oci-layout': Buffer.from('{}'), 'index.json': Buffer.from('[') })), /index index.json is not valid JSON/));
  it('18 index.json with "manifests": null', () => openFails(file(tarOf({ 'oci-layout': Buffer.from('{}'), 'index.json': Buffer.from('{"manifests":null}') })), /index.json lists no manifests/));
  it('19 a digest that tries path traversal', () => {
    const files: FileMap = { 'oci-layout': Buffer.from('{}'), 'index.json': Buffer.from(JSON.stringify({ manifests: [{ digest: 'sha256:../../../etc/passwd', size: 1 }] })) };
    return openFails(file(tarOf(files)), /invalid digest "sha256:..\/..\/..\/etc\/passwd"/);
  });
  it('20 config lists fewer diff_ids than the manifest has layers', () => {
    const s = spec(okLayer, okLayer);
    s.diffIds = [sha256(okLayer)];
    return openFails(file(dockerSaveLegacy([s])), /2 layers but the config lists 1 diff_ids/);
  });
  it('21 manifest (config) digest mismatch in an OCI layout', () => {
    const files = ociFiles([spec(okLayer)], { compression: 'none' });
    const cfgName = `blobs/sha256/${sha256(imageConfig(spec(okLayer))).slice(7)}`;
    files[cfgName] = Buffer.from(JSON.stringify({ rootfs: { diff_ids: [sha256(okLayer)] }, tampered: true }));
    return openFails(file(tarOf(files)), /image config sha256:[0-9a-f]{64}: digest mismatch/);
  });
  it('22 index.json larger than the metadata limit', () =>
    openFails(file(tarOf({ 'oci-layout': Buffer.from('{}'), 'index.json': Buffer.from(' '.repeat(2048)) })), /more than the 1024-byte limit for metadata/, { limits: { maxJsonBytes: 1024 } }));
  it('23 indexes nested more than 8 deep', () => {
    const files: FileMap = { 'oci-layout': Buffer.from('{}') };
    let digest = '';
    let size = 0;
    let doc = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    for (let i = 0; i < 12; i++) {
      digest = sha256(doc);
      size = doc.length;
      files[`blobs/sha256/${digest.slice(7)}`] = doc;
      doc = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest, size }] }));
    }
    files['index.json'] = doc;
    return openFails(file(tarOf(files)), /nested more than 8 deep/);
  });
});

describe('hostile input: layers', () => {
  it('24 blob digest mismatch (error names the layer); --no-verify reads it', async () => {
    const other = makeTar([{ name: 'evil', content: 'x' }]);
    const p = file(ociWithTamperedLayer(okLayer, 'gzip', () => gzipSync(other)));
    await layerFails(p, 0, /blob digest mismatch: the archive says sha256:[0-9a-f]{64}, the content hashes to sha256:/);
    const img = await openImage(p, { verify: false });
    await img.done;
    assert.equal(img.info.images[0]!.layers[0]!.status, 'read');
    assert.equal(img.stat(0, 0, 'merged', 'evil')!.size, 1);
    await img.close();
  });
  it('25 diffId mismatch in a legacy archive', () => {
    const s = spec(okLayer);
    s.diffIds = [sha256(Buffer.from('something else'))];
    return layerFails(file(dockerSaveLegacy([s])), 0, /diffId mismatch: the config says sha256:/);
  });
  it('26 truncated layer tar', () => layerFails(file(dockerSaveLegacy([spec(makeTar([{ name: 'f', content: 'x'.repeat(3000) }]).subarray(0, 1536))])), 0, /truncated tar/));
  it('27 a 1 TB size claimed inside a layer', () => layerFails(file(dockerSaveLegacy([spec(makeTar([{ name: 'huge', content: '', claimedSize: 2 ** 40 }]))])), 0, /truncated tar/));
  it('28 corrupt gzip layer', () => layerFails(file(ociWithTamperedLayer(makeTar([{ name: 'f', content: 'abc'.repeat(5000) }]), 'gzip', flipMiddle)), 0, /corrupt gzip data/));
  it('29 truncated gzip layer', () => layerFails(file(ociWithTamperedLayer(makeTar([{ name: 'f', content: 'random'.repeat(3000) }]), 'gzip', (b) => b.subarray(0, b.length >> 1))), 0, /corrupt gzip data/));
  it('30 corrupt zstd layer', () => layerFails(file(ociWithTamperedLayer(makeTar([{ name: 'f', content: 'abc'.repeat(5000) }]), 'zstd', flipMiddle)), 0, /corrupt zstd data/));
  it('31 truncated zstd layer', () => layerFails(file(ociWithTamperedLayer(makeTar([{ name: 'f', content: 'random'.repeat(3000) }]), 'zstd', (b) => b.subarray(0, b.length >> 1))), 0, /corrupt zstd data|truncated/));
  it('32 a layer that is not a tar at all', () => layerFails(file(ociWithTamperedLayer(okLayer, 'none', () => Buffer.from('not a tar '.repeat(100)))), 0, /not a tar archive/, { verify: false }));
  it('33 a bzip2 layer is reported as unsupported', () => layerFails(file(ociWithTamperedLayer(okLayer, 'none', () => Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(600)]))), 0, /bzip2-compressed layers are not supported/, { verify: false }));
  it('34 decompression bomb: expansion capped (configurable), memory stays bounded', async () => {
    const bomb = makeTar([{ name: 'zeros', content: Buffer.alloc(64 * 1024 * 1024) }]);
    const p = file(ociWithTamperedLayer(bomb, 'gzip', (b) => b));
    const rss = process.memoryUsage().rss;
    await layerFails(p, 0, /expands past the 1048576-byte limit/, { limits: { maxExpandedBytes: 1024 * 1024 } });
    assert.ok(process.memoryUsage().rss - rss < 200 * 1024 * 1024, 'bounded memory');
  });
  it('35 entry bomb: too many entries', () => {
    const many = makeTar(Array.from({ length: 500 }, (_, i) => ({ name: `f${i}`, content: '' })));
    return layerFails(file(dockerSaveLegacy([spec(many)])), 0, /more than 100 entries in the image \(limit/, { limits: { maxEntries: 100 } });
  });
  it('36 path traversal (../../etc/passwd) is skipped with a warning', async () => {
    const img = await layerWarns(file(dockerSaveLegacy([spec(makeTar([{ name: '../../etc/passwd', content: 'root' }, { name: 'ok', content: '1' }]))])), /\.\.\/\.\.\/etc\/passwd: path escapes the image root/);
    assert.deepEqual(img.listDirectory(0, 0, 'merged', '').entries.map((e) => e.name), ['ok']);
    await img.close();
  });
  it('37 absolute paths are read relative to the image root', async () => {
    const img = await layerWarns(file(dockerSaveLegacy([spec(makeTar([{ name: '/etc/passwd', content: 'root' }]))])), /absolute paths/);
    assert.equal(img.stat(0, 0, 'merged', 'etc/passwd')!.size, 4);
    await img.close();
  });
  it('38 symlink, then a write through it in the same layer', async () => {
    const img = await layerWarns(file(dockerSaveLegacy([spec(makeTar([{ name: 'a', type: 'symlink', link: '/etc' }, { name: 'a/passwd', content: 'pwn' }]))])), /a\/passwd: below a, which this layer made a symlink; skipped/);
    assert.equal(img.stat(0, 0, 'merged', 'a')!.type, 'symlink');
    await img.close();
  });
  it('39 hardlink loop: reading fails cleanly', async () => {
    const p = file(dockerSaveLegacy([spec(makeTar([{ name: 'x', type: 'hardlink', link: 'y' }, { name: 'y', type: 'hardlink', link: 'x' }]))]));
    const img = await openImage(p);
    await img.done;
    await assert.rejects(img.readFile(0, 0, 'x'), /hardlink loop/);
    await img.close();
  });
  it('40 hardlink to nothing: reading fails cleanly', async () => {
    const img = await openImage(file(dockerSaveLegacy([spec(makeTar([{ name: 'x', type: 'hardlink', link: 'missing' }]))])));
    await img.done;
    await assert.rejects(img.readFile(0, 0, 'x'), /no such file/);
    await img.close();
  });
  it('41 a 100k-deep path is skipped with a warning', async () => {
    const deep = 'd/'.repeat(100_000) + 'f';
    const img = await layerWarns(file(dockerSaveLegacy([spec(makeTar([{ name: deep, content: 'x' }, { name: 'ok', content: '1' }]))])), /path deeper than 4096 levels; skipped/);
    assert.deepEqual(img.listDirectory(0, 0, 'merged', '').entries.map((e) => e.name), ['ok']);
    await img.close();
  });
  it('42 duplicate entries in one layer: the later wins, with a warning', async () => {
    const img = await layerWarns(file(dockerSaveLegacy([spec(makeTar([{ name: 'f', content: 'first' }, { name: 'f', content: 'second!' }]))])), /f: duplicate entry in one layer/);
    assert.equal(img.stat(0, 0, 'merged', 'f')!.size, 7);
    assert.equal(Buffer.from((await img.readFile(0, 0, 'f')).bytes).toString(), 'second!');
    await img.close();
  });
  it('43 whiteouts of things that do not exist', async () => {
    const img = await layerWarns(file(dockerSaveLegacy([spec(okLayer, makeTar([{ name: 'etc/.wh.nothing' }, { name: '.wh.ghost' }]))])), /whiteout of etc\/nothing and 1 more path\(s\), which no lower layer has/);
    assert.equal(img.summary(0).wastedBytes, 0);
    await img.close();
  });
  it('44 .wh. files at the root: a nameless one is skipped, a named one deletes', async () => {
    const img = await layerWarns(file(dockerSaveLegacy([spec(okLayer, makeTar([{ name: '.wh.' }, { name: '.wh.etc' }]))])), /\.wh\.: whiteout without a name/);
    assert.deepEqual(img.listDirectory(0, 1, 'merged', '').entries, []);
    assert.equal(img.summary(0).wastedBytes, 'localhost'.length);
    await img.close();
  });
  it('45 non-UTF-8 names stay distinct and printable', async () => {
    const a = Buffer.from([0x66, 0xe9]);
    const b = Buffer.from([0x66, 0xe8]);
    const img = await openImage(file(dockerSaveLegacy([spec(makeTar([{ name: a, content: '1' }, { name: b, content: '22' }]))])));
    await img.done;
    const e = img.listDirectory(0, 0, 'merged', '').entries;
    assert.deepEqual(e.map((x) => [x.name, x.rawName, x.size]), [['f\\xe8', true, 2], ['f\\xe9', true, 1]]);
    await img.close();
  });
  it('46 an empty layer blob', () => layerFails(file(ociWithTamperedLayer(okLayer, 'none', () => Buffer.alloc(0))), 0, /empty layer blob/, { verify: false }));
});
