/**
 * The `--stdio` transport's writer: each LSP message leaves in one `write`, at the moment it is sent.
 *
 * vscode-jsonrpc's StreamMessageWriter queues every message behind a semaphore whose turn comes on a `setImmediate`,
 * then writes the `Content-Length` header, waits for that write's callback, and writes the body: two system calls a
 * message, a turn of the event loop before the first, and a client that may wake up twice. On this project's 2-core
 * VM a pipe write that wakes a sleeping reader costs 0.1–0.3 ms of the writer's CPU, so it is the largest part of
 * a keystroke's diagnostics latency for a median-size Dockerfile (docs/architecture/lsp.md, "stdout"). Here the
 * message is serialised and written synchronously in the order `write` is called, which is the order vscode-jsonrpc
 * sends them in, and the returned promise settles with the stream's callback, as the library's writer does.
 *
 * The reader stays vscode-jsonrpc's (`process.stdin` is passed to createConnection as a stream, which also keeps
 * vscode-languageserver's exit when stdin ends); the console redirect that its own `--stdio` transport installs
 * is `redirectConsole` below.
 */
import { AbstractMessageWriter, type Message, type MessageWriter } from 'vscode-languageserver/node';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';

export class StdioMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private errorCount = 0;

  constructor(private readonly stream: NodeJS.WritableStream) {
    super();
    stream.on('error', (e: Error) => this.fireError(e));
    stream.on('close', () => this.fireClose());
  }

  write(msg: Message): Promise<void> {
    let frame: Buffer;
    try {
      frame = frameMessage(msg);
    } catch (e) {
      // e.g. a cyclic or BigInt-holding result: that message fails, the connection goes on
      const error = e instanceof Error ? e : new Error(String(e));
      this.fireError(error, msg, ++this.errorCount);
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.stream.write(frame, (e?: Error | null) => {
        if (!e) return resolve();
        this.fireError(e, msg, ++this.errorCount);
        reject(e);
      });
    });
  }

  end(): void {
    this.stream.end();
  }
}

/** `Content-Length: N\r\n\r\n` + the JSON body (UTF-8) in one buffer. */
export function frameMessage(msg: unknown): Buffer {
  const body = JSON.stringify(msg);
  const length = Buffer.byteLength(body, 'utf8');
  const header = `Content-Length: ${length}\r\n\r\n`;
  const frame = Buffer.allocUnsafe(header.length + length);
  frame.write(header, 0, 'ascii');
  frame.write(body, header.length, 'utf8');
  return frame;
}

interface ConsoleSink {
  log(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Over stdio, stdout carries the protocol: a stray `console.log` (ours or a dependency's) would corrupt it. As
 * vscode-languageserver does for its own `--stdio` transport, console output becomes LSP log messages: every method
 * of the global console (log, table, time, count, group…) is rebound to a Console that writes to the sink, stdout
 * output as log/info lines by method and stderr output (error, warn, trace, assert) as errors or warnings.
 */
export function redirectConsole(sink: ConsoleSink): void {
  const lines = (send: (message: string) => void) => new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      send(String(chunk).replace(/\r?\n$/, ''));
      callback();
    },
  });
  const out = new Console({ stdout: lines((m) => sink.log(m)), stderr: lines((m) => sink.error(m)) });
  const target = console as unknown as Record<string, unknown>;
  for (const key of Object.keys(out) as (keyof Console)[]) {
    const method = out[key];
    if (typeof method === 'function') target[key] = (method as (...a: unknown[]) => unknown).bind(out);
  }
  // the same levels as vscode-languageserver's redirect, where the message type says more than the stream
  const text = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
  target.info = (...args: unknown[]) => sink.info(text(args));
  target.warn = (...args: unknown[]) => sink.warn(text(args));
}
