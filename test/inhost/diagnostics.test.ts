import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, openEditor, setText, strata, waitFor, waitForDiagnostic, writeWorkspaceFile } from './strataHost';

const UNKNOWN = 'FROM busybox\nFOO bar\n';

suite('diagnostics in a real editor', () => {
  suiteSetup(async () => { await strata(); });

  for (const [eol, text] of [['LF', UNKNOWN], ['CRLF', UNKNOWN.replace(/\n/g, '\r\n')]] as const) {
    test(`an unknown instruction shows syntax/unknown-instruction from strata (${eol})`, async () => {
      const uri = await writeWorkspaceFile(`diag-${eol}/Dockerfile`, text);
      const doc = await openEditor(uri);
      assert.equal(doc.languageId, 'dockerfile');
      const d = await waitForDiagnostic(uri, (x) => codeOf(x) === 'syntax/unknown-instruction');
      assert.equal(d.range.start.line, 1);
      assert.equal(d.range.start.character, 0);
      assert.match(d.message, /FOO/);
      assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    });
  }

  test('fixing the line in the editor clears the diagnostic', async () => {
    const uri = await writeWorkspaceFile('diag-fix/Dockerfile', UNKNOWN);
    const doc = await openEditor(uri);
    await waitForDiagnostic(uri, (x) => codeOf(x) === 'syntax/unknown-instruction');
    await setText(doc, 'FROM busybox\nRUN true\n');
    await waitFor('the unknown-instruction diagnostic to go away', () =>
      !vscode.languages.getDiagnostics(uri).some((x) => codeOf(x) === 'syntax/unknown-instruction'));
  });

  test('Dockerfile, Containerfile, *.dockerfile and Dockerfile.* open as dockerfile', async () => {
    for (const name of ['Dockerfile', 'Containerfile', 'app.dockerfile', 'Dockerfile.dev']) {
      const uri = await writeWorkspaceFile(`langs/${name}`, 'FROM busybox\n');
      const doc = await vscode.workspace.openTextDocument(uri);
      assert.equal(doc.languageId, 'dockerfile', name);
    }
  });
});
