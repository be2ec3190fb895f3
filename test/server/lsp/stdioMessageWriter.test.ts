/**
 * StdioMessageWriter on an in-memory stream (the real stdout case is test/lsp/stdioMessageWriter.test.ts): each
 * message is one framed write at the moment it is sent, in call order, with the byte length of UTF-8 bodies; a
 * stream error and an unserialisable message reject that write (never a throw) and are reported.
 * redirectConsole turns console output into log messages (stdout carries the protocol).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Message } from 'vscode-languageserver/node';
import { frameMessage, redirectConsole, StdioMessageWriter } from '../../../server/src/lsp/stdioMessageWriter';

/** A request, response or notification as the connection hands it to the writer. */
const msg = (m: Record<string, unknown>) => m as unknown as Message;

function recorder(fail: (chunk: string) => boolean = () => false): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString('utf8');
      if (fail(text)) return cb(new Error('EPIPE (test)'));
      writes.push(text);
      cb();
    },
  });
  return { stream, writes };
}

describe('StdioMessageWriter', () => {
  it('writes each message as one framed chunk, synchronously and in call order', async () => {
    const { stream, writes } = recorder();
    const w = new StdioMessageWriter(stream);
    const a = w.write(msg({ jsonrpc: '2.0', method: 'a', params: { x: 1 } }));
    const b = w.write(msg({ jsonrpc: '2.0', id: 2, result: null }));
    assert.equal(writes.length, 2, 'written before any await');
    await Promise.all([a, b]);
    const framed = (body: string) => `Content-Length: ${body.length}\r\n\r\n${body}`; // ASCII bodies: length = bytes
    assert.deepEqual(writes, [framed('{"jsonrpc":"2.0","method":"a","params":{"x":1}}'), framed('{"jsonrpc":"2.0","id":2,"result":null}')]);
  });

  it('counts Content-Length in UTF-8 bytes, not characters', () => {
    const frame = frameMessage({ m: 'é€😀' }).toString('utf8');
    const [header, body] = frame.split('\r\n\r\n');
    assert.equal(header, `Content-Length: ${Buffer.byteLength(body!, 'utf8')}`);
    assert.equal(body, '{"m":"é€😀"}');
    assert.notEqual(Buffer.byteLength(body!, 'utf8'), body!.length);
  });

  it('a failed write rejects and is reported with its message; later writes on the dead stream reject too, never throw', async () => {
    const { stream, writes } = recorder((t) => t.includes('"bad"'));
    stream.on('error', () => undefined); // the stream's own error event (the writer also listens)
    const w = new StdioMessageWriter(stream);
    const reported: unknown[] = [];
    w.onError(([e, msg]) => reported.push([e.message, (msg as { method?: string } | undefined)?.method]));
    await assert.rejects(w.write(msg({ jsonrpc: '2.0', method: 'bad' })), /EPIPE/);
    assert.ok(reported.some((r) => JSON.stringify(r) === '["EPIPE (test)","bad"]'), JSON.stringify(reported));
    // a Node stream is destroyed by its error (as stdout is when the client has gone): the next write is refused
    let later: Promise<void> | undefined;
    assert.doesNotThrow(() => { later = w.write(msg({ jsonrpc: '2.0', method: 'later' })); });
    await assert.rejects(later!, /destroyed/);
    assert.deepEqual(writes, []);
  });

  it('a message that cannot be serialised rejects without writing anything', async () => {
    const { stream, writes } = recorder();
    const w = new StdioMessageWriter(stream);
    const reported: string[] = [];
    w.onError(([e]) => reported.push(e.message));
    await assert.rejects(w.write(msg({ jsonrpc: '2.0', method: 'x', params: { n: 1n } })), /BigInt/);
    assert.deepEqual(writes, []);
    assert.equal(reported.length, 1);
  });
});

describe('redirectConsole', () => {
  it('sends the output of every console method to the sink by level, nothing to stdout', () => {
    const saved = Object.fromEntries(Object.entries(console));
    const got: string[] = [];
    const stdoutWrite = process.stdout.write;
    let leaked = '';
    process.stdout.write = ((c: string) => { leaked += c; return true; }) as typeof process.stdout.write;
    try {
      redirectConsole({ log: (m) => got.push(`log ${m}`), info: (m) => got.push(`info ${m}`), warn: (m) => got.push(`warn ${m}`), error: (m) => got.push(`error ${m}`) });
      console.log('a', { b: 1 });
      console.info('i');
      console.warn('w');
      console.error('e');
      console.assert(false, 'broken');
      console.assert(true, 'fine');
      console.count('n');
      console.table([{ x: 1 }]);
      console.dir({ d: [1] });
    } finally {
      process.stdout.write = stdoutWrite;
      Object.assign(console, saved);
    }
    assert.equal(leaked, '', 'nothing written to stdout');
    assert.deepEqual(got.slice(0, 6), ['log a { b: 1 }', 'info i', 'warn w', 'error e', 'error Assertion failed: broken', 'log n: 1']);
    assert.match(got[6]!, /^log ┌/);
    assert.ok(got.some((g) => g === 'log { d: [ 1 ] }'), JSON.stringify(got));
  });
});
