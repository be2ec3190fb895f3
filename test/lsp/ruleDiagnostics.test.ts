/**
 * The real bundled server (dist/server.js over stdio) with the rule engine: BuildKit and Strata rule ids with docs
 * links, the Dockerfile folder's .dockerignore and .strata.json, `strata.rules` settings pushed by
 * workspace/didChangeConfiguration, and quick fixes through textDocument/codeAction. The settings files are cached
 * between runs (ruleSettingsProvider.ts): edits to them still change the diagnostics, through a watching client's
 * workspace/didChangeWatchedFiles, Strata's contextChanged, or (clients that do not watch) the background re-check.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeAction, Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { LspSession } from '../support/lspSession';
import { ContextChangedNotification } from '../../server/src/protocol/lspMessages';
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

const APT = 'FROM debian:12\nRUN apt-get update && apt-get install -y curl\n';
const rulesOf = (p: PublishDiagnosticsParams) => p.diagnostics.map((d) => String(d.code)).sort();

/** The first publishDiagnostics for `uri` received from now on (already collected ones ignored) that satisfies `ok`. */
async function publishedSuch(s: LspSession, uri: string, ok: (p: PublishDiagnosticsParams) => boolean, timeoutMs = 10_000): Promise<PublishDiagnosticsParams> {
  try {
    return await s.waitForPublished(uri, ok, timeoutMs, s.diagnostics.length);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last: ${JSON.stringify(s.diagnostics.filter((p) => p.uri === uri).map(rulesOf).at(-1))}`);
  }
}

describe('settings-file edits over LSP (cached settings are invalidated)', () => {
  // Two sessions for the whole block: a client that watches files and one that does not.
  let watching: LspSession;
  let plain: LspSession;
  const registrations: { method: string; registerOptions?: { watchers?: { globPattern: string }[] } }[] = [];
  before(async () => {
    watching = new LspSession();
    watching.connection.onRequest('client/registerCapability', (p: { registrations: typeof registrations }) => { registrations.push(...p.registrations); return null; });
    plain = new LspSession();
    await Promise.all([watching.initialize({ workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } }), plain.initialize()]);
  });
  after(async () => { await Promise.all([watching.close(), plain.close()]); });

  for (const [eol, fix] of [['LF', (t: string) => t], ['CRLF', crlf]] as const) {
    it(`a watching client: the server registers a watcher, and a reported .strata.json edit re-publishes (${eol})`, async () => {
      const s = watching;
      const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-lsp-watch-'));
      const uri = pathToFileURL(path.join(dir, 'Dockerfile')).href;
      await s.open(uri, fix(APT), 1);
      const first = await s.waitForDiagnostics(uri, 1, 20_000);
      assert.ok(rulesOf(first).includes('size/no-install-recommends'), JSON.stringify(rulesOf(first)));
      const watch = registrations.find((r) => r.method === 'workspace/didChangeWatchedFiles');
      assert.match(watch?.registerOptions?.watchers?.[0]?.globPattern ?? '', /\.strata\.json.*\.hadolint\.yaml/);

      const config = path.join(dir, '.strata.json');
      writeFileSync(config, '{"rules": {"size/no-install-recommends": "off"}}');
      const after = publishedSuch(s, uri, (p) => !rulesOf(p).includes('size/no-install-recommends'), 5000);
      await s.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(config).href, type: 1 }] });
      const p = await after;
      assert.equal(p.version, 1, 'the open version is re-published');
      assert.ok(rulesOf(p).includes('size/apt-lists-kept'), JSON.stringify(rulesOf(p)));
    });
  }

  it('a client that does not watch files: a .hadolint.yaml edit applies after the background re-check', async () => {
    const s = plain;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-lsp-recheck-'));
    const uri = pathToFileURL(path.join(dir, 'Dockerfile')).href;
    await s.open(uri, APT, 1);
    assert.ok(rulesOf(await s.waitForDiagnostics(uri, 1, 20_000)).includes('size/apt-lists-kept'));
    // Past the re-check interval (1 s), the next run re-reads the settings files in the background.
    await sleep(1200);
    writeFileSync(path.join(dir, '.hadolint.yaml'), 'ignored:\n  - DL3009\n');
    const applied = publishedSuch(s, uri, (p) => p.version === 2 && !rulesOf(p).includes('size/apt-lists-kept'));
    await s.change(uri, 2, APT + 'USER nobody\n');
    const p = await applied;
    assert.ok(rulesOf(p).includes('size/no-install-recommends'), JSON.stringify(rulesOf(p)));
  });

  it("Strata's contextChanged notification re-reads a changed .dockerignore at once", async () => {
    const s = plain;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-lsp-ctx-'));
    const uri = pathToFileURL(path.join(dir, 'Dockerfile')).href;
    await s.open(uri, 'FROM alpine\nCOPY secret.txt /\n', 1);
    assert.ok(!rulesOf(await s.waitForDiagnostics(uri, 1, 20_000)).includes('CopyIgnoredFile'));
    const ignore = path.join(dir, '.dockerignore');
    writeFileSync(ignore, 'secret.txt\n');
    const after = publishedSuch(s, uri, (p) => rulesOf(p).includes('CopyIgnoredFile'), 5000);
    await s.connection.sendNotification(ContextChangedNotification.method, { paths: [ignore] });
    assert.equal((await after).version, 1);
  });
});
