/**
 * Hostile and edge-case archives, built at test time: file names that are HTML/script, RTL overrides and 10 KB
 * names must render as inert text; opaque directories and whiteouts come from real fixture layers (regclient's
 * layer-wh.tar and trivy's walker test.tar) stacked on a generated base layer.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { CORPUS } from '../support/paths';
import { tarBuffer, writeDockerArchive } from './support/imageArchiveBuilder';
import { clickLayer, launchBrowser, openExplorerPage, settle, visibleRows, type ExplorerPage } from './support/explorerPage';

const IMG_NAME = '<img src=x onerror="window.__pwned=1">';
// Tar names cannot hold '/', so the script/iframe payloads are unterminated — still HTML if ever parsed as such.
const SCRIPT_NAME = '"><script>window.__pwned=2';
const IFRAME_NAME = '<iframe srcdoc="x" onload="window.__pwned=6">';
const RTL_NAME = 'invoice\u202Egpj.exe';
const LONG_NAME = 'L'.repeat(10 * 1024);
const SVG_TARGET = '<svg onload="window.__pwned=3">';
const HOSTILE_TEXT = '<script>window.__pwned=4</script><b>bold?</b>';
const HOSTILE_CMD = 'RUN echo "<img src=x onerror=window.__pwned=5>"';

describe('hostile archive renders inertly', () => {
  let browser: Browser;
  let x: ExplorerPage;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-hostile-'));
    const base = await tarBuffer([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      { name: 'etc/hosts', content: '127.0.0.1 localhost\n' },
      { name: 'exdir/', type: 'directory' },
      { name: 'exdir/old.txt', content: 'old\n' },
      { name: 'foo/', type: 'directory' },
      { name: 'foo/foo', content: 'foo\n' },
      { name: 'layer2.txt', content: 'l2\n' },
      { name: 'h/', type: 'directory' },
      { name: `h/${IMG_NAME}`, content: HOSTILE_TEXT },
      { name: `h/${SCRIPT_NAME}`, content: 'x' },
      { name: `h/${RTL_NAME}`, content: 'x' },
      { name: `h/${IFRAME_NAME}`, content: 'x' },
      { name: `h/${LONG_NAME}`, content: 'x' },
      { name: 'h/link', type: 'symlink', linkname: SVG_TARGET },
    ]);
    const regclient = readFileSync(path.join(CORPUS, 'images/regclient__regclient/testdata__layer-wh.tar'));
    const trivy = readFileSync(path.join(CORPUS, 'images/aquasecurity__trivy/pkg__fanal__walker__testdata__test.tar'));
    const file = await writeDockerArchive(path.join(dir, 'hostile.tar'), [
      { tar: base, createdBy: HOSTILE_CMD },
      { tar: regclient, createdBy: 'COPY layer-wh / # regclient testdata' },
      { tar: trivy, createdBy: 'COPY test / # trivy walker testdata' },
    ], { env: [`EVIL=${IMG_NAME}`], labels: { [SCRIPT_NAME]: SVG_TARGET }, emptySteps: ['CMD ["/bin/sh"]'] });
    browser = await launchBrowser();
    // No CSP here on purpose: if any name reached the page as HTML, its handler would really run.
    x = await openExplorerPage(browser, file, { csp: false });
    await settle(x.page);
  });
  after(async () => {
    await x?.close();
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows HTML-like, RTL and 10 KB names as text, with no elements or handlers created from them', async () => {
    await x.page.click('.tree .row[data-path="h"] .twistie');
    await settle(x.page);
    const rows = await visibleRows(x.page);
    const names = rows.map((r) => r.name);
    for (const n of [IMG_NAME, SCRIPT_NAME, IFRAME_NAME, RTL_NAME, LONG_NAME]) assert.ok(names.includes(n), `missing ${n.slice(0, 40)}`);
    const link = await x.page.$eval('.row[data-path="h/link"] .link', (n) => n.textContent);
    assert.equal(link, `→ ${SVG_TARGET}`);
    assert.equal(await x.page.$$eval('#app img, #app script, #app svg, #app b, #app iframe', (n) => n.length), 0);
    // Rows keep their height; a 10 KB name is clipped, not wrapped or overflowing the tree.
    const heights = await x.page.$$eval('.tree .row', (r) => r.map((n) => n.getBoundingClientRect().height));
    assert.ok(heights.every((h) => h === 22), JSON.stringify(heights));
    const treeWidth = await x.page.$eval('.tree', (t) => t.scrollWidth <= t.clientWidth + 1);
    assert.ok(treeWidth, 'the long name widens the tree');
    // The RTL override is isolated in its own bidi context.
    const bidi = await x.page.$eval('.row .name', (n) => getComputedStyle(n).unicodeBidi);
    assert.equal(bidi, 'isolate');
  });

  it('previews hostile file contents as plain text', async () => {
    await x.page.dblclick(`.row[data-path="h/${IMG_NAME.replace(/"/g, '\\"')}"]`);
    await x.page.waitForFunction(() => /window/.test(document.querySelector('.preview-body')?.textContent ?? ''));
    assert.equal(await x.page.textContent('.preview-body'), HOSTILE_TEXT);
    assert.equal(await x.page.$$eval('.preview b, .preview script', (n) => n.length), 0);
  });

  it('shows hostile commands, env and labels as text in the layer list and config tab', async () => {
    const cmd = await x.page.$eval('.layer[data-layer="0"] .l-cmd', (n) => n.textContent);
    assert.equal(cmd, HOSTILE_CMD);
    await x.page.click('button[data-tab="config"]');
    await x.page.waitForSelector('table.history');
    const env = await x.page.$$eval('ul.env li', (l) => l.map((n) => n.textContent));
    assert.ok(env.includes(`EVIL=${IMG_NAME}`));
    const labels = await x.page.$$eval('ul.labels li', (l) => l.map((n) => n.textContent));
    assert.deepEqual(labels, [`${SCRIPT_NAME}=${SVG_TARGET}`]);
    assert.equal(await x.page.$$eval('#app img, #app script, #app svg', (n) => n.length), 0);
    await x.page.click('button[data-tab="files"]');
    await x.page.waitForTimeout(200);
    assert.equal(await x.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  });

  it('badges whiteouts and opaque directories from real fixture layers', async () => {
    await clickLayer(x.page, 1);
    let rows = await visibleRows(x.page);
    const wh = rows.find((r) => r.path === 'layer2.txt');
    assert.deepEqual(wh?.badges, ['whiteout']);
    assert.match(wh!.title, /\.wh\.layer2\.txt/);
    const ex = rows.find((r) => r.path === 'exdir');
    assert.ok(ex?.badges.includes('opaque'), JSON.stringify(ex));
    await clickLayer(x.page, 2);
    rows = await visibleRows(x.page);
    const etc = rows.find((r) => r.path === 'etc');
    assert.ok(etc?.badges.includes('opaque'), JSON.stringify(rows));
    await x.page.click('.tree .row[data-path="foo"] .twistie');
    await settle(x.page);
    rows = await visibleRows(x.page);
    assert.deepEqual(rows.find((r) => r.path === 'foo/foo')?.badges, ['whiteout']);
    // Merged at layer 2: the opaque etc/ hides passwd and hosts from layer 0.
    await x.page.selectOption('select.mode', 'merged');
    await settle(x.page);
    if (await x.page.$('.tree .row[data-path="etc"] .codicon-chevron-right')) {
      await x.page.click('.tree .row[data-path="etc"] .twistie');
      await settle(x.page);
    }
    rows = await visibleRows(x.page);
    assert.ok(!rows.some((r) => r.path === 'etc/passwd' || r.path === 'etc/hosts'), JSON.stringify(rows.map((r) => r.path)));
  });
});

describe('the production CSP', () => {
  it('loads the bundle, styles and codicon font without any CSP violation', async () => {
    const browser = await launchBrowser();
    const x = await openExplorerPage(browser, path.join(CORPUS, 'images/wagoodman__dive/.data__test-docker-image.tar'));
    try {
      await settle(x.page);
      assert.ok((await visibleRows(x.page)).length > 0);
      await x.page.evaluate(() => document.fonts.ready);
      const violations = await x.page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
      assert.deepEqual(violations, []);
      const codicon = await x.page.evaluate(() => {
        const faces: FontFace[] = [];
        document.fonts.forEach((f) => { faces.push(f); });
        return faces.some((f) => f.family.replace(/"/g, '') === 'codicon' && f.status === 'loaded');
      });
      assert.ok(codicon, 'codicon font loaded');
      // An inline script without the nonce is refused.
      await x.page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.body.append(s);
      });
      assert.equal(await x.page.evaluate(() => (window as unknown as { __inline?: number }).__inline), undefined);
    } finally {
      await x.close();
      await browser.close();
    }
  });
});
