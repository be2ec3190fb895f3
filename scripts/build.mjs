// Bundles every process entry point with esbuild. One bundle per process:
// the extension host (client), the language server, the CLI and the webview.
// `--production` minifies (used by `npm run package`); sourcemaps always, for debugging.
import * as esbuild from 'esbuild';
import { rmSync, mkdirSync, cpSync, existsSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  target: 'node20',
  platform: 'node',
  format: 'cjs',
  legalComments: 'none',
};

const entries = [
  { ...common, entryPoints: { extension: 'client/src/extension.ts' }, outdir: 'dist', external: ['vscode'] },
  { ...common, entryPoints: { server: 'server/src/server.ts', cli: 'server/src/cli.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: { imageWorker: 'server/src/image/imageWorker.ts' }, outdir: 'dist' },
  { ...common, entryPoints: { webview: 'webview/src/main.ts' }, outdir: 'dist', platform: 'browser', format: 'iife', target: 'chrome114' },
].filter((e) => Object.values(e.entryPoints).every((p) => existsSync(p)));

// `--outdir=DIR`: scripts/package.mjs builds the minified bundles into a staging dir, leaving dist/ to the tests.
const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length) ?? 'dist';
for (const e of entries) e.outdir = outdir;

if (!watch) rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
if (existsSync('webview/src/main.css')) cpSync('webview/src/main.css', `${outdir}/webview.css`);
// The explorer webview may load only from dist/ and media/: ship the codicon font and css inside dist/.
for (const f of ['codicon.css', 'codicon.ttf']) cpSync(`node_modules/@vscode/codicons/dist/${f}`, `${outdir}/codicons/${f}`);

if (watch) {
  for (const e of entries) (await esbuild.context(e)).watch();
} else {
  await Promise.all(entries.map((e) => esbuild.build(e)));
}
