// `npm run bench`: runs every bench/*.bench.ts (bundled with esbuild) in turn. Each prints its own figures as ratios
// against a baseline measured in the same run. `npm run bench -- image lsp` runs only those whose name contains a word.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);
const filter = process.argv.slice(2);
if (!existsSync('dist/server.js')) spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
const benches = readdirSync('bench').filter((f) => f.endsWith('.bench.ts')).filter((f) => filter.length === 0 || filter.some((w) => f.includes(w)));
await esbuild.build({
  entryPoints: benches.map((b) => path.join('bench', b)),
  outdir: 'out/bench', bundle: true, packages: 'external', platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning',
});
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b} ===`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join('out/bench', b.replace(/\.ts$/, '.js'))], { stdio: 'inherit', env: { ...process.env, STRATA_ROOT: root } });
  if (r.status !== 0) { failed++; console.log(`${b} failed (exit ${r.status})`); }
}
process.exit(failed ? 1 : 0);
