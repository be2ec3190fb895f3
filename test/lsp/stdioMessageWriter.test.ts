/**
 * Over stdio every LSP message leaves the server in one write (stdioMessageWriter.ts): the client never gets a chunk
 * that starts inside a message (a header without its body, then the body), which would cost it a second wake-up.
 * With vscode-jsonrpc's own writer, header and body are written separately and this test sees body-first chunks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { DIST } from '../support/paths';

function frame(msg: unknown): string {
  const body = JSON.stringify(msg);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe('stdout framing', () => {
  it('each message arrives as one chunk beginning with its header (initialize, 40 hovers, diagnostics)', async () => {
    const proc = spawn(process.execPath, [path.join(DIST, 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let all = '';
    const waitFor = (re: RegExp) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout waiting for ${re}`)), 15_000);
      const check = () => {
        if (re.test(all)) {
          clearTimeout(timer);
          proc.stdout.off('data', check);
          resolve();
        }
      };
      proc.stdout.on('data', check);
      check();
    });
    proc.stdout.on('data', (c: Buffer) => {
      chunks.push(c);
      all += c.toString('utf8');
    });
    const send = (m: unknown) => proc.stdin.write(frame(m));
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
    await waitFor(/"id":1,/);
    send({ jsonrpc: '2.0', method: 'initialized', params: {} });
    const uri = 'file:///tmp/strata-framing/Dockerfile';
    send({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'dockerfile', version: 1, text: 'from alpine\nRUN echo hi\n' } } });
    for (let i = 0; i < 40; i++) {
      // one at a time, so every answer is written on its own
      send({ jsonrpc: '2.0', id: 100 + i, method: 'textDocument/hover', params: { textDocument: { uri }, position: { line: 1, character: 1 } } });
      await waitFor(new RegExp(`"id":${100 + i}[,}]`));
    }
    await waitFor(/publishDiagnostics/);
    proc.kill();
    assert.ok(chunks.length >= 42, `${chunks.length} chunks`);
    const midMessage = chunks.filter((c) => !c.toString('latin1').startsWith('Content-Length:'));
    assert.equal(midMessage.length, 0, `chunks starting inside a message: ${midMessage.slice(0, 3).map((c) => JSON.stringify(c.toString('utf8').slice(0, 60))).join(', ')}`);
  });
});
