import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, openEditor, strata, waitFor, writeWorkspaceFile } from './strataHost';

/**
 * "Strata: Build Image" in a real VS Code on the real engine: the command runs the build through the language
 * server, annotates the step lines and turns the failing RUN into an error diagnostic on its line; the next
 * successful build clears it. Needs the test engine's environment (DOCKER_HOST…), which `npm test` /
 * `node scripts/test.mjs engine inhost` export before starting code-server.
 */
const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';

type Result = { exitCode: number; annotations: Record<number, string>; diagnostics: { line: number }[]; error: string | null } | undefined;

suite('Strata: Build Image', function () {
  suiteSetup(async function () {
    if (!process.env.DOCKER_HOST) {
      // Stated reason, not a silent pass: without the engine variables the build would try the user's default engine.
      this.skip();
    }
    await strata();
  });

  test('a failing RUN becomes a diagnostic on its line with its output; steps are annotated; success clears it', async function () {
    this.timeout(180_000);
    const stamp = `${Date.now()}`;
    const uri = await writeWorkspaceFile(`build-${stamp}/Dockerfile`, `FROM ${BASE}\nRUN echo ok-${stamp}\nRUN echo broken-${stamp} >&2; \\\n    exit 5\n`);
    await openEditor(uri);
    const failed = await vscode.commands.executeCommand<Result>('strata.build', { dockerfile: uri.fsPath, tags: [] });
    assert.ok(failed, 'the command returned a result');
    assert.equal(failed.error, null);
    assert.equal(failed.exitCode, 1);
    assert.equal(failed.annotations[2]?.startsWith('built in '), true, JSON.stringify(failed.annotations));
    assert.equal(failed.annotations[3], 'failed');
    const d = await waitFor('the build failure diagnostic', () =>
      vscode.languages.getDiagnostics(uri).find((x) => x.source === 'strata' && codeOf(x) === 'build/step-failed'));
    assert.equal(d.range.start.line, 2);
    assert.equal(d.range.end.line, 3);
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.match(d.message, /exit code: 5/);
    assert.match(d.message, new RegExp(`broken-${stamp}`));

    // Fix the Dockerfile on disk and build again: the diagnostic goes away, cached steps say CACHED.
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(`FROM ${BASE}\nRUN echo ok-${stamp}\nRUN echo fixed-${stamp}\n`));
    const ok = await vscode.commands.executeCommand<Result>('strata.build', { dockerfile: uri.fsPath, tags: [] });
    assert.equal(ok?.exitCode, 0, ok?.error ?? '');
    assert.equal(ok?.annotations[2], 'CACHED');
    assert.match(ok?.annotations[3] ?? '', /^built in \d+\.\d s$/);
    await waitFor('the failure diagnostic to clear', () =>
      !vscode.languages.getDiagnostics(uri).some((x) => codeOf(x) === 'build/step-failed'));
  });
});
