/**
 * The four failures of dockerfile-language-server-nodejs 0.15.0 (issue 11), as regression tests against our bundled
 * server over stdio. Each runs with LF and CRLF line endings.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LspSession } from '../support/lspSession';
import { crlf } from '../support/paths';
import { positionOutside, semanticTokenOutside } from '../support/documentRanges';
import { measure } from '../support/threadCpu';

const EOLS = [['LF', (t: string) => t], ['CRLF', crlf]] as const;
let nextId = 0;
const uriOf = (name: string) => `file:///tmp/peer-${name}-${nextId++}/Dockerfile`;

/**
 * The bounds are on the server's main-thread CPU time per request (see threadCpu.ts): this machine's 2 cores are
 * shared by several test suites, so wall time mostly measures their load. Wall time is only sanity-bounded.
 */
const CPU_BOUND_MS = 1000;
const WALL_SANITY_MS = 15_000;

function assertBounded(what: string, m: { wallMs: number; cpuMs: number }): void {
  assert.ok(m.cpuMs < CPU_BOUND_MS, `${what}: ${m.cpuMs.toFixed(0)} ms of server CPU (wall ${m.wallMs.toFixed(0)} ms)`);
  assert.ok(m.wallMs < WALL_SANITY_MS, `${what}: ${m.wallMs.toFixed(0)} ms wall`);
}

describe('failures of dockerfile-language-server-nodejs 0.15.0 do not happen here', () => {
  let s: LspSession;
  before(async () => {
    s = new LspSession(['--stdio']);
    await s.initialize();
  });
  after(async () => {
    assert.equal(s.exited, undefined, 'server still running');
    assert.doesNotMatch(s.stderr, /\n\s+at /, 'no stack trace on stderr');
    await s.close();
  });

  /** Inputs whose semantic tokens took the peer quadratic time, each with its own further check of the answer. */
  const slowTokenCases = [
    {
      title: 'semantic tokens for 2,000 $A in one RUN: under 1 s of server CPU',
      name: 'vars',
      text: 'FROM alpine\nRUN echo' + ' $A'.repeat(2000) + '\n',
      check: async (_uri: string, data: number[]) => {
        const variables = data.filter((_, i) => i % 5 === 3).filter((t) => t === 8).length;
        assert.equal(variables, 2000, 'every $A is a variable token');
      },
    },
    {
      title: 'a 10,000-line RUN continuation: semantic tokens, symbols, folding, hover under 1 s of server CPU each',
      name: 'continuation',
      text: 'FROM alpine\nRUN echo \\\n' + '  $A b \\\n'.repeat(10_000) + '  done\n',
      check: async (uri: string) => {
        for (const method of ['textDocument/documentSymbol', 'textDocument/foldingRange', 'textDocument/hover']) {
          assertBounded(method, await measure(s.process.pid!, () => s.request(method, { textDocument: { uri }, position: { line: 500, character: 3 } })));
        }
      },
    },
  ];

  for (const [eol, fix] of EOLS) {
    it(`RUN \\ followed by \\#h: diagnostics, and definition/highlight give real answers (${eol})`, async () => {
      // The crashing instruction sits between a stage and its use, so definition/highlight have real answers.
      const text = fix('FROM alpine AS base\nARG VERSION=1\nRUN \\\n\\#h\nFROM base\nRUN echo $VERSION\nCOPY --from=base /a /b\n');
      const uri = uriOf('heredoc');
      await s.open(uri, text, 1);
      const diags = await s.waitForDiagnostics(uri, 1);
      assert.equal(positionOutside(diags, text), undefined);
      // `base` in `COPY --from=base` → the stage name on line 0.
      const def = await s.request<{ range: { start: { line: number; character: number } } } | null>('textDocument/definition', {
        textDocument: { uri }, position: { line: 6, character: 14 },
      });
      assert.ok(def, 'definition of the stage name');
      assert.equal(def.range.start.line, 0);
      assert.equal(def.range.start.character, 15);
      const highlights = await s.request<{ range: { start: { line: number } } }[]>('textDocument/documentHighlight', {
        textDocument: { uri }, position: { line: 6, character: 14 },
      });
      assert.deepEqual(highlights.map((h) => h.range.start.line).sort(), [0, 6]);
      // The crashing line itself: an answer (possibly empty), not an error.
      for (const method of ['textDocument/definition', 'textDocument/documentHighlight', 'textDocument/hover']) {
        await s.request(method, { textDocument: { uri }, position: { line: 3, character: 1 } });
      }
      const status = await s.request<{ featureErrors: Record<string, number> }>('strata/status', {});
      assert.equal(status.featureErrors.definition ?? 0, 0, JSON.stringify(status.featureErrors));
      assert.equal(status.featureErrors.documentHighlight ?? 0, 0, JSON.stringify(status.featureErrors));
    });

    for (const c of slowTokenCases) {
      it(`${c.title} (${eol})`, async () => {
        const text = fix(c.text);
        const uri = uriOf(c.name);
        await s.open(uri, text, 1);
        await s.waitForDiagnostics(uri, 1, WALL_SANITY_MS);
        const m = await measure(s.process.pid!, () => s.request<{ data: number[] }>('textDocument/semanticTokens/full', { textDocument: { uri } }));
        assertBounded('semantic tokens', m);
        assert.equal(semanticTokenOutside(m.result.data, text), undefined);
        await c.check(uri, m.result.data);
      });
    }
  }

  it('a 1 MB single line: diagnostics and every request under 1 s of server CPU each', async () => {
    const text = 'FROM alpine AS base\nRUN echo ' + 'x'.repeat(1_000_000) + '\nCOPY --from=base /a /b\n';
    const uri = uriOf('long-line');
    const opened = await measure(s.process.pid!, async () => {
      await s.open(uri, text, 1);
      return s.waitForDiagnostics(uri, 1, WALL_SANITY_MS);
    });
    assertBounded('open + diagnostics', opened);
    const diags = opened.result;
    assert.equal(positionOutside(diags, text), undefined);
    const requests: [string, object][] = [
      ['textDocument/documentSymbol', {}],
      ['textDocument/foldingRange', {}],
      ['textDocument/semanticTokens/full', {}],
      ['textDocument/hover', { position: { line: 1, character: 500_000 } }],
      ['textDocument/hover', { position: { line: 1, character: 1 } }],
      ['textDocument/documentHighlight', { position: { line: 2, character: 14 } }],
      ['textDocument/documentLink', {}],
      ['textDocument/formatting', { options: { tabSize: 4, insertSpaces: true } }],
    ];
    for (const [method, extra] of requests) {
      const m = await measure(s.process.pid!, () => s.request(method, { textDocument: { uri }, ...extra }));
      assertBounded(method, m);
      assert.equal(positionOutside(m.result, text), undefined, method);
    }
    const symbols = await s.request<{ name: string; range: { end: { character: number } } }[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.ok(symbols.some((x) => x.name === 'RUN'), JSON.stringify(symbols).slice(0, 300));
  });

  for (const [eol, fix] of EOLS) {
    for (const tail of ['\n', '\n\n', ' \n', '']) {
      it(`the empty-continuation diagnostic stays inside the document (${eol}, ${JSON.stringify(tail)} after the \\)`, async () => {
        const text = fix('FROM alpine\nRUN echo \\\n' + tail);
        const uri = uriOf('eof');
        await s.open(uri, text, 1);
        const p = await s.waitForDiagnostics(uri, 1);
        assert.equal(positionOutside(p.diagnostics, text), undefined, JSON.stringify(p.diagnostics));
      });
    }
  }
});
