/**
 * coalesceWrites on an in-memory stream (the real stdout case is test/lsp/coalesceStdout.test.ts): a header and the
 * body after it leave as one write, a header with no body still leaves (alone, on the next turn), other writes pass
 * through unchanged, and every caller's callback is called.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { coalesceWrites } from '../../../server/src/lsp/coalesceStdout';

function recorder(): { stream: NodeJS.WritableStream; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.toString('utf8'));
      cb();
    },
  });
  coalesceWrites(stream as unknown as NodeJS.WritableStream);
  return { stream: stream as unknown as NodeJS.WritableStream, writes };
}

const tick = () => new Promise((r) => setImmediate(r));
const write = (s: NodeJS.WritableStream, chunk: string, encoding?: BufferEncoding) =>
  new Promise<void>((resolve, reject) => s.write(chunk, encoding as BufferEncoding, (e?: Error | null) => (e ? reject(e) : resolve())));

describe('coalesceWrites', () => {
  it('writes a header and the body after it as one chunk, as vscode-jsonrpc does (header awaited first)', async () => {
    const { stream, writes } = recorder();
    await write(stream, 'Content-Length: 2\r\n\r\n', 'ascii');
    await write(stream, '{}');
    await tick();
    assert.deepEqual(writes, ['Content-Length: 2\r\n\r\n{}']);
  });

  it('a header with no body in the same turn is written alone', async () => {
    const { stream, writes } = recorder();
    await write(stream, 'Content-Length: 2\r\n\r\n', 'ascii');
    assert.deepEqual(writes, [], 'held for its body');
    await tick();
    await tick();
    assert.deepEqual(writes, ['Content-Length: 2\r\n\r\n']);
  });

  it('other writes pass through unchanged, and a body keeps its encoding', async () => {
    const { stream, writes } = recorder();
    await write(stream, 'plain text');
    await write(stream, 'Content-Length: 2\r\n\r\n', 'ascii');
    await write(stream, '7b7d', 'hex');
    await tick();
    assert.deepEqual(writes, ['plain text', 'Content-Length: 2\r\n\r\n{}']);
  });
});
