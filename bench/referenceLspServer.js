// Reference language servers for bench/lsp.bench.ts: the least any server built on vscode-languageserver does per
// didChange. REFERENCE_MODE=publish applies the change and publishes empty diagnostics; REFERENCE_MODE=parse also
// runs one bare dockerfile-ast parse of the new text first. Their didChange→publishDiagnostics latency, measured in
// the same run as Strata's, shows what the stdio/JSON-RPC path and a single parse cost inside a server process.
// REFERENCE_WRITER=single shows what writing each message in one system call would save on that path.
'use strict';
const { createConnection, TextDocuments, ProposedFeatures } = require('vscode-languageserver/node');
const { TextDocument } = require('vscode-languageserver-textdocument');
const { DockerfileParser } = require('dockerfile-ast');

const parse = process.env.REFERENCE_MODE === 'parse';
const connection = process.env.REFERENCE_WRITER === 'single' ? singleWriteConnection() : createConnection(ProposedFeatures.all);

// REFERENCE_WRITER=single: each message written to stdout in one write. vscode-jsonrpc's StreamMessageWriter writes
// the header and the body separately (two system calls, and a client that may wake up for each), after a setImmediate.
function singleWriteConnection() {
  const { AbstractMessageWriter, StreamMessageReader } = require('vscode-jsonrpc/node');
  class W extends AbstractMessageWriter {
    constructor(stream) { super(); this.stream = stream; stream.on('error', (e) => this.fireError(e)); stream.on('close', () => this.fireClose()); }
    write(msg) {
      const body = Buffer.from(JSON.stringify(msg), 'utf8');
      const out = Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
      return new Promise((resolve, reject) => this.stream.write(out, (e) => (e ? reject(e) : resolve())));
    }
    end() { this.stream.end(); }
  }
  return createConnection(ProposedFeatures.all, new StreamMessageReader(process.stdin), new W(process.stdout));
}
const documents = new TextDocuments(TextDocument);
connection.onInitialize(() => ({ capabilities: { textDocumentSync: 2 } }));
// STRATA_TRACE_DIAGNOSTICS: the same epoch times as Strata's trace line, so the benchmark splits this path the same
// way; like Strata's (server/src/lsp/traceSink.ts) to a file when the setting is a path, else as a log message.
const traceSetting = process.env.STRATA_TRACE_DIAGNOSTICS ?? '';
const trace = traceSetting !== '' && traceSetting !== '0';
const fs = require('node:fs');
const traceFd = require('node:path').isAbsolute(traceSetting) ? fs.openSync(traceSetting, 'a') : null;
const traceLine = (line) => (traceFd !== null ? fs.writeSync(traceFd, line + '\n') : connection.console.log(line));
documents.onDidChangeContent(({ document }) => {
  const scheduled = performance.now();
  if (parse) DockerfileParser.parse(document.getText());
  const published = performance.now();
  void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: [] });
  if (trace) {
    traceLine(`diagnostics trace v${document.version}: scheduled at ${(performance.timeOrigin + scheduled).toFixed(3)}, `
      + `published at ${(performance.timeOrigin + published).toFixed(3)}`);
  }
});
documents.listen(connection);
connection.listen();
