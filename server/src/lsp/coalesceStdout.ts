/**
 * One write per LSP message on stdout.
 *
 * vscode-jsonrpc's StreamMessageWriter writes a message's `Content-Length` header and its JSON body with two
 * `write` calls. On a pipe each is its own system call, and the client's reader wakes up for each: in the LSP bench
 * a server that publishes nothing but empty diagnostics answered a keystroke in 0.73 ms that way against 0.20 ms
 * with one write per message (bench/referenceLspServer.js, REFERENCE_WRITER=single). Corking the stream from the
 * first write of a tick until the end of that tick hands both parts to libuv as one `writev`. Nothing is delayed
 * past the current tick, and the console patching vscode-languageserver does for `--stdio` stays as it is (we keep
 * its own stdio transport instead of passing a writer of ours).
 */
export function coalesceWrites(stream: NodeJS.WriteStream): void {
  if (typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') return;
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  stream.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as typeof stream.write;
}
