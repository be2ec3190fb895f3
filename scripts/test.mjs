// `npm test`: builds, compiles the tests, starts what the tests need (a Docker engine, when Debian's docker.io is
// installed), runs every suite and prints one closing line `tests: N passed, N failed`.
//
//   node scripts/test.mjs            all suites
//   node scripts/test.mjs unit       only test/server + test/cli (no engine, browser or VS Code)
//   node scripts/test.mjs fuzz       the long fuzz runs (STRATA_FUZZ_SCALE=10)
//   node scripts/test.mjs <group>…   any of: server cli lsp fuzz engine webview inhost
//
// Suites are folders under test/ that mirror the source tree. In CI (CI=true) a missing prerequisite (no engine,
// no chromium, no code-server) is a failure, not a skip.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);
const argv = process.argv.slice(2);
const ALL = ['server', 'cli', 'lsp', 'fuzz', 'engine', 'webview', 'inhost'];
let groups = argv.length === 0 ? ALL : argv.flatMap((a) => (a === 'unit' ? ['server', 'cli'] : [a]));
if (argv.includes('fuzz') && argv.length === 1) process.env.STRATA_FUZZ_SCALE ??= '10';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

// 1. Bundles (the LSP, CLI, engine and in-host suites test what users run: dist/).
run(process.execPath, ['scripts/build.mjs']);

// 2. Tests: each test file bundled on its own (npm packages stay external), so they import source by relative path.
rmSync('out/test', { recursive: true, force: true });
const testSources = walk('test').filter((f) => /\.test\.ts$|[\\/]inhost[\\/].*\.ts$|[\\/]support[\\/].*\.ts$/.test(f));
await esbuild.build({
  entryPoints: testSources,
  outdir: 'out/test',
  outbase: 'test',
  bundle: true,
  packages: 'external',
  external: ['vscode'],
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
});

let passed = 0;
let failed = 0;
let cleanup = [];

// 3. Prerequisites per group.
const needEngine = groups.includes('engine');
if (needEngine && existsSync('test/support/engineHarness.mjs')) {
  const { startEngine } = await import(path.join(root, 'test/support/engineHarness.mjs'));
  try {
    const engine = await startEngine();
    if (engine) {
      Object.assign(process.env, engine.env);
      cleanup.push(engine.stop);
    }
  } catch (e) {
    console.error(`engine: ${e.message}`);
    if (process.env.CI) { failed++; }
  }
}

// 4. node:test suites.
const nodeGroups = groups.filter((g) => g !== 'inhost');
const files = nodeGroups.flatMap((g) => walk(path.join('out/test', g)).filter((f) => f.endsWith('.test.js')));
if (files.length > 0) {
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', ...files], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, STRATA_ROOT: root },
    });
    let tail = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      tail = (tail + d.toString()).slice(-4000);
    });
    child.on('close', (c) => {
      const num = (label) => Number((tail.match(new RegExp(`ℹ ${label} (\\d+)`)) ?? [])[1] ?? 0);
      passed += num('pass');
      failed += num('fail') + num('cancelled');
      resolve(c);
    });
  });
  if (code !== 0 && failed === 0) failed++;
}

// 5. In-host suite in a real VS Code (code-server + Chromium here; @vscode/test-electron where VS Code downloads).
if (groups.includes('inhost') && existsSync('test/support/runInHost.mjs')) {
  const { runInHost } = await import(path.join(root, 'test/support/runInHost.mjs'));
  try {
    const r = await runInHost({ root });
    passed += r.passed;
    failed += r.failed;
  } catch (e) {
    console.error(`in-host tests: ${e.message}`);
    failed++;
  }
}

for (const stop of cleanup.reverse()) {
  try { await stop(); } catch { /* best effort */ }
}
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
