/**
 * One write per LSP message on stdout.
 *
 * vscode-jsonrpc's StreamMessageWriter writes a message's `Content-Length` header, waits for that write's callback,
 * then writes the JSON body. On a pipe each is its own system call, and the client's reader wakes up for each: in
 * the LSP bench a server that publishes nothing but empty diagnostics answered a keystroke in 0.73 ms that way
 * against 0.20 ms with one write per message (bench/referenceLspServer.js, REFERENCE_WRITER=single). (Corking the
 * stream does not help: the body is only written after the header's callback, which corking defers.) So a header
 * write is held back, its callback answered at once, and the header goes out in front of the body in one write.
 * If no body follows within the same turn of the event loop the header is written alone. Errors of the combined
 * write reach the body's callback (and the stream's 'error' event, as before). We keep vscode-languageserver's own
 * `--stdio` transport (and the console patching that comes with it) rather than passing a writer of ours.
 */
type Callback = (error?: Error | null) => void;

export function coalesceWrites(stream: NodeJS.WritableStream): void {
  const write = stream.write.bind(stream) as (chunk: string | Uint8Array, encoding?: BufferEncoding | Callback, cb?: Callback) => boolean;
  let header: string | null = null;
  const flushAlone = () => {
    if (header === null) return;
    const h = header;
    header = null;
    write(h, 'ascii');
  };
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | Callback, cb?: Callback): boolean => {
    const callback = typeof encoding === 'function' ? encoding : cb;
    const enc = typeof encoding === 'string' ? encoding : undefined;
    if (header === null && typeof chunk === 'string' && chunk.startsWith('Content-Length:') && chunk.endsWith('\r\n\r\n')) {
      header = chunk;
      setImmediate(flushAlone);
      if (callback) process.nextTick(callback, null);
      return true;
    }
    if (header !== null) {
      const body = typeof chunk === 'string' ? Buffer.from(chunk, enc ?? 'utf8') : chunk;
      const both = Buffer.concat([Buffer.from(header, 'ascii'), body]);
      header = null;
      return callback ? write(both, callback) : write(both);
    }
    return write(chunk, encoding, cb);
  }) as typeof stream.write;
}
