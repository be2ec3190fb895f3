/**
 * Webview entry: bundled to dist/webview.js (an IIFE loaded with the page's CSP nonce). Everything the page shows
 * comes from typed, validated host messages; see explorerApp.ts.
 */
import { ExplorerApp } from './explorerApp';
import type { HostApi } from './rpc';

declare function acquireVsCodeApi(): HostApi;

const root = document.getElementById('app');
if (root) {
  const app = new ExplorerApp(acquireVsCodeApi(), root);
  // Tests and the benchmark look at the app through this handle (it holds nothing secret).
  (window as unknown as { strataExplorer: ExplorerApp }).strataExplorer = app;
}
