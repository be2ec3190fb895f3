import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { CheckerCache, DiagnosticsRunner } from '../../../server/src/lsp/diagnosticsRunner';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';

describe('CheckerCache', () => {
  it('keeps one checker per document, drops the least recently checked beyond its bound, and forgets on request', () => {
    const cache = new CheckerCache(2);
    const a = cache.get('a');
    assert.equal(cache.get('a'), a, 'same document, same checker');
    cache.get('b');
    cache.get('a'); // a is now the most recently used
    cache.get('c'); // drops b
    assert.equal(cache.size, 2);
    assert.ok(cache.has('a') && cache.has('c') && !cache.has('b'));
    cache.forget('a');
    assert.ok(!cache.has('a'));
    assert.notEqual(cache.get('a'), a, 'a forgotten document starts afresh');
  });
});

describe('DiagnosticsRunner with document keys (in-process, no worker script)', () => {
  it('gives the same diagnostics as a one-off check across edits, and after forget', async () => {
    const runner = new DiagnosticsRunner(undefined, () => {});
    const texts = ['FROM alpine\nEXPOSE 80\n', 'FROM alpine\nEXPOSE abc\n', '\nFROM alpine\nEXPOSE abc\nRUN apt-get update\n'];
    for (const text of texts) {
      const r = await runner.check(text, undefined, 'file:///Dockerfile');
      assert.deepEqual(r.diagnostics, checkDockerfile(text));
      assert.ok(typeof r.computeMs === 'number' && r.computeMs >= 0, 'the check time is reported (STRATA_TRACE_DIAGNOSTICS)');
    }
    runner.forget('file:///Dockerfile');
    const r = await runner.check(texts[1], undefined, 'file:///Dockerfile');
    assert.deepEqual(r.diagnostics, checkDockerfile(texts[1]));
    assert.ok(r.diagnostics.some((d) => d.rule === 'syntax/invalid-port'));
    runner.dispose();
  });
});

describe('DiagnosticsRunner when the analysis throws (in-process)', () => {
  it('answers with a diagnostics rule error, drops that document\'s checker, and checks it afresh next time', async () => {
    const runner = new DiagnosticsRunner(undefined, () => {});
    const key = 'file:///Dockerfile';
    const text = 'FROM alpine\nEXPOSE abc\n';
    await runner.check(text, undefined, key);
    const checkers = (runner as unknown as { localCheckers: CheckerCache }).localCheckers;
    assert.ok(checkers.has(key));
    // Not plain data as the type says: toCheckOptions' `new Map(42)` throws before any rule runs.
    const failed = await runner.check(text, { buildArgs: 42 as unknown as [string, string][] }, key);
    assert.deepEqual(failed.diagnostics, []);
    assert.deepEqual(failed.ruleErrors.map((e) => e.rule), ['diagnostics']);
    assert.ok(!checkers.has(key), 'the document\'s possibly half-updated checker is dropped');
    const again = await runner.check(text, undefined, key);
    assert.deepEqual(again.diagnostics, checkDockerfile(text));
    runner.dispose();
  });
});

describe('DiagnosticsRunner with the bundled server as its worker', () => {
  it('answers a job sent as the worker starts, with the same diagnostics as a one-off check', async () => {
    // The bundled server is the worker script (as in server.ts); the runner starts it on construction.
    const { existsSync } = await import('node:fs');
    const { DIST } = await import('../../support/paths');
    const script = `${DIST}/server.js`;
    assert.ok(existsSync(script), `${script} is built by scripts/test.mjs`);
    const runner = new DiagnosticsRunner(script, () => {});
    const text = 'FROM alpine\nEXPOSE abc\nRUN apt-get update\n';
    const r = await runner.check(text, undefined, 'file:///Dockerfile');
    const summary = (ds: { rule: string; line: number; message: string }[]) => ds.map((d) => `${d.line} ${d.rule} ${d.message}`);
    assert.deepEqual(summary(r.diagnostics), summary(checkDockerfile(text)));
    assert.ok(r.diagnostics.some((d) => d.rule === 'syntax/invalid-port'));
    assert.deepEqual(r.ruleErrors, []);
    assert.equal(typeof r.computeMs, 'number', 'the worker reports its check time');
    runner.dispose();
  });
});
