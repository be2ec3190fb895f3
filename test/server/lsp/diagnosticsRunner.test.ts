import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { CheckerCache, DiagnosticsRunner } from '../../../server/src/lsp/diagnosticsRunner';
import { MAIN_THREAD_LIMITS, mainThreadLimitsFromEnv } from '../../../server/src/lsp/mainThreadPolicy';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';
import { crlf, DIST } from '../../support/paths';

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

describe('DiagnosticsRunner: main thread and worker', () => {
  const summary = (ds: { rule: string; line: number; character: number; endLine: number; endCharacter: number; message: string; severity: string }[]) =>
    ds.map((d) => `${d.line}:${d.character}-${d.endLine}:${d.endCharacter} ${d.severity} ${d.rule} ${d.message}`);
  const script = `${DIST}/server.js`;

  for (const [eol, fix] of [['LF', (t: string) => t], ['CRLF', crlf]] as const) {
    it(`gives the same diagnostics on either path as a one-off check, edit after edit (${eol})`, async () => {
      // Every check after the first on the main thread, against every check in the worker.
      const onMain = new DiagnosticsRunner(script, () => {}, 20_000, mainThreadLimitsFromEnv({ STRATA_DIAGNOSTICS_MAIN_THREAD: 'always' }));
      const inWorker = new DiagnosticsRunner(script, () => {}, 20_000, false);
      const texts = [
        'FROM debian:12 as build\nARG P=80\nEXPOSE $P\nRUN apt-get update && apt-get install -y curl\n',
        'FROM debian:12 as build\nARG P=80\nEXPOSE $P abc\nRUN apt-get update && apt-get install -y curl\n',
        'FROM debian:12 as build\nARG P=80x\nEXPOSE $P abc\nRUN apt-get update && apt-get install -y curl\n',
        'FROM debian:12 as build\nARG P=80x\nEXPOSE $P abc\nRUN apt-get update && \\\n  apt-get install -y curl\nFRM x\n',
        'FROM debian:12 as build\nARG P=80\nEXPOSE $P\nRUN apt-get update && apt-get install -y curl\n',
      ].map(fix);
      const ran: string[] = [];
      for (const text of texts) {
        const a = await onMain.check(text, undefined, 'file:///Dockerfile');
        const b = await inWorker.check(text, undefined, 'file:///Dockerfile');
        assert.deepEqual(summary(a.diagnostics), summary(b.diagnostics));
        assert.deepEqual(summary(a.diagnostics), summary(checkDockerfile(text)));
        assert.equal(b.ranOn, 'worker');
        ran.push(a.ranOn!);
      }
      assert.deepEqual(ran, ['worker', 'main', 'main', 'main', 'main']);
      onMain.dispose();
      inWorker.dispose();
    });
  }

  it('keeps a small document whose full check is slow in the worker (default limits)', async () => {
    // ~28 KB (under maxChars), but dockerfile-utils resolves each ENV through the chain before it: a full check takes
    // 100–250 ms here, several times maxFullMs, so the main thread never takes it over.
    const text = 'FROM alpine\n' + Array.from({ length: 1500 }, (_, i) => `ENV B${i}=\${B${i - 1}}x`).join('\n') + '\n';
    assert.ok(text.length < MAIN_THREAD_LIMITS.maxChars);
    const runner = new DiagnosticsRunner(script, () => {}, 20_000, MAIN_THREAD_LIMITS);
    const ran: string[] = [];
    let edited = text;
    for (let i = 0; i < 4; i++) {
      const r = await runner.check(edited, undefined, 'file:///slow/Dockerfile');
      ran.push(r.ranOn!);
      edited = edited.replace('FROM alpine', i % 2 ? 'FROM alpine' : 'FROM alpine ');
    }
    assert.deepEqual(ran, ['worker', 'worker', 'worker', 'worker']);
    runner.dispose();
  });
});
