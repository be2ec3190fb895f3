import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LspSession } from '../support/lspSession';
import { crlf } from '../support/paths';

describe('language server over stdio', () => {
  let s: LspSession;
  before(async () => {
    s = new LspSession(['--stdio']);
    await s.initialize();
  });
  after(() => s.close());

  for (const [eol, fix] of [['LF', (t: string) => t], ['CRLF', crlf]] as const) {
    it(`publishes diagnostics with source strata and a string rule id (${eol})`, async () => {
      const uri = `file:///tmp/${eol}/Dockerfile`;
      await s.open(uri, fix('FROM alpine\nFOO bar\n'), 3);
      const p = await s.waitForDiagnostics(uri, 3);
      const d = p.diagnostics.find((x) => x.code === 'syntax/unknown-instruction');
      assert.ok(d, JSON.stringify(p.diagnostics));
      assert.equal(d.source, 'strata');
      assert.equal(d.range.start.line, 1);
    });
  }

  it('analyses a closed and reopened document afresh (the worker forgets its cached analysis on didClose)', async () => {
    const uri = 'file:///tmp/reopen/Dockerfile';
    await s.open(uri, 'FROM alpine\nFOO bar\n', 1);
    assert.ok((await s.waitForDiagnostics(uri, 1)).diagnostics.some((d) => d.range.start.line === 1));
    await s.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    // Same URI and version, other text: a result keyed by URI alone would be the old one.
    s.diagnostics.length = 0;
    await s.open(uri, 'FROM alpine\n\n\nBAR baz\n', 1);
    const codes = (await s.waitForDiagnostics(uri, 1)).diagnostics.filter((d) => String(d.code).startsWith('syntax/')).map((d) => `${d.range.start.line}:${d.code}`);
    assert.deepEqual(codes, ['3:syntax/unknown-instruction']);
  });

  it('completes instruction keywords', async () => {
    const uri = 'file:///tmp/complete/Dockerfile';
    await s.open(uri, 'FROM alpine\nRU');
    const items = await s.request<{ label: string }[]>('textDocument/completion', { textDocument: { uri }, position: { line: 1, character: 2 } });
    assert.ok(items.some((i) => i.label === 'RUN'), JSON.stringify(items.map((i) => i.label)));
  });

  it('hovers an instruction with its documentation', async () => {
    const uri = 'file:///tmp/hover/Dockerfile';
    await s.open(uri, 'FROM alpine\nWORKDIR /app\n');
    const h = await s.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 2 } });
    assert.ok(h && /working directory/i.test(JSON.stringify(h.contents)), JSON.stringify(h));
  });

  it('keeps serving after the RUN \\ / \\#h input that kills dockerfile-language-server-nodejs', async () => {
    const uri = 'file:///tmp/crash/Dockerfile';
    await s.open(uri, 'RUN \\\n\\#h', 1);
    await s.waitForDiagnostics(uri, 1);
    await s.request('textDocument/definition', { textDocument: { uri }, position: { line: 1, character: 1 } });
    await s.request('textDocument/documentHighlight', { textDocument: { uri }, position: { line: 1, character: 1 } });
    const symbols = await s.request<unknown[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.ok(Array.isArray(symbols));
    assert.equal(s.exited, undefined);
    assert.doesNotMatch(s.stderr, /\n\s+at /, 'no stack trace on stderr');
  });
});
