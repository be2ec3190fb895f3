/**
 * Layer explorer in real Chromium: first paint of a 100,000-entry directory after its first page of data arrived,
 * and frame times while scrolling through it. Baselines measured in the same run and page: first paint of a
 * 10-entry directory, and the frame interval of the idle page.
 *
 *   npm run bench -- webview          (STRATA_BENCH_ENTRIES=20000 for a quicker run)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { writeWideArchive } from '../test/webview/support/imageArchiveBuilder';
import { launchBrowser, openExplorerPage, settle } from '../test/webview/support/explorerPage';

const ENTRIES = Number(process.env.STRATA_BENCH_ENTRIES ?? 100_000);
const RUNS = 7;

/** Time from the first list reply after a view change to the end of the frame that painted it (ms). */
async function firstPaint(page: Page, layer: number, otherLayer: number, dir: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await page.click(`.layer[data-layer="${otherLayer}"]`);
    await settle(page);
    await page.evaluate(() => { (window as unknown as { __replies: number[] }).__replies = []; });
    await page.click(`.layer[data-layer="${layer}"]`);
    await settle(page);
    if (!(await page.$(`.tree .row[data-path^="${dir}/"]`))) {
      await page.evaluate(() => { (window as unknown as { __replies: number[] }).__replies = []; });
      await page.click(`.tree .row[data-path="${dir}"] .twistie`);
      await settle(page);
    }
    const t = await page.evaluate(() => {
      const w = window as unknown as { __replies: number[]; __paints: number[]; strataExplorer: { tree: { firstPaintAt: number } } };
      // From the reply that carried the data to the first frame after the render that used it.
      const rendered = w.strataExplorer.tree.firstPaintAt;
      const reply = w.__replies.filter((r) => r <= rendered).at(-1)!;
      const paint = w.__paints.find((p) => p >= rendered)!;
      return paint - reply;
    });
    times.push(t);
  }
  return median(times);
}

async function scrollFrames(page: Page, scroll: boolean): Promise<{ p50: number; p95: number; render: number }> {
  const { out: frames, render } = await page.evaluate(async (doScroll) => {
    const tree = document.querySelector('.tree') as HTMLElement;
    const ft = (window as unknown as { strataExplorer: { tree: { render(): void } } }).strataExplorer.tree;
    const orig = ft.render.bind(ft);
    let renderMs = 0;
    ft.render = () => { const t0 = performance.now(); orig(); renderMs = Math.max(renderMs, performance.now() - t0); };
    const out: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 120; i++) {
      if (doScroll) tree.scrollTop += 37 * 22;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      out.push(now - last);
      last = now;
    }
    ft.render = orig;
    return { out, render: renderMs };
  }, scroll);
  frames.sort((a, b) => a - b);
  return { p50: frames[Math.floor(frames.length / 2)]!, p95: frames[Math.floor(frames.length * 0.95)]!, render };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-bench-webview-'));
  const browser = await launchBrowser();
  try {
    const file = await writeWideArchive(path.join(dir, 'wide.tar'), ENTRIES);
    const x = await openExplorerPage(browser, file, { viewport: { width: 1200, height: 800 } });
    // Timestamps of list replies arriving and of frames, recorded by the page itself.
    await x.page.evaluate(() => {
      const w = window as unknown as { __replies: number[]; __paints: number[] };
      w.__replies = [];
      w.__paints = [];
      window.addEventListener('message', (e) => { if ((e.data as { type?: string })?.type === 'reply') w.__replies.push(performance.now()); }, true);
      const tick = () => { w.__paints.push(performance.now()); requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    });
    await settle(x.page);
    // The wide directory expanded once; the view state keeps it expanded across layer switches.
    await x.page.click('.tree .row[data-path="wide"] .twistie');
    await settle(x.page);
    const small = await firstPaint(x.page, 1, 0, 'small');
    const big = await firstPaint(x.page, 0, 1, 'wide');
    const idle = await scrollFrames(x.page, false);
    const scrolling = await scrollFrames(x.page, true);
    const domRows = await x.page.$$eval('.tree .row', (r) => r.length);
    console.log(`first paint, ${ENTRIES} entries: ${big.toFixed(1)} ms after data ready (median of ${RUNS}); 10 entries: ${small.toFixed(1)} ms → ratio ${(big / Math.max(small, 0.1)).toFixed(2)}× (budget 200 ms)`);
    console.log(`scroll frame time p50 ${scrolling.p50.toFixed(1)} ms, p95 ${scrolling.p95.toFixed(1)} ms; idle frame p50 ${idle.p50.toFixed(1)} ms → ratio p50 ${(scrolling.p50 / idle.p50).toFixed(2)}×, p95 ${(scrolling.p95 / idle.p95).toFixed(2)}×; slowest render ${scrolling.render.toFixed(1)} ms`);
    console.log(`rows in the DOM: ${domRows}`);
    await x.close();
    if (big > 200) process.exitCode = 1;
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
