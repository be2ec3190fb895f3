/**
 * Entry point of the language server process (composition root).
 * `node dist/server.js --stdio` for any editor, `--node-ipc` for the VS Code extension (vscode-languageserver picks
 * the transport from argv). The same bundle is started again as a worker thread that computes diagnostics off the
 * LSP thread (see lsp/diagnosticsRunner.ts).
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { createConnection, ProposedFeatures, type MessageReader } from 'vscode-languageserver/node';
import { StrataServer } from './lsp/strataServer';
import { DIAGNOSTICS_WORKER_ROLE, runDiagnosticsWorker } from './lsp/diagnosticsRunner';
import { redirectConsole, StdioMessageWriter } from './lsp/stdioMessageWriter';

if (!isMainThread && (workerData as { role?: string } | null)?.role === DIAGNOSTICS_WORKER_ROLE) {
  runDiagnosticsWorker();
} else {
  // --stdio: each message written at once in one system call (stdioMessageWriter.ts). stdin goes in as a stream,
  // which vscode-languageserver accepts in a reader's place at run time: it wraps it, and still ends the process
  // when the client closes it. Other transports from argv as usual.
  const stdio = process.argv.includes('--stdio');
  const connection = stdio
    ? createConnection(ProposedFeatures.all, process.stdin as unknown as MessageReader, new StdioMessageWriter(process.stdout))
    : createConnection(ProposedFeatures.all);
  if (stdio) redirectConsole(connection.console);

  // Last line of defence: a stray rejection is logged through LSP (never on stdout, which carries the protocol), as
  // one line without a stack trace; STRATA_DEBUG=1 adds the stack.
  const describe = (e: unknown) => (e instanceof Error ? (process.env.STRATA_DEBUG === '1' ? e.stack ?? e.message : e.message) : String(e));
  process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${describe(e)}`));
  process.on('uncaughtException', (e) => connection.console.error(`uncaught exception: ${describe(e)}`));
  // A client that vanished: writing to a closed pipe must end the process quietly, not print EPIPE traces.
  process.stdout.on('error', () => process.exit(1));

  new StrataServer(connection, { workerScript: __filename }).listen();
}
