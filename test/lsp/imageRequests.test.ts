/**
 * The explorer's custom requests against the real bundled server over stdio: open a fixture archive with progress
 * notifications, page a directory, preview a file, summarise, cancel an open, close — and error replies a user can read.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import type { DirectoryPage, ImageSummary } from '../../server/src/image/imageModel';
import {
  ImageCloseRequest, ImageListRequest, ImageOpenRequest, ImageProgressNotification, ImageReadFileRequest, ImageSummaryRequest,
  type ImageOpenResult, type ImageProgressParams,
} from '../../server/src/protocol/lspMessages';
import type { FilePreview } from '../../server/src/protocol/webviewMessages';
import { LspSession } from '../support/lspSession';
import { CORPUS } from '../support/paths';

const DIVE = path.join(CORPUS, 'images/wagoodman__dive/.data__test-docker-image.tar');

describe('strata/image/* over stdio', () => {
  let s: LspSession;
  const progress: ImageProgressParams[] = [];
  before(async () => {
    s = new LspSession();
    await s.initialize();
    s.connection.onNotification(ImageProgressNotification.method, (p: ImageProgressParams) => { progress.push(p); });
  });
  after(() => s.close());

  it('opens an archive, reports each layer, pages, previews and summarises', async () => {
    const r = await s.request<ImageOpenResult>(ImageOpenRequest.method, { handle: 'a', path: DIVE });
    assert.equal(r.archive.images[0]!.layers.length, 14);
    const deadline = Date.now() + 30_000;
    while (!progress.some((p) => p.handle === 'a' && p.status === 'done') && Date.now() < deadline) await new Promise((x) => setTimeout(x, 50));
    const done = progress.find((p) => p.handle === 'a' && p.status === 'done');
    assert.ok(done, 'a done notification');
    assert.ok(done.archive!.images[0]!.layers.every((l) => l.status === 'read'));
    const page = await s.request<DirectoryPage>(ImageListRequest.method, {
      handle: 'a', image: 0, layer: 7, mode: 'layer', rangeStart: 0, dir: 'root/example', offset: 0, limit: 50,
      sort: 'name', descending: false, filter: '', kinds: [], wastedOnly: false, minSize: 0,
    });
    const wh = page.entries.find((e) => e.path === 'root/example/somefile3.txt');
    assert.equal(wh?.kind, 'deleted');
    assert.equal(wh?.whiteoutName, '.wh.somefile3.txt');
    const f = await s.request<FilePreview>(ImageReadFileRequest.method, { handle: 'a', image: 0, layer: 13, path: 'root/saved.txt', mode: 'layer', maxBytes: 64 });
    assert.equal(f.layerIndex, 13);
    assert.equal(f.text?.length, 64);
    const sum = await s.request<ImageSummary>(ImageSummaryRequest.method, { handle: 'a', image: 0, topWasted: 3 });
    assert.equal(sum.wastedBytes, 32025);
    await s.request(ImageCloseRequest.method, { handle: 'a' });
    await assert.rejects(s.request(ImageSummaryRequest.method, { handle: 'a', image: 0, topWasted: 3 }), /no longer open/);
  });

  it('answers a missing file and a non-archive with one-line errors, and the server stays up', async () => {
    await assert.rejects(s.request(ImageOpenRequest.method, { handle: 'b', path: '/nonexistent/x.tar' }), (e: Error) => !/\n\s+at /.test(e.message));
    await assert.rejects(s.request(ImageOpenRequest.method, { handle: 'c', path: path.join(CORPUS, 'README.md') }));
    const r = await s.request<ImageOpenResult>(ImageOpenRequest.method, { handle: 'd', path: DIVE });
    assert.equal(r.archive.images.length, 1);
    await s.request(ImageCloseRequest.method, { handle: 'd' });
    assert.equal(s.exited, undefined);
  });

  it('a cancelled open leaves no session behind', async () => {
    const cts = new CancellationTokenSource();
    const p = s.connection.sendRequest(ImageOpenRequest.method, { handle: 'e', path: DIVE }, cts.token);
    cts.cancel();
    await p.catch(() => undefined);
    // Either the open was cut short or it finished first; in both cases the handle can be closed and reused.
    await s.request(ImageCloseRequest.method, { handle: 'e' });
    const r = await s.request<ImageOpenResult>(ImageOpenRequest.method, { handle: 'e', path: DIVE });
    assert.equal(r.archive.images.length, 1);
    await s.request(ImageCloseRequest.method, { handle: 'e' });
  });
});
