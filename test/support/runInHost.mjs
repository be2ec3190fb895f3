// In-host tests in a real VS Code on machines where VS Code cannot be downloaded: code-server (VS Code in the browser,
// from npm) driven by Debian's headless Chromium through playwright-core. Two phases:
//
//  1. The mocha suite in test/inhost/ (compiled to out/test/inhost/ by scripts/test.mjs) runs inside the extension
//     host with this checkout loaded as the development extension (workbench URL `payload` parameters). The test index
//     prints `STRATA_INHOST {json}` lines; the extension host's console reaches the page console, where we read them.
//  2. The packaged strata.vsix is installed with `code-server --install-extension` into a fresh extensions dir and
//     checked from the UI, like a user would: open a Dockerfile, see Strata's diagnostic in the Problems panel, open
//     the Strata view from the activity bar. Screenshots of each step go to out/inhost-screenshots/.
//
// Everything runs in temp dirs on a free loopback port; the browser and code-server's process group are always killed.
//
//   node scripts/test.mjs inhost                     (builds, compiles the tests, then calls runInHost)
//   STRATA_INHOST_GREP='crash' node scripts/test.mjs inhost
//   STRATA_CODE_SERVER=/path/to/code-server …        (else .ci/install-code-server.sh finds or installs it)
//   STRATA_INHOST_SKIP_VSIX=1 …                      (phase 1 only, while writing in-host tests)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, createWriteStream, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const PREFIX = 'STRATA_INHOST ';
const CHROMIUM = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  // Without this Chromium refuses the workbench's requests for the development extension on the loopback address.
  '--disable-features=LocalNetworkAccessChecks',
];

// Opened in the packaged-extension check; shows the grammar (directive, flags, substitution, heredoc, exec form) and
// one Strata diagnostic (the unknown instruction FOO) in the screenshots.
const SHOWCASE_DOCKERFILE = `# syntax=docker/dockerfile:1
FROM busybox:1 AS build
ARG VERSION=1.0
RUN --mount=type=cache,target=/root/.cache \\
    echo "building \${VERSION:-dev}" > /version
RUN <<EOF
set -e
echo "a heredoc body: $HOME"
EOF
FOO bar

FROM busybox:1
COPY --from=build --chmod=755 /version /app/version
CMD ["cat", "/app/version"]
`;

/** @returns {Promise<{passed: number, failed: number}>} */
export async function runInHost({ root, index = path.join(root, 'out/test/inhost/index.js'), log = (s) => console.log(s) }) {
  const codeServer = findCodeServer(root, log);
  if (!existsSync(index)) throw new Error(`${index} is missing: run through \`node scripts/test.mjs inhost\`, which compiles it`);
  const { chromium } = await import('playwright-core');
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install chromium)`);

  const counts = { passed: 0, failed: 0 };
  const shots = path.join(root, 'out/inhost-screenshots');
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  try {
    await phaseInHostSuite({ root, codeServer, browser, index, counts, log, shots });
    if (process.env.STRATA_INHOST_SKIP_VSIX) log('in-host: vsix check skipped (STRATA_INHOST_SKIP_VSIX is set)');
    else await phaseVsix({ root, codeServer, browser, counts, log, shots });
  } finally {
    await browser.close().catch(() => {});
  }
  log(`in-host: ${counts.passed} passed, ${counts.failed} failed`);
  return counts;
}

function findCodeServer(root, log) {
  if (process.env.STRATA_CODE_SERVER) return process.env.STRATA_CODE_SERVER;
  // Prints the cached binary at once; installs (a few minutes, once per machine) when the cache is empty.
  log('in-host: locating code-server (.ci/install-code-server.sh)');
  const r = spawnSync('bash', [path.join(root, '.ci/install-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const bin = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !bin || !existsSync(bin)) throw new Error(`code-server is not available (.ci/install-code-server.sh exited with ${r.status})`);
  return bin;
}

// ---------------------------------------------------------------------------------------------------------------
// Phase 1: the mocha suite inside the extension host.

async function phaseInHostSuite({ root, codeServer, browser, index, counts, log, shots }) {
  const timeoutMs = Number(process.env.STRATA_INHOST_TIMEOUT_MS ?? 300_000);
  const env = { STRATA_ROOT: root, ...(process.env.STRATA_INHOST_GREP ? { STRATA_INHOST_GREP: process.env.STRATA_INHOST_GREP } : {}) };
  const stage = await stageExtension(root, index);
  const server = await startCodeServer({ codeServer, env, log });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  let keepLog = true;
  try {
    const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(stage.extension)],
      ['extensionTestsPath', remote(stage.index.replace(/\.js$/, ''))],
    ]);
    const url = `${server.url}/?folder=${encodeURIComponent(server.workspace)}&payload=${encodeURIComponent(payload)}`;
    let done;
    const finished = new Promise((resolve) => { done = resolve; });
    const seen = { passed: 0, failed: 0 };
    page.on('console', (msg) => {
      const text = msg.text();
      const at = text.indexOf(PREFIX);
      if (at < 0) {
        if (process.env.STRATA_INHOST_VERBOSE) log(`  [page] ${text}`);
        return;
      }
      const ev = jsonAt(text, at + PREFIX.length);
      if (!ev) return;
      if (ev.event === 'pass') { seen.passed++; log(`  ✔ ${ev.title} (${ev.ms ?? 0} ms)`); }
      else if (ev.event === 'fail') { seen.failed++; log(`  ✖ ${ev.title}\n${indent(ev.error)}`); }
      else if (ev.event === 'end') done(ev);
    });
    page.on('pageerror', (e) => log(`  [page error] ${e.message}`));
    log(`in-host: suite in code-server ${server.version} (${server.url})`);
    await page.goto(url, { timeout: 60_000 });
    const end = await Promise.race([finished, sleep(timeoutMs).then(() => null)]);
    if (!end) {
      await page.screenshot({ path: path.join(shots, 'timeout.png') }).catch(() => {});
      log(`in-host: no result after ${timeoutMs / 1000} s (screenshot: out/inhost-screenshots/timeout.png; code-server log: ${server.logFile})`);
      counts.passed += seen.passed;
      counts.failed += seen.failed + 1;
      return;
    }
    if (end.error) log(`in-host: the test index failed: ${end.error}`);
    // Count what the index says (authoritative); the per-test lines are for the log.
    counts.passed += end.passed;
    counts.failed += end.failed;
    keepLog = end.failed > 0 || Boolean(end.error);
    if (end.passed + end.failed === 0 && !process.env.STRATA_INHOST_GREP) {
      log('in-host: the suite ran no tests');
      counts.failed++;
    }
  } finally {
    await page.close().catch(() => {});
    await server.stop({ keepLog });
    rmSync(stage.base, { recursive: true, force: true });
  }
}

/**
 * A private copy of the development extension (manifest, bundles, grammar, media) and of the compiled in-host suite:
 * other test runs in the same work tree rebuild dist/ and out/test/ at any time, which must not pull files from under
 * a running VS Code. node_modules is linked, so the suite resolves mocha and friends.
 */
async function stageExtension(root, index) {
  for (let i = 0; i < 60 && !existsSync(path.join(root, 'dist/extension.js')); i++) await sleep(1000); // a rebuild in flight
  const base = mkdtempSync(path.join(os.tmpdir(), 'strata-inhost-ext-'));
  const extension = path.join(base, 'strata');
  for (const f of ['package.json', 'dist', 'syntaxes', 'media']) {
    if (existsSync(path.join(root, f))) cpSync(path.join(root, f), path.join(extension, f), { recursive: true });
  }
  if (!existsSync(path.join(extension, 'dist/extension.js'))) throw new Error('dist/extension.js is missing (npm run build)');
  cpSync(path.dirname(index), path.join(extension, 'out/test/inhost'), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(extension, 'node_modules'), 'dir');
  // Tests find fixtures from the extension's path (test/fixtures, samples/, ../shared/corpus): link those read-only
  // trees too, so `extensionPath` works like the checkout. (STRATA_ROOT in the environment names the checkout itself.)
  for (const d of ['test', 'samples']) {
    if (existsSync(path.join(root, d))) symlinkSync(path.join(root, d), path.join(extension, d), 'dir');
  }
  if (existsSync(path.join(root, '../shared'))) symlinkSync(path.resolve(root, '../shared'), path.join(base, 'shared'), 'dir');
  return { base, extension, index: path.join(extension, 'out/test/inhost', path.basename(index)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Phase 2: the packaged .vsix, installed like a user installs it, checked from the UI.

async function phaseVsix({ root, codeServer, browser, counts, log, shots }) {
  const vsix = process.env.STRATA_VSIX ?? path.join(root, 'strata.vsix');
  const check = async (name, fn) => {
    try {
      await fn();
      counts.passed++;
      log(`  ✔ vsix: ${name}`);
    } catch (e) {
      counts.failed++;
      log(`  ✖ vsix: ${name}\n${indent(e?.message ?? String(e))}`);
      throw e;
    }
  };
  log('in-host: strata.vsix in code-server');
  const server = await startCodeServer({
    codeServer, log,
    files: { Dockerfile: SHOWCASE_DOCKERFILE },
    beforeStart: async (dirs) => {
      await check('npm run package writes strata.vsix', async () => {
        if (!process.env.STRATA_VSIX) {
          const r = spawnSync(process.execPath, [path.join(root, 'scripts/package.mjs')], { cwd: root, encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`scripts/package.mjs exited with ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`);
        }
        if (!existsSync(vsix)) throw new Error(`${vsix} is missing`);
      });
      await check('code-server --install-extension strata.vsix', async () => {
        const r = spawnSync(codeServer, ['--install-extension', vsix, '--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData],
          { encoding: 'utf8', env: dirs.env, timeout: 120_000 });
        const out = `${r.stdout}\n${r.stderr}`;
        if (r.status !== 0 || !/successfully installed/i.test(out)) throw new Error(`install failed (${r.status}): ${out.trim()}`);
      });
    },
  }).catch((e) => { if (e.counted) return null; throw e; });
  if (!server) return;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  let keepLog = true;
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(server.workspace)}`, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await check('opening a Dockerfile shows Strata diagnostics (installed extension, not the checkout)', async () => {
      await page.locator('.explorer-folders-view').waitFor({ timeout: 30_000 });
      await page.locator('.explorer-item', { hasText: 'Dockerfile' }).first().click({ timeout: 30_000 });
      await page.locator('.monaco-editor .view-lines').first().waitFor({ timeout: 30_000 });
      await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
      await page.keyboard.press('Control+Shift+M'); // Problems panel
      const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'Unknown instruction: FOO' });
      await problem.first().waitFor({ timeout: 20_000 });
      const row = await problem.first().innerText();
      if (!/strata/.test(row)) throw new Error(`problem row does not name strata: ${row}`);
      await page.screenshot({ path: path.join(shots, 'editor-diagnostics.png') });
    });
    await check('the installed extension is the packaged one', async () => {
      const installed = path.join(server.dirs.extensions, 'strata-dev.strata-' + JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
      for (const f of ['dist/extension.js', 'dist/server.js', 'syntaxes/dockerfile.tmLanguage.json']) {
        if (!existsSync(path.join(installed, f))) throw new Error(`${f} missing in ${installed}`);
      }
      if (existsSync(path.join(installed, 'node_modules')) || existsSync(path.join(installed, 'client'))) throw new Error('the package ships sources or node_modules');
      // A server process from the installed copy runs (so diagnostics above came from it).
      const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
      if (!ps.includes(path.join(installed, 'dist/server.js'))) throw new Error('no language server from the installed extension is running');
    });
    await check('the Strata view opens from the activity bar', async () => {
      await page.locator('.activitybar .action-item a[aria-label^="Strata"], .activitybar .action-item [aria-label^="Strata"]').first().click({ timeout: 20_000 });
      // With one view in the container, VS Code shows it as the side bar title ("Strata: Images"), not a pane header.
      await page.locator('.part.sidebar .title-label', { hasText: /Strata/ }).first().waitFor({ timeout: 20_000 });
      const title = await page.locator('.part.sidebar .title-label').first().innerText();
      if (!/Images/i.test(title)) throw new Error(`side bar title is ${JSON.stringify(title)}, not the Strata Images view`);
      await page.screenshot({ path: path.join(shots, 'strata-view.png') });
    });
    keepLog = false;
  } catch {
    await page.screenshot({ path: path.join(shots, 'vsix-failure.png') }).catch(() => {});
    log(`  (screenshot: out/inhost-screenshots/vsix-failure.png; code-server log: ${server.logFile})`);
  } finally {
    await page.close().catch(() => {});
    await server.stop({ keepLog });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// code-server lifecycle

async function startCodeServer({ codeServer, env = {}, files = {}, beforeStart, log }) {
  const base = mkdtempSync(path.join(os.tmpdir(), 'strata-inhost-'));
  const dirs = {
    base,
    userData: path.join(base, 'user-data'),
    extensions: path.join(base, 'extensions'),
    workspace: path.join(base, 'workspace'),
  };
  for (const d of [dirs.userData, dirs.extensions, dirs.workspace, path.join(base, 'xdg-config'), path.join(base, 'xdg-data'), path.join(dirs.userData, 'User')]) {
    mkdirSync(d, { recursive: true });
  }
  writeFileSync(path.join(dirs.userData, 'User/settings.json'), JSON.stringify({
    'chat.disableAIFeatures': true,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'window.restoreWindows': 'none',
    'workbench.colorTheme': 'Default Dark Modern',
  }, null, 2));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dirs.workspace, name), content);
  const port = await freePort();
  const config = path.join(base, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  dirs.env = {
    ...process.env,
    ...env,
    XDG_CONFIG_HOME: path.join(base, 'xdg-config'),
    XDG_DATA_HOME: path.join(base, 'xdg-data'),
    // The extension host must not inherit test-runner variables that change what node does.
    NODE_OPTIONS: '',
  };
  // STRATA_INHOST_KEEP=1 keeps the temp dirs (code-server and extension host logs under user-data/logs/).
  const cleanupDirs = () => {
    if (process.env.STRATA_INHOST_KEEP) log(`in-host: kept ${base}`);
    else rmSync(base, { recursive: true, force: true, maxRetries: 3 });
  };
  if (beforeStart) {
    try {
      await beforeStart(dirs);
    } catch (e) {
      cleanupDirs();
      e.counted = true;
      throw e;
    }
  }
  const logFile = path.join(os.tmpdir(), `strata-code-server-${port}.log`);
  const logStream = createWriteStream(logFile);
  const child = spawn(codeServer, [
    '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override', '--reconnection-grace-time', '5',
    // A built workbench honours the `payload` development parameters (extensionDevelopmentPath/extensionTestsPath)
    // only with the smoke-test driver enabled (VS Code's resolveExtensionHostDebugEnvironment).
    '--vscode-option', 'enable-smoke-test-driver',
    '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--config', config, dirs.workspace,
  ], { env: dirs.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }); // detached = own process group (setsid)
  child.stdout.pipe(logStream);
  child.stderr.pipe(logStream);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  let keepLog = true;
  const stop = async () => {
    if (exited === null) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      for (let i = 0; i < 30 && exited === null; i++) await sleep(100);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    } else {
      // code-server exited, but its extension hosts / language servers may live on in the group.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await new Promise((r) => logStream.end(r));
    if (!keepLog) rmSync(logFile, { force: true }); // kept (and named in the output) when something failed
    cleanupDirs();
  };
  // Make sure an interrupted test run does not leave code-server behind.
  const onExit = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onExit);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`code-server exited (${JSON.stringify(exited)}) before listening; log: ${logFile}`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not listen on ${url} within 60 s; log: ${logFile}`);
    }
    await sleep(200);
  }
  const version = (readFileSync(logFile, 'utf8').match(/code-server (\d+\.\d+\.\d+)/) ?? [])[1] ?? '';
  return {
    url, port, version, logFile, dirs, workspace: dirs.workspace,
    stop: async ({ keepLog: keep = true } = {}) => { keepLog = keep; process.removeListener('exit', onExit); await stop(); },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * The JSON object that starts at `from` in a console message. The workbench decorates forwarded extension-host
 * messages (`%c[Extension Host] %c…` plus style arguments), so the object is cut out by matching braces.
 */
function jsonAt(text, from) {
  const start = text.indexOf('{', from);
  if (start < 0) return null;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try { return JSON.parse(text.slice(start, i + 1)); } catch { return null; }
    }
  }
  return null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const indent = (s) => String(s).split('\n').map((l) => `      ${l}`).join('\n');
