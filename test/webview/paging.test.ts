/**
 * A 100,000-entry directory in real Chromium: the data arrives in pages (never the whole tree in one message), the
 * DOM holds only the visible rows plus a margin, scrolling to the end fetches only the pages it needs, and the
 * number of pages kept stays bounded.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { writeWideArchive } from './support/imageArchiveBuilder';
import { launchBrowser, openExplorerPage, settle, visibleRows, type ExplorerPage } from './support/explorerPage';

const N = 100_000;

describe('paging and virtualisation with a 100,000-entry layer', () => {
  let browser: Browser;
  let x: ExplorerPage;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-wide-'));
    const file = await writeWideArchive(path.join(dir, 'wide.tar'), N);
    browser = await launchBrowser();
    x = await openExplorerPage(browser, file, { viewport: { width: 1000, height: 700 } });
    await settle(x.page);
  });
  after(async () => {
    await x?.close();
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('expanding the directory loads one page, and the DOM holds only visible rows plus a margin', async () => {
    x.requests.length = 0;
    await x.page.click('.tree .row[data-path="wide"] .twistie');
    await settle(x.page);
    const lists = x.requests.filter((r) => r.method === 'list');
    assert.ok(lists.length <= 2, `${lists.length} list requests`);
    assert.ok(x.maxEntriesPerReply <= 200, `a reply carried ${x.maxEntriesPerReply} entries`);
    const domRows = await x.page.$$eval('.tree .row', (r) => r.length);
    const viewportRows = await x.page.$eval('.tree', (t) => Math.ceil(t.clientHeight / 22));
    assert.ok(domRows <= viewportRows + 2 * 20 + 2, `${domRows} rows in the DOM for a ${viewportRows}-row viewport`);
    const spacer = await x.page.$eval('.tree-spacer', (s) => s.getBoundingClientRect().height);
    assert.equal(spacer, (N + 1) * 22, 'the scrollbar reflects all rows');
  });

  it('scrolling to the end fetches only the pages near the end and shows the last entry', async () => {
    x.requests.length = 0;
    await x.page.focus('.tree');
    await x.page.keyboard.press('End');
    await settle(x.page);
    const rows = await visibleRows(x.page);
    assert.equal(rows.at(-1)?.path, `wide/f${String(N - 1).padStart(6, '0')}.txt`);
    assert.ok(rows.at(-1)?.selected);
    const offsets = x.requests.filter((r) => r.method === 'list').map((r) => (r.params as { offset: number }).offset);
    assert.ok(offsets.length >= 1 && offsets.length <= 3, JSON.stringify(offsets));
    for (const o of offsets) assert.ok(o >= N - 600, `fetched offset ${o}`);
  });

  it('keeps a bounded number of pages while scrolling through everything', async () => {
    const pages = await x.page.evaluate(async () => {
      const tree = document.querySelector('.tree') as HTMLElement;
      const app = (window as unknown as { strataExplorer: { tree: { model: { loadedPages(): number; maxPages: number } } } }).strataExplorer;
      let most = 0;
      for (let top = 0; top < tree.scrollHeight; top += tree.scrollHeight / 25) {
        tree.scrollTop = top;
        await new Promise((r) => setTimeout(r, 30));
        most = Math.max(most, app.tree.model.loadedPages());
      }
      return { most, max: app.tree.model.maxPages };
    });
    assert.ok(pages.most <= pages.max + 5, JSON.stringify(pages));
  });
});
