/**
 * The layer explorer rendered in real headless Chromium (dist/webview.js), fed from real fixture archives through
 * the real server-side ImageSessions. Covers layers, the three view modes, badges, filters, keyboard, preview,
 * summary/config tabs, state restore and paging.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { CORPUS, ROOT } from '../support/paths';
import { clickLayer, launchBrowser, openExplorerPage, settle, visibleRows, type ExplorerPage } from './support/explorerPage';

const DIVE = path.join(CORPUS, 'images/wagoodman__dive/.data__test-docker-image.tar');

async function expand(x: ExplorerPage, p: string): Promise<void> {
  await x.page.click(`.tree .row[data-path="${p}"] .twistie`);
  await settle(x.page);
}

describe('layer explorer in Chromium (dive fixture)', () => {
  let browser: Browser;
  let x: ExplorerPage;
  before(async () => {
    browser = await launchBrowser();
    x = await openExplorerPage(browser, DIVE);
    await settle(x.page);
  });
  after(async () => {
    await x?.close();
    await browser?.close();
  });

  it('lists every layer with index, size, change count and command', async () => {
    const layers = await x.page.$$eval('.layer', (rows) => rows.map((r) => Array.from(r.querySelectorAll('span'), (s) => s.textContent)));
    assert.equal(layers.length, 14);
    assert.deepEqual(layers[7]!.slice(0, 1), ['7']);
    assert.equal(layers[7]![2], '4');
    assert.match(layers[7]![3]!, /^RUN mv \/root\/example\/somefile3.txt \/root\/saved.txt/);
    assert.match(layers[0]![3]!, /^ADD file:/);
  });

  it('shows a whiteout as deleted (red, struck through) with a tooltip naming the .wh. entry', async () => {
    await clickLayer(x.page, 7);
    await expand(x, 'root');
    await expand(x, 'root/example');
    const rows = await visibleRows(x.page);
    const del = rows.find((r) => r.path === 'root/example/somefile3.txt');
    assert.ok(del, `no row for the deleted file in ${JSON.stringify(rows.map((r) => r.path))}`);
    assert.deepEqual(del.badges, ['whiteout']);
    assert.ok(del.classes.includes('kind-deleted'));
    assert.match(del.title, /root\/example\/\.wh\.somefile3\.txt|\.wh\.somefile3\.txt/);
    const deco = await x.page.$eval('.row[data-path="root/example/somefile3.txt"] .name', (n) => getComputedStyle(n).textDecorationLine);
    assert.equal(deco, 'line-through');
    const added = rows.find((r) => r.path === 'root/saved.txt');
    assert.equal(added?.badges[0], 'added');
    assert.ok(added?.classes.includes('kind-added'));
    const modified = rows.find((r) => r.path === 'root');
    assert.equal(modified?.badges[0], 'modified');
    // For the README (out/ is not committed): the dive fixture at layer 7 with its whiteout.
    await x.page.screenshot({ path: path.join(ROOT, 'out/webview-screenshots/layer-explorer.png') });
  });

  it('merged view at a layer shows the union filesystem (a deleted directory is gone)', async () => {
    await x.page.selectOption('select.mode', 'merged');
    await clickLayer(x.page, 9);
    const rows = await visibleRows(x.page);
    assert.ok(rows.some((r) => r.path === 'root'));
    if (!rows.some((r) => r.path === 'root/saved.txt')) await expand(x, 'root');
    const after = await visibleRows(x.page);
    assert.ok(after.some((r) => r.path === 'root/saved.txt'), 'saved.txt visible in the merged view');
    assert.ok(!after.some((r) => r.path === 'root/example'), 'root/example was removed by layer 9');
    assert.ok(after.some((r) => r.path === 'bin' && r.badges.length === 0), 'unchanged lower entries have no badge');
    await clickLayer(x.page, 8);
    const at8 = await visibleRows(x.page);
    assert.ok(at8.some((r) => r.path === 'root/example'), 'root/example still exists at layer 8');
  });

  it('range view A..B shows what changed across those layers', async () => {
    await x.page.selectOption('select.mode', 'range');
    await clickLayer(x.page, 9);
    await x.page.selectOption('select.range-start', '5');
    await settle(x.page);
    const rows = await visibleRows(x.page);
    const paths = rows.map((r) => r.path);
    assert.ok(paths.includes('root'), JSON.stringify(paths));
    assert.ok(!paths.includes('bin'), 'layers below the range are not listed');
    const example = rows.find((r) => r.path === 'root/example');
    assert.deepEqual(example?.badges, ['whiteout'], 'root/example was deleted within 5..9');
    const breadcrumb = await x.page.textContent('.breadcrumb');
    assert.match(breadcrumb ?? '', /range 5\.\.9/);
  });

  it('filters by glob, by kind, by wasted and by minimum size', async () => {
    await x.page.selectOption('select.mode', 'merged');
    await clickLayer(x.page, 13);
    await x.page.fill('input.filter', '*.txt');
    await x.page.waitForTimeout(300);
    await settle(x.page);
    await x.page.click('button[title="Expand all"]');
    await settle(x.page);
    let rows = await visibleRows(x.page);
    const files = rows.filter((r) => !r.title.split('\n')[1]!.startsWith('d'));
    assert.ok(files.length >= 3, JSON.stringify(rows.map((r) => r.path)));
    for (const f of files) assert.match(f.name, /\.txt$/);
    assert.ok(rows.some((r) => r.path === 'root/saved.txt'));

    await x.page.fill('input.filter', '');
    await x.page.waitForTimeout(300);
    await settle(x.page);
    // Only "modified" (the other kinds off) in this layer's changes: layer 13 chmod'ed root/saved.txt.
    await x.page.selectOption('select.mode', 'layer');
    await settle(x.page);
    for (const k of ['added', 'deleted', 'opaque']) await x.page.uncheck(`.kinds input[data-kind="${k}"]`);
    await settle(x.page);
    rows = await visibleRows(x.page);
    assert.ok(rows.length > 0);
    for (const r of rows) assert.equal(r.badges[0], 'modified', r.path);
    for (const k of ['added', 'deleted', 'opaque']) await x.page.check(`.kinds input[data-kind="${k}"]`);

    // Only wasted, merged at layer 9: nothing of root/example is left to show, but layer 3's copy is wasted.
    await x.page.selectOption('select.mode', 'layer');
    await clickLayer(x.page, 3);
    await x.page.check('input.wasted-only');
    await settle(x.page);
    await x.page.click('button[title="Expand all"]');
    await settle(x.page);
    rows = await visibleRows(x.page);
    assert.ok(rows.some((r) => r.path === 'root/example/somefile1.txt' && r.badges.includes('wasted')), JSON.stringify(rows));
    await x.page.uncheck('input.wasted-only');
    await settle(x.page);

    // Min size: in layer 0 only entries ≥ 100 kB remain.
    await clickLayer(x.page, 0);
    await x.page.fill('input.min-size', '100kB');
    await x.page.press('input.min-size', 'Enter');
    await settle(x.page);
    rows = await visibleRows(x.page);
    assert.ok(rows.length > 0 && rows.length < 10, JSON.stringify(rows.map((r) => r.path)));
    for (const r of rows) assert.match(r.size, /kB|MB/);
    await x.page.fill('input.min-size', '');
    await x.page.press('input.min-size', 'Enter');
    await settle(x.page);
  });

  it('sorts by size (largest first)', async () => {
    await x.page.selectOption('select.mode', 'merged');
    await clickLayer(x.page, 13);
    await x.page.selectOption('select.sort', 'size');
    await settle(x.page);
    const sizes = await x.page.$$eval('.tree .row', (rows) => rows.map((r) => (r as HTMLElement).title.split('\n')[1] ?? ''));
    const bytes = (await visibleRows(x.page)).map((r) => r.size);
    assert.ok(bytes.length > 3, JSON.stringify(sizes));
    assert.match(bytes[0]!, /MB|kB/);
    await x.page.selectOption('select.sort', 'name');
    await settle(x.page);
  });

  it('navigates with the keyboard: arrows, Right to expand, Enter to preview, type-to-find', async () => {
    await x.page.selectOption('select.mode', 'merged');
    await clickLayer(x.page, 13);
    await x.page.click('button[title="Collapse all"]');
    await settle(x.page);
    await x.page.focus('.tree');
    await x.page.keyboard.press('Home');
    await x.page.keyboard.type('ro');
    await settle(x.page);
    let sel = (await visibleRows(x.page)).find((r) => r.selected);
    assert.equal(sel?.path, 'root');
    await x.page.keyboard.press('ArrowRight');
    await settle(x.page);
    await x.page.keyboard.press('ArrowDown');
    await settle(x.page);
    sel = (await visibleRows(x.page)).find((r) => r.selected);
    assert.ok(sel?.path.startsWith('root/'), sel?.path);
    await x.page.waitForTimeout(900);
    await x.page.keyboard.type('saved.txt');
    await settle(x.page);
    sel = (await visibleRows(x.page)).find((r) => r.selected);
    assert.equal(sel?.path, 'root/saved.txt');
    assert.match(await x.page.textContent('.breadcrumb') ?? '', /root\/saved\.txt/);
    await x.page.keyboard.press('Enter');
    await x.page.waitForFunction(() => !document.querySelector('.preview')?.hasAttribute('hidden') && !/Loading/.test(document.querySelector('.preview-body')?.textContent ?? ''));
    const text = await x.page.textContent('.preview-body');
    assert.ok(text && text.length > 100, text ?? '');
    // Modified in layer 13 (chmod): "compare with previous version" asks the host for a diff of layer 13 vs 12.
    await x.page.click('.preview-head button:has-text("Compare")');
    await x.page.waitForTimeout(200);
    assert.deepEqual(x.compares.at(-1), { layer: 13, path: 'root/saved.txt' });
    await x.page.keyboard.press('ArrowLeft');
    await x.page.focus('.tree');
    await x.page.keyboard.press('ArrowLeft');
    await settle(x.page);
    sel = (await visibleRows(x.page)).find((r) => r.selected);
    assert.equal(sel?.path, 'root', 'Left goes to the parent directory');
  });

  it('a double-click opens a file even when the list re-renders between the press and release of its second click', async () => {
    // Every click selects a row and re-renders the list on the next frame. A render that took the rows out of the
    // document and put them back, even the unchanged ones, made Chromium drop the click whose press landed before it
    // and whose release after it — no click, no double-click, the file did not open (a CI run saw this as a timeout).
    // Here the list is asked to render (a scroll event) when the second press lands, and renders before the release.
    await x.page.click('.preview-head button[title="Close preview"]').catch(() => undefined);
    await x.page.focus('.tree');
    // a regular file's row (its type icon is `codicon-file`) that is not selected yet
    const file = await x.page.$$eval('.tree .row:not(.selected)', (rows) => rows
      .find((r) => r.querySelector('.type.codicon-file') && (r as HTMLElement).dataset.path?.includes('/'))?.getAttribute('data-path') ?? null);
    assert.ok(file, 'a file row to open');
    const box = (await x.page.locator(`.tree .row[data-path="${file}"]`).boundingBox())!;
    await x.page.evaluate(() => {
      const onPress = (e: MouseEvent) => {
        if (e.detail !== 2) return;
        document.removeEventListener('mousedown', onPress, true);
        document.querySelector('.tree')!.dispatchEvent(new Event('scroll'));
      };
      document.addEventListener('mousedown', onPress, true);
    });
    await x.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await x.page.mouse.down();
    await x.page.mouse.up();
    await x.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await x.page.mouse.down({ clickCount: 2 });
    await x.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await x.page.mouse.up({ clickCount: 2 });
    await x.page.waitForFunction((p) => document.querySelector('.preview-path')?.textContent === p
      && !document.querySelector('.preview')?.hasAttribute('hidden'), file, { timeout: 5_000 });
  });

  it('summary tab: size, efficiency, wasted bytes, top wasted files with the layers that wrote/hid them', async () => {
    await x.page.click('button[data-tab="summary"]');
    await x.page.waitForSelector('table.wasted');
    const stats = await x.page.$$eval('.summary-pane dd', (d) => d.map((n) => n.textContent));
    assert.ok(stats.includes('98.5 %'), JSON.stringify(stats));
    assert.ok(stats.includes('32 kB'), JSON.stringify(stats));
    const first = await x.page.$$eval('table.wasted tr:nth-child(2) td', (t) => t.map((n) => n.textContent));
    assert.deepEqual(first, ['root/example/somefile1.txt', '13 kB', '#3, #4', '#9', 'deleted']);
  });

  it('config tab: env, cmd and the full history including empty-layer steps', async () => {
    await x.page.click('button[data-tab="config"]');
    await x.page.waitForSelector('table.history');
    const steps = await x.page.$$eval('table.history tr', (r) => r.length - 1);
    assert.equal(steps, x.archive.images[0]!.config.history.length);
    const empty = await x.page.$$eval('table.history tr.empty-step', (r) => r.length);
    assert.equal(empty, x.archive.images[0]!.config.history.filter((h) => h.emptyLayer).length);
    assert.ok(empty > 0);
    await x.page.click('button[data-tab="files"]');
  });

  it('keeps its state with setState (layer, mode, expanded dirs) and restores it in a new page', async () => {
    await x.page.selectOption('select.mode', 'layer');
    await clickLayer(x.page, 7);
    if (!(await visibleRows(x.page)).some((r) => r.path === 'root/example')) await expand(x, 'root');
    await x.page.waitForTimeout(300);
    const saved = await x.page.evaluate(() => (window as unknown as { __savedState: unknown }).__savedState) as { layer: number; mode: string; expanded: string[] };
    assert.equal(saved.layer, 7);
    assert.equal(saved.mode, 'layer');
    assert.ok(saved.expanded.includes('root'));
    const y = await openExplorerPage(browser, DIVE, { state: { ...saved, source: DIVE } });
    try {
      await settle(y.page);
      const sel = await y.page.$eval('.layer.selected', (n) => (n as HTMLElement).dataset.layer);
      assert.equal(sel, '7');
      const rows = await visibleRows(y.page);
      assert.ok(rows.some((r) => r.path === 'root/example'), 'root stays expanded after restore');
    } finally {
      await y.close();
    }
  });

  it('drops malformed host messages and never sends malformed ones', async () => {
    for (const bad of [null, 42, { type: 'image' }, { type: 'reply', id: 'x' }, { type: 'selectLayer', layer: -1 }, { type: 'evil', html: '<img src=x onerror=alert(1)>' }]) {
      await x.page.evaluate((m) => window.postMessage(m, '*'), bad as never);
    }
    await x.page.waitForTimeout(100);
    assert.equal(await x.page.$$eval('.layer', (r) => r.length), 14, 'the page still shows the image');
    assert.deepEqual(x.dropped, []);
  });

  it('the host can select a layer and reveal a path; the page reports what it shows', async () => {
    await x.post({ type: 'selectLayer', layer: 7, mode: 'layer', rangeStart: null, wastedOnly: false, reveal: 'root/example/somefile3.txt' });
    await x.page.waitForFunction(() => document.querySelector('.tree .row.selected')?.getAttribute('data-path') === 'root/example/somefile3.txt', undefined, { timeout: 10_000 });
    await x.page.waitForTimeout(400);
    const row = x.rendered?.find((r) => r.path === 'root/example/somefile3.txt');
    assert.deepEqual(row, { path: 'root/example/somefile3.txt', kind: 'deleted', badges: ['whiteout'] });
  });
});
