/**
 * The real bundled server (dist/server.js over stdio) with the rule engine: BuildKit and Strata rule ids with docs
 * links, the Dockerfile folder's .dockerignore and .strata.json, `strata.rules` settings pushed by
 * workspace/didChangeConfiguration, and quick fixes through textDocument/codeAction.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeAction, Diagnostic } from 'vscode-languageserver-protocol';
import { LspSession } from '../support/lspSession';
import { crlf } from '../support/paths';

describe('rule diagnostics over LSP', () => {
  let s: LspSession;
  before(async () => { s = new LspSession(); await s.initialize(); });
  after(async () => { await s.close(); });

  for (const [eol, fix] of [['LF', (t: string) => t], ['CRLF', crlf]] as const) {
    it(`publishes BuildKit and Strata rules with docs links, config and settings applied (${eol})`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-lsp-rules-'));
      writeFileSync(path.join(dir, '.dockerignore'), 'secret.txt\n');
      writeFileSync(path.join(dir, '.strata.json'), '{"rules": {"size/no-install-recommends": "off"}}');
      const uri = pathToFileURL(path.join(dir, 'Dockerfile')).href;
      await s.open(uri, fix('FROM debian:12 as build\nCOPY secret.txt /\nRUN apt-get update && apt-get install -y curl\n'), 1);
      const p = await s.waitForDiagnostics(uri, 1, 20_000);
      const codes = p.diagnostics.map((d) => `${d.range.start.line}:${d.code}`);
      assert.deepEqual(codes, ['0:FromAsCasing', '1:CopyIgnoredFile', '2:size/apt-lists-kept']);
      const fromAs = p.diagnostics[0];
      assert.equal(fromAs.source, 'strata');
      assert.equal(fromAs.codeDescription?.href, 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/');
      assert.match(p.diagnostics[2].codeDescription!.href, /docs\/rules\/size\/apt-lists-kept\.md$/);

      const actions = await s.request<CodeAction[]>('textDocument/codeAction', {
        textDocument: { uri }, range: fromAs.range, context: { diagnostics: [fromAs] },
      });
      const change = actions.find((a) => a.title === "Change 'as' to 'AS'");
      assert.ok(change?.edit?.changes?.[uri], JSON.stringify(actions.map((a) => a.title)));

      s.diagnostics.length = 0;
      await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { strata: { rules: { FromAsCasing: 'off', 'size/apt-lists-kept': 'error' } } } });
      const q = await s.waitForDiagnostics(uri, 1, 20_000);
      assert.deepEqual(q.diagnostics.map((d: Diagnostic) => `${d.code}:${d.severity}`), ['CopyIgnoredFile:2', 'size/apt-lists-kept:1']);
      await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { strata: { rules: {} } } });
    });
  }
});
