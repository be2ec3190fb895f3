// In-host tests in desktop VS Code through @vscode/test-electron — for machines where VS Code can be downloaded
// (a developer's laptop, GitHub Actions). Runs the same compiled suite as runInHost.mjs (out/test/inhost/index.js).
// On these CI machines VS Code cannot be downloaded; runInHost.mjs (code-server + Chromium) is the launcher there.
//
//   node scripts/test.mjs server        (or any group: it compiles out/test/ first), then
//   node test/support/runElectron.mjs   [--version 1.95.0|stable|insiders]   (VSCODE_EXECUTABLE=… uses a local VS Code)
//   (on a headless Linux box run it under xvfb-run -a)
//
// Prints the same `in-host: N passed, N failed` line and exits 1 on any failure.
import { mkdtempSync, rmSync, mkdirSync, existsSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const PREFIX = 'STRATA_INHOST ';

/** @returns {Promise<{passed: number, failed: number}>} */
export async function runElectron({ version = 'stable', log = (s) => console.log(s) } = {}) {
  const index = path.join(root, 'out/test/inhost/index.js');
  if (!existsSync(index)) throw new Error(`${index} is missing: run \`node scripts/test.mjs server\` first (it compiles out/test/)`);
  const { downloadAndUnzipVSCode } = await import('@vscode/test-electron');
  const executable = process.env.VSCODE_EXECUTABLE ?? await downloadAndUnzipVSCode(version);
  const base = mkdtempSync(path.join(os.tmpdir(), 'strata-electron-'));
  const workspace = path.join(base, 'workspace');
  const userData = path.join(base, 'user-data');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(path.join(userData, 'User/settings.json'), JSON.stringify({ 'chat.disableAIFeatures': true, 'workbench.startupEditor': 'none' }));
  // Spawned here (not runTests) so we can read the suite's STRATA_INHOST lines from VS Code's stdout.
  const args = [
    workspace, '--no-sandbox', '--disable-gpu-sandbox', '--disable-updates', '--skip-welcome', '--skip-release-notes',
    '--disable-workspace-trust', '--disable-extensions', `--user-data-dir=${userData}`, `--extensions-dir=${path.join(base, 'extensions')}`,
    `--extensionDevelopmentPath=${root}`, `--extensionTestsPath=${index.replace(/\.js$/, '')}`,
  ];
  const counts = { passed: 0, failed: 0 };
  let ended = false;
  try {
    const code = await new Promise((resolve, reject) => {
      const child = spawn(executable, args, { env: { ...process.env, ELECTRON_RUN_AS_NODE: undefined }, stdio: ['ignore', 'pipe', 'pipe'] });
      const onLine = (line) => {
        const at = line.indexOf(PREFIX);
        if (at < 0) return;
        let ev;
        try { ev = JSON.parse(line.slice(at + PREFIX.length)); } catch { return; }
        if (ev.event === 'pass') log(`  ✔ ${ev.title} (${ev.ms ?? 0} ms)`);
        else if (ev.event === 'fail') log(`  ✖ ${ev.title}\n${ev.error}`);
        else if (ev.event === 'end') { ended = true; counts.passed = ev.passed; counts.failed = ev.failed; }
      };
      for (const s of [child.stdout, child.stderr]) {
        let buf = '';
        s.on('data', (d) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop();
          lines.forEach(onLine);
        });
      }
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('VS Code did not finish the suite within 5 minutes')); }, 300_000);
      child.on('error', reject);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    if (!ended) counts.failed++;
    else if (code !== 0 && counts.failed === 0) counts.failed++;
  } finally {
    rmSync(base, { recursive: true, force: true, maxRetries: 3 });
  }
  log(`in-host: ${counts.passed} passed, ${counts.failed} failed`);
  return counts;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const v = process.argv.indexOf('--version');
  runElectron({ version: v > 0 ? process.argv[v + 1] : undefined }).then(
    (r) => process.exit(r.failed > 0 || r.passed === 0 ? 1 : 0),
    (e) => { console.error(`in-host (electron): ${e.message}`); process.exit(1); },
  );
}
