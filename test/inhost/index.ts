/**
 * In-host test entry: VS Code loads this module inside the extension host (as `extensionTestsPath`) and calls `run()`.
 * It runs every `*.test.js` next to it with mocha (TDD UI: `suite`/`test`) and reports each result as one console line
 * with the `STRATA_INHOST ` prefix. Both launchers read those lines: runInHost.mjs (code-server: the extension host's
 * console reaches the page console) and runElectron.mjs (VS Code's stdout). The last line is
 * `STRATA_INHOST {"event":"end","passed":n,"failed":n}`.
 *
 * `STRATA_INHOST_GREP` (a regex over full test titles) narrows the run, e.g. while writing a test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

function report(event: Record<string, unknown>): void {
  // console.error: when VS Code runs extension tests from a launcher, the workbench forwards only error-level
  // extension-host console entries to the page console (desktop VS Code writes them to stderr).
  console.error('STRATA_INHOST ' + JSON.stringify(event));
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 120_000, color: false, reporter: 'spec' });
  const grep = process.env.STRATA_INHOST_GREP;
  if (grep) mocha.grep(new RegExp(grep));
  for (const name of fs.readdirSync(__dirname).sort()) {
    if (name.endsWith('.test.js')) mocha.addFile(path.join(__dirname, name));
  }
  return new Promise((resolve, reject) => {
    let passed = 0;
    let failed = 0;
    try {
      const runner = mocha.run(() => {
        report({ event: 'end', passed, failed });
        // Rejecting tells VS Code the run failed (exit code 1 under @vscode/test-electron).
        if (failed > 0) reject(new Error(`${failed} in-host test(s) failed`));
        else resolve();
      });
      runner.on('pass', (t) => { passed++; report({ event: 'pass', title: t.fullTitle(), ms: t.duration }); });
      runner.on('fail', (t, err: Error) => {
        failed++;
        report({ event: 'fail', title: t.fullTitle(), error: String(err?.stack ?? err).slice(0, 2000) });
      });
    } catch (e) {
      report({ event: 'end', passed, failed: failed + 1, error: String((e as Error)?.stack ?? e) });
      reject(e);
    }
  });
}
