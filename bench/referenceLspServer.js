// Reference language servers for bench/lsp.bench.ts: the least any server built on vscode-languageserver does per
// didChange. REFERENCE_MODE=publish applies the change and publishes empty diagnostics; REFERENCE_MODE=parse also
// runs one bare dockerfile-ast parse of the new text first. Their didChange→publishDiagnostics latency, measured in
// the same run as Strata's, shows what the stdio/JSON-RPC path and a single parse cost inside a server process.
'use strict';
const { createConnection, TextDocuments, ProposedFeatures } = require('vscode-languageserver/node');
const { TextDocument } = require('vscode-languageserver-textdocument');
const { DockerfileParser } = require('dockerfile-ast');

const parse = process.env.REFERENCE_MODE === 'parse';
const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
connection.onInitialize(() => ({ capabilities: { textDocumentSync: 2 } }));
documents.onDidChangeContent(({ document }) => {
  if (parse) DockerfileParser.parse(document.getText());
  void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: [] });
});
documents.listen(connection);
connection.listen();
