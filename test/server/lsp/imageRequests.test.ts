/** The server side of the explorer over real fixture archives: paging, glob/kind/size filters, previews, errors. */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { openImage } from '../../../server/src/image/imageReader';
import { decodeText, globMatcher, ImageSessions } from '../../../server/src/lsp/imageRequests';
import type { ImageListParams } from '../../../server/src/protocol/lspMessages';
import { CORPUS } from '../../support/paths';

const DIVE = path.join(CORPUS, 'images/wagoodman__dive/.data__test-docker-image.tar');
const base: Omit<ImageListParams, 'layer' | 'mode' | 'dir'> = {
  handle: 'd', image: 0, rangeStart: 0, offset: 0, limit: 200, sort: 'name', descending: false, filter: '', kinds: [], wastedOnly: false, minSize: 0,
};

describe('globMatcher', () => {
  it('matches names without a slash and paths with one, case-insensitively', () => {
    const so = globMatcher('*.SO');
    assert.ok(so('usr/lib/libc.so', 'libc.so'));
    assert.ok(!so('usr/lib/libc.so.6', 'libc.so.6'));
    const deep = globMatcher('usr/**/lib*');
    assert.ok(deep('usr/lib/x86_64/libz.so', 'libz.so'));
    assert.ok(deep('usr/libexec', 'libexec'));
    assert.ok(!deep('etc/libfoo', 'libfoo'));
    assert.ok(globMatcher('f?o')('a/foo', 'foo'));
    assert.ok(globMatcher('[ab]*')('x/bar', 'bar'));
    assert.ok(!globMatcher('[!ab]*')('x/bar', 'bar'));
    assert.ok(globMatcher('a(b)+c$')('a(b)+c$', 'a(b)+c$'), 'regex characters are literal');
  });

  it('decodes text and refuses binary', () => {
    assert.equal(decodeText(new TextEncoder().encode('héllo')), 'héllo');
    assert.equal(decodeText(new Uint8Array([0x68, 0, 0x69])), null);
    assert.equal(decodeText(new Uint8Array([0xff, 0xfe, 0x41])), null);
    assert.equal(decodeText(new Uint8Array([0x61, 0xc3])), 'a', 'a sequence cut by truncation is dropped, not an error');
  });
});

describe('ImageSessions over the dive fixture', () => {
  const sessions = new ImageSessions(openImage, () => { throw new Error('no engine'); });
  const progress: string[] = [];
  before(async () => {
    let done!: () => void;
    const finished = new Promise<void>((r) => { done = r; });
    const r = await sessions.open({ handle: 'd', path: DIVE }, (p) => {
      progress.push(p.status);
      if (p.status === 'done') done();
    });
    assert.equal(r.archive.images[0]!.layers.length, 14);
    await finished;
  });
  after(() => sessions.closeAll());

  it('reports progress per layer and then done', () => {
    assert.equal(progress.at(-1), 'done');
    assert.ok(progress.filter((s) => s === 'reading').length >= 1);
  });

  it('pages a directory', () => {
    const all = sessions.list({ ...base, layer: 0, mode: 'merged', dir: 'bin' });
    assert.ok(all.total > 100);
    const page = sessions.list({ ...base, layer: 0, mode: 'merged', dir: 'bin', offset: 50, limit: 10 });
    assert.equal(page.entries.length, 10);
    assert.equal(page.total, all.total);
    assert.deepEqual(page.entries.map((e) => e.path), all.entries.slice(50, 60).map((e) => e.path));
  });

  it('filters by glob keeping ancestor directories', () => {
    const root = sessions.list({ ...base, layer: 13, mode: 'merged', dir: '', filter: 'saved*.txt' });
    assert.deepEqual(root.entries.map((e) => e.path), ['root', 'tmp']);
    const inRoot = sessions.list({ ...base, layer: 13, mode: 'merged', dir: 'root', filter: 'saved*.txt' });
    assert.deepEqual(inRoot.entries.map((e) => e.path), ['root/.data', 'root/saved.txt']);
  });

  it('filters by kind keeping ancestors, and by minimum size', () => {
    const del = sessions.list({ ...base, layer: 7, mode: 'layer', dir: '', kinds: ['deleted'] });
    assert.deepEqual(del.entries.map((e) => e.path), ['root']);
    const inner = sessions.list({ ...base, layer: 7, mode: 'layer', dir: 'root/example', kinds: ['deleted'] });
    assert.deepEqual(inner.entries.map((e) => [e.path, e.kind, e.whiteoutName]), [['root/example/somefile3.txt', 'deleted', '.wh.somefile3.txt']]);
    const big = sessions.list({ ...base, layer: 0, mode: 'layer', dir: '', minSize: 100_000 });
    assert.ok(big.entries.length > 0);
    for (const e of big.entries) assert.ok(e.size >= 100_000, e.path);
  });

  it('previews small text files and reports missing ones as errors', async () => {
    const f = await sessions.readFile({ handle: 'd', image: 0, layer: 13, path: 'root/saved.txt', mode: 'merged', maxBytes: 100 });
    assert.equal(f.size, 6405);
    assert.ok(f.truncated);
    assert.equal(typeof f.text, 'string');
    assert.equal(f.text!.length, 100);
    await assert.rejects(sessions.readFile({ handle: 'd', image: 0, layer: 9, path: 'root/example/somefile1.txt', mode: 'merged', maxBytes: 100 }), /no such file/);
    const bin = await sessions.readFile({ handle: 'd', image: 0, layer: 0, path: 'bin/busybox', mode: 'merged', maxBytes: 4096 });
    assert.equal(bin.text, null);
  });

  it('summarises, and refuses closed handles with a clear message', async () => {
    const s = sessions.summary({ handle: 'd', image: 0, topWasted: 2 });
    assert.equal(s.wastedBytes, 32025);
    assert.equal(s.topWasted.length, 2);
    assert.throws(() => sessions.list({ ...base, handle: 'nope', layer: 0, mode: 'layer', dir: '' }), /no longer open/);
  });
});

describe('ImageSessions with an engine image', () => {
  it('streams docker save into a temp file, opens it, and removes it on close', async () => {
    const { readFileSync, existsSync } = await import('node:fs');
    const tarBytes = readFileSync(DIVE);
    let savedRef = '';
    const sessions = new ImageSessions(openImage, () => ({
      listImages: async () => [],
      saveImage: (refs) => {
        savedRef = refs.join();
        const s = new PassThrough();
        // Chunks, like docker's stdout.
        for (let i = 0; i < tarBytes.length; i += 65536) s.write(tarBytes.subarray(i, i + 65536));
        s.end();
        return s;
      },
    }));
    const r = await sessions.open({ handle: 'e', engineRef: 'dive:test' }, () => undefined);
    assert.equal(savedRef, 'dive:test');
    assert.equal(r.archive.images[0]!.layers.length, 14);
    const tmp = path.dirname(r.archive.path);
    assert.ok(existsSync(tmp));
    await sessions.close('e');
    assert.ok(!existsSync(tmp), 'the temp copy is removed on close');
  });

  it('reports an unreachable engine as not connected', async () => {
    const sessions = new ImageSessions(openImage, () => ({
      listImages: async () => { throw new Error('Cannot connect to the Docker daemon at unix:///nope.sock'); },
      saveImage: () => { throw new Error('unused'); },
    }));
    const r = await sessions.engineImages(undefined);
    assert.deepEqual(r, { connected: false, error: 'Cannot connect to the Docker daemon at unix:///nope.sock', images: [] });
  });
});
