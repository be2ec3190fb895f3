/**
 * Entry point of the language server process (composition root).
 * `node dist/server.js --stdio` for any editor, `--node-ipc` for the VS Code extension (vscode-languageserver picks
 * the transport from argv).
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { StrataServer } from './lsp/strataServer';

const connection = createConnection(ProposedFeatures.all);

// Last line of defence: a stray rejection is logged through LSP (never on stdout, which carries the protocol).
process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${String(e)}`));
process.on('uncaughtException', (e) => connection.console.error(`uncaught exception: ${e.message}`));

new StrataServer(connection).listen();
