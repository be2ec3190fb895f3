// Bundles every process entry point with esbuild. One bundle per process:
// the extension host (client), the language server, the CLI and the webview.
// `--production` minifies (used by `npm run package`); sourcemaps always, for debugging.
import * as esbuild from 'esbuild';
import { rmSync, mkdirSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

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
// The explorer webview loads only from dist/ (and media/): ship codicons as dist/codicon.css with the font inlined,
// so the package's dist/*.css allow-list covers it and no node_modules path is exposed to the webview.
{
  const dir = 'node_modules/@vscode/codicons/dist';
  const font = readFileSync(`${dir}/codicon.ttf`).toString('base64');
  const css = readFileSync(`${dir}/codicon.css`, 'utf8').replace(/url\("\.\/codicon\.ttf[^"]*"\)/, `url("data:font/truetype;base64,${font}")`);
  writeFileSync(`${outdir}/codicon.css`, css);
}

if (watch) {
  for (const e of entries) (await esbuild.context(e)).watch();
} else {
  await Promise.all(entries.map((e) => esbuild.build(e)));
}
