/**
 * A client that misbehaves (issue 11 "Bad input"): requests before `initialize`, unknown methods, edits of a document
 * never opened, versions going backwards, cancellation, stale requests, and a client that disappears. Clean error
 * responses or a clean exit, never a stack trace.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LspSession } from '../support/lspSession';

const NO_STACK = /\n\s+at /;

async function codeOf(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code: number }).code;
  }
}

describe('bad input from the client', () => {
  it('answers ServerNotInitialized before initialize, then serves normally', async () => {
    const s = new LspSession(['--stdio']);
    try {
      const code = await codeOf(s.request('textDocument/hover', { textDocument: { uri: 'file:///x' }, position: { line: 0, character: 0 } }));
      assert.equal(code, -32002);
      await s.initialize();
      const uri = 'file:///tmp/bad-init/Dockerfile';
      await s.open(uri, 'FROM alpine\n');
      assert.equal(await codeOf(s.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 1 } })), 'ok');
    } finally {
      await s.close();
    }
    assert.doesNotMatch(s.stderr, NO_STACK);
  });

  it('unknown methods, unknown notifications, didChange of an unopened document, versions going backwards', async () => {
    const s = new LspSession(['--stdio']);
    await s.initialize();
    try {
      assert.equal(await codeOf(s.request('strata/noSuchMethod', {})), -32601);
      await s.connection.sendNotification('strata/noSuchNotification', { x: 1 });
      await s.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri: 'file:///never/opened', version: 2 }, contentChanges: [{ text: 'FROM x' }],
      });
      await s.connection.sendNotification('textDocument/didClose', { textDocument: { uri: 'file:///never/opened/either' } });
      assert.equal(await codeOf(s.request('textDocument/hover', { textDocument: { uri: 'file:///never/opened' }, position: { line: 0, character: 0 } })), 'ok');
      const uri = 'file:///tmp/bad-versions/Dockerfile';
      await s.open(uri, 'FROM alpine\nFOO a\n', 10);
      await s.waitForDiagnostics(uri, 10);
      // The client is the source of truth: a lower version is taken as the new state, with its diagnostics.
      await s.change(uri, 4, 'FROM alpine\nBAR a\n');
      const back = await s.waitForDiagnostics(uri, 4);
      assert.match(back.diagnostics.map((d) => d.message).join(), /BAR/);
      assert.equal(s.exited, undefined);
    } finally {
      await s.close();
    }
    assert.doesNotMatch(s.stderr, NO_STACK);
  });

  it('publishes diagnostics with the version after every change, also when they did not change', async () => {
    const s = new LspSession(['--stdio']);
    await s.initialize();
    try {
      const uri = 'file:///tmp/bad-same/Dockerfile';
      await s.open(uri, 'FROM alpine\nFOO a\n', 1);
      const first = await s.waitForDiagnostics(uri, 1);
      for (let v = 2; v <= 4; v++) {
        await s.change(uri, v, v % 2 ? 'FROM alpine\nFOO a\n' : 'FROM alpine\nFOO a \n');
        const p = await s.waitForDiagnostics(uri, v);
        assert.deepEqual(p.diagnostics.map((d) => d.code), first.diagnostics.map((d) => d.code));
      }
    } finally {
      await s.close();
    }
  });

  it('a cancelled request answers RequestCancelled; a request for an outdated version answers ContentModified', async () => {
    const s = new LspSession(['--stdio']);
    await s.initialize();
    try {
      const uri = 'file:///tmp/bad-cancel/Dockerfile';
      await s.open(uri, 'FROM alpine\nRUN echo hi\n', 1);
      // Each pair of messages must reach the server in one read, as an editor typing fast sends them: the server
      // yields before answering, then sees the cancellation / the newer version. vscode-jsonrpc's writer waits for
      // each write to complete before the next, so on a loaded machine the pair can arrive in two reads; writing both
      // frames with one write() makes the test deterministic. Replies are read from the raw stdout by id.
      const replies = rawReplies(s);
      writeTogether(s, [
        { jsonrpc: '2.0', id: 990001, method: 'textDocument/hover', params: { textDocument: { uri }, position: { line: 1, character: 1 } } },
        { jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 990001 } },
      ]);
      assert.equal((await replies.get(990001)).error?.code, -32800);
      // The request is written before the edit, so the server sees version 1 requested and version 2 current.
      writeTogether(s, [
        { jsonrpc: '2.0', id: 990002, method: 'textDocument/documentSymbol', params: { textDocument: { uri } } },
        { jsonrpc: '2.0', method: 'textDocument/didChange', params: { textDocument: { uri, version: 2 }, contentChanges: [{ text: 'FROM alpine\nRUN echo bye\n' }] } },
      ]);
      assert.equal((await replies.get(990002)).error?.code, -32801);
      assert.equal(await codeOf(s.request('textDocument/documentSymbol', { textDocument: { uri } })), 'ok');
    } finally {
      await s.close();
    }
    assert.doesNotMatch(s.stderr, NO_STACK);
  });

  it('exits cleanly when the client disappears (stdin closed), with and without shutdown', async () => {
    for (const polite of [false, true]) {
      const s = new LspSession(['--stdio']);
      await s.initialize();
      await s.open('file:///tmp/bad-exit/Dockerfile', 'FROM alpine\n');
      if (polite) await s.request('shutdown', null);
      s.process.stdin!.end();
      const code = await new Promise<number | null>((resolve) => {
        if (s.exited !== undefined) resolve(s.exited);
        s.process.on('exit', (c) => resolve(c));
        setTimeout(() => resolve(-999), 5000);
      });
      // LSP: exit code 0 after shutdown, 1 without it; either way promptly and without a stack trace.
      assert.equal(code, polite ? 0 : 1);
      assert.doesNotMatch(s.stderr, NO_STACK);
      s.connection.dispose();
    }
  });
});

function writeTogether(s: LspSession, messages: object[]): void {
  const frames = messages.map((m) => {
    const body = Buffer.from(JSON.stringify(m), 'utf8');
    return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
  });
  s.process.stdin!.write(Buffer.concat(frames));
}

/** Responses seen on the server's stdout (beside the test's own connection), by id. */
function rawReplies(s: LspSession) {
  let buf = Buffer.alloc(0);
  const seen = new Map<number, { error?: { code: number } }>();
  s.process.stdout!.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const headerEnd = buf.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, headerEnd).toString('ascii'))?.[1]);
      if (buf.length < headerEnd + 4 + length) return;
      const msg = JSON.parse(buf.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8'));
      buf = buf.subarray(headerEnd + 4 + length);
      if (typeof msg.id === 'number' && !('method' in msg)) seen.set(msg.id, msg);
    }
  });
  return {
    async get(id: number) {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
        const m = seen.get(id);
        if (m) return m;
      }
      throw new Error(`no reply to request ${id} within 10 s`);
    },
  };
}
