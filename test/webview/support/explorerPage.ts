/**
 * Loads the built webview (dist/webview.js + css) into real headless Chromium with a stub `acquireVsCodeApi`, and
 * answers the page's requests from a real archive through the real server-side `ImageSessions` (the same code the
 * language server runs). The relay mirrors client/src/explorer/layerExplorerPanel.ts: validate, dispatch, reply.
 */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openImage } from '../../../server/src/image/imageReader';
import type { ArchiveInfo } from '../../../server/src/image/imageModel';
import { ImageSessions } from '../../../server/src/lsp/imageRequests';
import {
  parseWebviewMessage, PREVIEW_MAX_BYTES, type ExplorerState, type HostMessage, type ListParams,
} from '../../../server/src/protocol/webviewMessages';
import { DIST } from '../../support/paths';

export const CHROMIUM = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}

export interface ExplorerPage {
  page: Page;
  archive: ArchiveInfo;
  /** Messages from the page that failed validation (and were dropped). */
  dropped: unknown[];
  /** Requests the page made, by method. */
  requests: Array<{ method: string; params: unknown }>;
  /** `compare` requests the page made (the real host opens a VS Code diff). */
  compares: unknown[];
  /** The last `rendered` report from the page. */
  rendered: Array<{ path: string; kind: string; badges: string[] }> | null;
  /** Largest number of entries sent in one reply. */
  maxEntriesPerReply: number;
  post(m: HostMessage): Promise<void>;
  close(): Promise<void>;
}

export interface PageOptions {
  /** Apply the production CSP (default true). The XSS test turns it off so that any HTML injection would run. */
  csp?: boolean;
  restore?: ExplorerState | null;
  state?: unknown;
  viewport?: { width: number; height: number };
}

let counter = 0;

/** A few of the variables VS Code sets on a webview (Dark Modern), so screenshots look like the real thing. */
const THEME = [
  '--vscode-font-family: system-ui, sans-serif', '--vscode-font-size: 13px', '--vscode-editor-font-family: monospace',
  '--vscode-foreground: #cccccc', '--vscode-editor-background: #1f1f1f', '--vscode-panel-border: #2b2b2b',
  '--vscode-list-hoverBackground: #2a2d2e', '--vscode-list-activeSelectionBackground: #04395e',
  '--vscode-list-activeSelectionForeground: #ffffff', '--vscode-list-inactiveSelectionBackground: #37373d',
  '--vscode-input-background: #313131', '--vscode-input-foreground: #cccccc', '--vscode-dropdown-background: #313131',
  '--vscode-dropdown-foreground: #cccccc', '--vscode-focusBorder: #0078d4', '--vscode-textCodeBlock-background: #2b2b2b',
].join('; ');

export async function openExplorerPage(browser: Browser, archivePath: string, options: PageOptions = {}): Promise<ExplorerPage> {
  if (!existsSync(path.join(DIST, 'webview.js'))) throw new Error('dist/webview.js missing: run node scripts/build.mjs');
  const sessions = new ImageSessions(openImage, () => { throw new Error('no engine in webview tests'); });
  const handle = `h${++counter}`;
  let finished!: () => void;
  const done = new Promise<void>((r) => { finished = r; });
  const { archive } = await sessions.open({ handle, path: archivePath }, (p) => { if (p.status === 'done' || p.status === 'failed') finished(); });
  await done;

  const dir = mkdtempSync(path.join(tmpdir(), 'strata-webview-'));
  const nonce = Buffer.from(`${Math.random()}`).toString('base64');
  const dist = pathToFileURL(DIST).href;
  const csp = options.csp === false ? '' : `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src file:; font-src file: data:; img-src file:; script-src 'nonce-${nonce}'">`;
  // The stub host API: postMessage goes to Node through a binding; state is kept in the page like VS Code does.
  writeFileSync(path.join(dir, 'theme.css'), `html { ${THEME}; }\n`);
  writeFileSync(path.join(dir, 'index.html'), `<!DOCTYPE html><html><head><meta charset="UTF-8">${csp}
<link rel="stylesheet" href="theme.css"><link rel="stylesheet" href="${dist}/codicon.css"><link rel="stylesheet" href="${dist}/webview.css"></head>
<body><div id="app"></div>
<script nonce="${nonce}">
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
  let state = ${JSON.stringify(options.state ?? null)};
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__strataHost(m),
    getState: () => state,
    setState: (s) => { state = s; window.__savedState = s; },
  });
</script>
<script nonce="${nonce}" src="${dist}/webview.js"></script></body></html>`);

  const page = await browser.newPage({ viewport: options.viewport ?? { width: 1200, height: 800 } });
  const result: ExplorerPage = {
    page, archive, dropped: [], requests: [], compares: [], maxEntriesPerReply: 0, rendered: null,
    post: (m) => page.evaluate((msg) => window.postMessage(msg, '*'), m as unknown as Record<string, unknown>),
    close: async () => {
      await page.close();
      await sessions.closeAll();
    },
  };
  await page.exposeFunction('__strataHost', async (raw: unknown) => {
    const m = parseWebviewMessage(raw);
    if (!m) {
      result.dropped.push(raw);
      return;
    }
    if (m.type === 'ready') {
      await result.post({ type: 'image', source: archivePath, title: path.basename(archivePath), image: 0, archive, status: 'done', error: null, restore: options.restore ?? null });
      return;
    }
    if (m.type === 'rendered') result.rendered = m.rows;
    if (m.type !== 'request') return;
    result.requests.push({ method: m.method, params: m.params });
    let reply: HostMessage;
    try {
      let value: unknown;
      if (m.method === 'list') {
        const page = sessions.list({ ...(m.params as ListParams), handle, image: 0 });
        result.maxEntriesPerReply = Math.max(result.maxEntriesPerReply, page.entries.length);
        value = page;
      } else if (m.method === 'readFile') {
        const p = m.params as { layer: number; path: string };
        value = await sessions.readFile({ handle, image: 0, layer: p.layer, path: p.path, mode: 'merged', maxBytes: PREVIEW_MAX_BYTES });
      } else if (m.method === 'summary') value = sessions.summary({ handle, image: 0, topWasted: 50 });
      else {
        result.compares.push(m.params);
        value = { opened: true, message: null };
      }
      reply = { type: 'reply', id: m.id, ok: true, result: value };
    } catch (e) {
      reply = { type: 'reply', id: m.id, ok: false, error: (e as Error).message };
    }
    await result.post(reply).catch(() => undefined);
  });
  await page.goto(pathToFileURL(path.join(dir, 'index.html')).href);
  return result;
}

/** The visible tree rows as the user sees them: name, badge texts, classes. */
export interface VisibleRow { name: string; path: string; badges: string[]; classes: string[]; size: string; title: string; selected: boolean }

export function visibleRows(page: Page): Promise<VisibleRow[]> {
  return page.$$eval('.tree .row', (rows) => {
    const tree = document.querySelector('.tree')!.getBoundingClientRect();
    return rows
      .filter((r) => {
        const b = r.getBoundingClientRect();
        return b.bottom > tree.top && b.top < tree.bottom;
      })
      .map((r) => ({
        name: r.querySelector('.name')?.textContent ?? '',
        path: (r as HTMLElement).dataset.path ?? '',
        badges: Array.from(r.querySelectorAll('.badge'), (b) => b.textContent ?? ''),
        classes: Array.from(r.classList),
        size: r.querySelector('.size')?.textContent ?? '',
        title: (r as HTMLElement).title,
        selected: r.classList.contains('selected'),
      }));
  });
}

/** Waits until the tree has painted rows and no request is outstanding for a moment. */
export async function settle(page: Page): Promise<void> {
  await page.waitForSelector('.tree[aria-busy="false"]', { state: 'attached', timeout: 10_000 });
  await page.waitForFunction(() => !document.querySelector('.tree .row.placeholder'), undefined, { timeout: 10_000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

export async function clickLayer(page: Page, index: number): Promise<void> {
  await page.click(`.layer[data-layer="${index}"]`);
  await settle(page);
}
