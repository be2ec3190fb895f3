/**
 * The explorer's status area shows digest verification, which runs on after the trees are read: "verified" for a
 * good archive, the layer and both digests (as an error) for a corrupted one. Real Chromium, real ImageSessions.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { ArchiveInfo, ImageInfo, LayerInfo, VerificationState } from '../../server/src/image/imageModel';
import { verificationText } from '../../webview/src/explorerApp';
import { dockerSaveLegacy, makeTar, tempDir, type ImageSpec } from '../server/image/imageFixtures';
import { launchBrowser, openExplorerPage, settle, type ExplorerPage } from './support/explorerPage';

const MARK = 'CORRUPT-ME-';
const spec: ImageSpec = {
  tags: ['verify:1'],
  layers: [makeTar([{ name: 'etc/os', content: 'debian' }]), makeTar([{ name: 'blob', content: MARK + 'z'.repeat(200_000) }])],
  createdBy: ['ADD rootfs', 'RUN blob'],
};

async function settled(archive: ArchiveInfo): Promise<void> {
  for (let i = 0; i < 200 && archive.verification === 'pending'; i++) await new Promise((r) => setTimeout(r, 25));
  assert.notEqual(archive.verification, 'pending', 'verification settles');
}

/** The status line after the host re-posts the image (as it does on each verification notification). */
async function statusAfterVerification(x: ExplorerPage, file: string): Promise<{ text: string; error: boolean }> {
  await settled(x.archive);
  await x.post({ type: 'image', source: file, title: path.basename(file), image: 0, archive: x.archive, status: 'done', error: null, restore: null });
  await settle(x.page);
  return x.page.$eval('.status', (s) => ({ text: s.textContent ?? '', error: s.classList.contains('error') }));
}

describe('layer explorer: verification status', () => {
  const tmp = tempDir();
  let browser: Browser;
  const pages: ExplorerPage[] = [];
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    for (const p of pages) await p.close();
    await browser?.close();
    tmp.cleanup();
  });

  it('a good archive: "verified"', async () => {
    const file = tmp.write('good.tar', dockerSaveLegacy([spec]));
    const x = await openExplorerPage(browser, file);
    pages.push(x);
    const s = await statusAfterVerification(x, file);
    assert.match(s.text, /2 layers · .* · verified$/);
    assert.equal(s.error, false);
  });

  it('a corrupted layer: the layer and the mismatch, as an error, with the tree still shown', async () => {
    const good = dockerSaveLegacy([spec]);
    const bad = Buffer.from(good);
    bad[good.indexOf(MARK)] = 'c'.charCodeAt(0);
    const file = tmp.write('bad.tar', bad);
    const x = await openExplorerPage(browser, file);
    pages.push(x);
    const s = await statusAfterVerification(x, file);
    assert.match(s.text, /layer 1: diffId mismatch: the config says sha256:[0-9a-f]{64}, the uncompressed tar hashes to sha256:[0-9a-f]{64}$/);
    assert.equal(s.error, true);
    assert.ok((await x.page.$$('.tree .row')).length > 0, 'tree rows still shown');
  });
});

describe('verificationText (the states the archives above do not reach)', () => {
  const image = (...layers: [VerificationState, string?][]): ImageInfo =>
    ({ layers: layers.map(([verification, error], index) => ({ index, verification, error: error ?? null }) as unknown as LayerInfo) }) as ImageInfo;

  it('no image, or verification skipped (--no-verify, foreign layers): nothing shown', () => {
    assert.equal(verificationText(null), null);
    assert.equal(verificationText(image(['skipped'], ['skipped'])), null);
  });

  it('"verifying…" while any layer is pending; "verified" once the rest settle, skipped layers aside', () => {
    assert.deepEqual(verificationText(image(['verified'], ['pending'])), { text: 'verifying…', bad: false });
    assert.deepEqual(verificationText(image(['skipped'], ['verified'])), { text: 'verified', bad: false });
  });

  it('a layer that could not be hashed is an error naming it, even while others are pending', () => {
    assert.deepEqual(verificationText(image(['pending'], ['error', 'unexpected end of file'])), { text: 'layer 1 not verified: unexpected end of file', bad: true });
    assert.deepEqual(verificationText(image(['verified'], ['mismatch'])), { text: 'layer 1: digest mismatch', bad: true });
  });
});
