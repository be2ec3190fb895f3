/**
 * Diagnostics run on the LSP main thread for cheap checks and in the worker otherwise (lsp/mainThreadPolicy.ts). Both
 * paths must publish exactly the same diagnostics: the bundled server is started twice, once with every check after a
 * document's first on the main thread (`STRATA_DIAGNOSTICS_MAIN_THREAD=always`) and once with every check in the
 * worker (`=0`); the same keystrokes (incremental didChange, as editors send them) go to both, LF and CRLF, and each
 * version's publishDiagnostics must be equal. `STRATA_TRACE_DIAGNOSTICS=1` says where each check ran, so the test
 * also proves the paths were really taken, and that a document too big for the main thread goes to the worker even
 * when every check is allowed there.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { LspSession } from '../support/lspSession';
import { CORPUS, crlf } from '../support/paths';

/** A session of the bundled server with these environment variables (the child inherits process.env at spawn). */
function sessionWith(env: Record<string, string>): LspSession {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return new LspSession();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * The trace line of a run is logged right after its publish: a request answered afterwards (MethodNotFound) shows
 * every earlier message has been read.
 */
async function flush(s: LspSession): Promise<void> {
  await s.request('strata/test/noSuchMethod', {}).catch(() => undefined);
}

/** Where the check of each published version ran, from the `diagnostics trace vN: … ran on main|worker` log lines. */
function ranOn(s: LspSession): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of s.logs) {
    const m = /^diagnostics trace v(\d+): .* ran on (main|worker):/.exec(l);
    if (m) out.set(Number(m[1]), m[2]);
  }
  return out;
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = (before.match(/\r\n|\r|\n/g) ?? []).length;
  const start = Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r')) + 1;
  return { line, character: offset - start };
}

/** One keystroke: insert `insert` at `offset`, or delete `remove` characters there. */
interface Keystroke { offset: number; insert?: string; remove?: number }

/**
 * Typing that goes through the constructs the incremental analysis treats specially: a new instruction with an
 * invalid port typed character by character (and a line break), a RUN script edited, the FROM keyword broken and
 * mended, a continuation backslash, a variable reference, then everything undone by backspaces.
 */
function keystrokes(text: string, eol: string): Keystroke[] {
  const out: Keystroke[] = [];
  const type = (at: number, s: string) => {
    const keys = s.split(/(?=\n)|(?<=\n)/).flatMap((part) => (part === '\n' ? [eol] : [...part]));
    let o = at;
    for (const k of keys) { out.push({ offset: o, insert: k }); o += k.length; }
    const typed = keys.join('').length;
    for (let i = keys.length - 1; i >= 0; i--) { o -= keys[i].length; out.push({ offset: o, remove: keys[i].length }); }
    return typed;
  };
  type(text.length, `EXPOSE 80abc\nRUN echo $HOME \\\n  && apt-get install curl\n`);
  const run = text.indexOf('RUN ');
  if (run >= 0) type(run + 4, 'apt-get update && ');
  type(text.indexOf('FROM') + 1, 'X');
  return out;
}

const CASES = [
  { name: 'a small Dockerfile', text: 'FROM debian:12 as build\nARG V=1\nRUN apt-get update && apt-get install -y curl\nEXPOSE $V\nCMD echo hi\n' },
  { name: 'a corpus file', text: readFileSync(path.join(CORPUS, 'dockerfiles/docker-library__python/3.11__slim-bookworm__Dockerfile'), 'utf8') },
];

describe('diagnostics on the main thread and in the worker', () => {
  let main: LspSession;
  let worker: LspSession;
  before(async () => {
    main = sessionWith({ STRATA_DIAGNOSTICS_MAIN_THREAD: 'always', STRATA_TRACE_DIAGNOSTICS: '1' });
    worker = sessionWith({ STRATA_DIAGNOSTICS_MAIN_THREAD: '0', STRATA_TRACE_DIAGNOSTICS: '1' });
    await Promise.all([main.initialize(), worker.initialize()]);
  });
  after(async () => { await Promise.all([main.close(), worker.close()]); });

  let n = 0;
  for (const c of CASES) {
    for (const [eol, fix] of [['LF', (t: string) => t], ['CRLF', crlf]] as const) {
      it(`publish the same diagnostics for every keystroke in ${c.name} (${eol})`, async () => {
        const uri = `file:///strata-paths/${++n}/Dockerfile`;
        let text = fix(c.text);
        const sessions = [main, worker];
        await Promise.all(sessions.map((s) => s.open(uri, text, 1)));
        const published = async (version: number) => Promise.all(sessions.map((s) => s.waitForDiagnostics(uri, version, 20_000)));
        const compare = (version: number, [a, b]: PublishDiagnosticsParams[]) => {
          assert.deepEqual(a.diagnostics, b.diagnostics, `v${version} differs between the main thread and the worker`);
          return a.diagnostics.map((d) => String(d.code));
        };
        const codes = new Set(compare(1, await published(1)));
        const strokes = keystrokes(text, eol === 'LF' ? '\n' : '\r\n');
        for (const [i, k] of strokes.entries()) {
          const version = i + 2;
          const start = positionAt(text, k.offset);
          const end = positionAt(text, k.offset + (k.remove ?? 0));
          text = text.slice(0, k.offset) + (k.insert ?? '') + text.slice(k.offset + (k.remove ?? 0));
          const change = { textDocument: { uri, version }, contentChanges: [{ range: { start, end }, text: k.insert ?? '' }] };
          await Promise.all(sessions.map((s) => s.connection.sendNotification('textDocument/didChange', change)));
          for (const code of compare(version, await published(version))) codes.add(code);
        }
        assert.equal(text, fix(c.text), 'the keystrokes restore the text');
        assert.ok(codes.has('syntax/invalid-port') || codes.has('syntax/unknown-instruction'), `the edits produce syntax findings: ${[...codes].join(', ')}`);
        // Where they ran: every check after the first on the main thread in one server, all in the worker in the other.
        const last = strokes.length + 1;
        await Promise.all(sessions.map(flush));
        const onMain = ranOn(main);
        const inWorker = ranOn(worker);
        for (let v = 2; v <= last; v++) {
          assert.equal(onMain.get(v), 'main', `v${v} ran on the main thread`);
          assert.equal(inWorker.get(v), 'worker', `v${v} ran in the worker`);
        }
        assert.equal(onMain.get(1), 'worker', 'a document\'s first check runs in the worker');
        main.logs.length = 0;
        worker.logs.length = 0;
      });
    }
  }

  it('checks a document over the main thread\'s size limit in the worker, every time', async () => {
    const uri = 'file:///strata-paths/big/Dockerfile';
    // 40 KB: over the 32 KB limit (MAIN_THREAD_LIMITS.maxChars), with a finding to publish.
    const text = 'FROM debian:12\n' + 'RUN echo "a line of a long Dockerfile"\n'.repeat(1100) + 'EXPOSE 80abc\n';
    assert.ok(text.length > 32 * 1024);
    main.logs.length = 0;
    await main.open(uri, text, 1);
    await main.waitForDiagnostics(uri, 1, 20_000);
    for (let version = 2; version <= 4; version++) {
      await main.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version }, contentChanges: [{ range: { start: { line: 0, character: 4 }, end: { line: 0, character: 4 } }, text: ' ' }],
      });
      const p = await main.waitForDiagnostics(uri, version, 20_000);
      assert.ok(p.diagnostics.some((d) => d.code === 'syntax/invalid-port'));
    }
    await flush(main);
    assert.deepEqual([1, 2, 3, 4].map((v) => ranOn(main).get(v)), ['worker', 'worker', 'worker', 'worker']);
  });
});
