import * as assert from 'node:assert/strict';
import { codeOf, openEditor, setText, strata, waitFor, waitForDiagnostic, writeWorkspaceFile } from './strataHost';
import { serverPids } from './serverProcess';

suite('language server crash', () => {
  suiteSetup(async () => { await strata(); });

  test('the client restarts a killed server and diagnostics come back', async () => {
    const uri = await writeWorkspaceFile('crash/Dockerfile', 'FROM busybox\nFOO bar\n');
    const doc = await openEditor(uri);
    await waitForDiagnostic(uri, (d) => codeOf(d) === 'syntax/unknown-instruction');
    const victim = await waitFor('a running language server process', () => serverPids()[0], 60_000);
    process.kill(victim, 'SIGKILL');
    const next = await waitFor('the client to start a new server', () => serverPids().find((p) => p !== victim), 60_000);
    assert.notEqual(next, victim);
    await setText(doc, 'FROM busybox\nQUX 1\n');
    const d = await waitForDiagnostic(uri, (x) => codeOf(x) === 'syntax/unknown-instruction' && /QUX/.test(x.message), 60_000);
    assert.equal(d.source, 'strata');
  });
});
