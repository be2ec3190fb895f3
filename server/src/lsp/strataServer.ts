/**
 * The language server: translates LSP requests into calls on the analysis services and back. No analysis lives here.
 * Every handler runs through `FeatureGuard`, so an exception in one feature gives an empty answer and one log line,
 * never a dead process (see ARCHITECTURE.md "Robustness").
 */
import {
  CodeActionKind,
  Connection,
  DidChangeConfigurationNotification,
  Diagnostic,
  DiagnosticSeverity,
  DiagnosticTag,
  InitializeParams,
  InitializeResult,
  Location,
  SemanticTokenModifiers,
  SemanticTokenTypes,
  TextDocumentSyncKind,
  TextDocuments,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CommandIds, DockerfileLanguageServiceFactory, type DockerfileLanguageService } from 'dockerfile-language-service';
import { ValidationCode } from 'dockerfile-utils';
import { checkDockerfile } from '../rules/checkDockerfile';
import type { StrataDiagnostic } from '../rules/strataDiagnostic';
import { StatusRequest } from '../protocol/lspMessages';
import { FeatureGuard } from './featureGuard';
import { clampRange } from './positions';

export const SERVER_VERSION = '0.1.0';

const SEMANTIC_LEGEND = {
  tokenTypes: [
    SemanticTokenTypes.keyword, SemanticTokenTypes.comment, SemanticTokenTypes.parameter, SemanticTokenTypes.property,
    SemanticTokenTypes.namespace, SemanticTokenTypes.class, SemanticTokenTypes.macro, SemanticTokenTypes.string,
    SemanticTokenTypes.variable, SemanticTokenTypes.operator,
  ],
  tokenModifiers: [SemanticTokenModifiers.declaration, SemanticTokenModifiers.definition, SemanticTokenModifiers.deprecated],
};

const LS_COMMANDS = Object.values(CommandIds) as string[];

export class StrataServer {
  private readonly documents = new TextDocuments(TextDocument);
  private readonly service: DockerfileLanguageService = DockerfileLanguageServiceFactory.createLanguageService();
  private readonly guard: FeatureGuard;
  private readonly pendingValidation = new Map<string, NodeJS.Immediate>();
  private readonly started = Date.now();
  private applyEditSupport = false;

  constructor(private readonly connection: Connection) {
    this.guard = new FeatureGuard((m) => connection.console.error(m));
    this.service.setLogger({ log: (m) => connection.console.log(m) });
  }

  listen(): void {
    const c = this.connection;
    const docs = this.documents;
    const g = this.guard;
    const text = (uri: string) => docs.get(uri)?.getText();

    c.onInitialize((p) => this.initialize(p));
    c.onInitialized(() => {
      void c.client.register(DidChangeConfigurationNotification.type).catch(() => undefined);
    });

    docs.onDidOpen((e) => this.scheduleValidation(e.document));
    docs.onDidChangeContent((e) => this.scheduleValidation(e.document));
    docs.onDidClose((e) => {
      const pending = this.pendingValidation.get(e.document.uri);
      if (pending) clearImmediate(pending);
      this.pendingValidation.delete(e.document.uri);
      void c.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    });

    c.onCompletion((p) => g.runAsync('completion', [], async () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? [] : await this.service.computeCompletionItems(t, p.position);
    }));
    c.onCompletionResolve((item) => g.run('completionResolve', item, () => this.service.resolveCompletionItem(item)));
    c.onHover((p) => g.run('hover', null, () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? null : this.service.computeHover(t, p.position);
    }));
    c.onSignatureHelp((p) => g.run('signatureHelp', null, () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? null : this.service.computeSignatureHelp(t, p.position);
    }));
    c.onDocumentSymbol((p) => g.run('documentSymbol', [], () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? [] : this.service.computeSymbols(p.textDocument, t);
    }));
    c.onFoldingRanges((p) => g.run('foldingRange', [], () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? [] : this.service.computeFoldingRanges(t);
    }));
    c.onDocumentFormatting((p) => g.run('formatting', [], () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? [] : this.service.format(t, p.options);
    }));
    c.onDocumentRangeFormatting((p) => g.run('rangeFormatting', [], () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? [] : this.service.formatRange(t, p.range, p.options);
    }));
    c.onDocumentOnTypeFormatting((p) => g.run('onTypeFormatting', [], () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? [] : this.service.formatOnType(t, p.position, p.ch, p.options);
    }));
    c.onPrepareRename((p) => g.run('prepareRename', null, () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? null : this.service.prepareRename(t, p.position);
    }));
    c.onRenameRequest((p) => g.run('rename', null, () => {
      const t = text(p.textDocument.uri);
      if (t === undefined) return null;
      const edits = this.service.computeRename(p.textDocument, t, p.position, p.newName);
      return { changes: { [p.textDocument.uri]: edits } };
    }));
    c.onDefinition((p) => g.run('definition', null, () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? null : this.service.computeDefinition(p.textDocument, t, p.position);
    }));
    c.onReferences((p) => g.run('references', [] as Location[], () => {
      const t = text(p.textDocument.uri);
      if (t === undefined) return [];
      // The service's highlights are exactly the in-file references of a stage name or variable.
      const highlights = this.service.computeHighlightRanges(t, p.position);
      const defn = this.service.computeDefinition(p.textDocument, t, p.position);
      return highlights
        .filter((h) => p.context.includeDeclaration || !defn || !sameRange(h.range, defn.range))
        .map((h) => Location.create(p.textDocument.uri, h.range));
    }));
    c.onDocumentHighlight((p) => g.run('documentHighlight', [], () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? [] : this.service.computeHighlightRanges(t, p.position);
    }));
    c.onDocumentLinks((p) => g.run('documentLink', [], () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? [] : this.service.computeLinks(t);
    }));
    c.onDocumentLinkResolve((link) => g.run('documentLinkResolve', link, () => this.service.resolveLink(link)));
    c.languages.semanticTokens.on((p) => g.run('semanticTokens', { data: [] }, () => {
      const t = text(p.textDocument.uri);
      return t === undefined ? { data: [] } : this.service.computeSemanticTokens(t);
    }));
    c.onCodeAction((p) => g.run('codeAction', [], () => {
      const t = text(p.textDocument.uri);
      if (t === undefined) return [];
      // dockerfile-language-service keys its fixes by dockerfile-utils' numeric codes; translate ours back.
      const diagnostics = p.context.diagnostics
        .map((d) => ({ ...d, code: numericCode(d.code) }))
        .filter((d) => d.code !== undefined);
      return this.service.computeCodeActions(p.textDocument, p.range, { ...p.context, diagnostics } as never);
    }));
    c.onExecuteCommand((p) => g.runAsync('executeCommand', null, async () => {
      const uri = (p.arguments?.[0] as string | undefined) ?? '';
      const doc = docs.get(uri);
      if (!doc || !LS_COMMANDS.includes(p.command)) return null;
      const edits = this.service.computeCommandEdits(doc.getText(), p.command, p.arguments ?? []);
      if (edits.length > 0 && this.applyEditSupport) {
        await c.workspace.applyEdit({ documentChanges: [{ textDocument: { uri, version: doc.version }, edits }] });
      }
      return null;
    }));
    c.onRequest(StatusRequest, () => ({
      version: SERVER_VERSION,
      uptimeMs: Date.now() - this.started,
      openDocuments: docs.all().length,
      featureErrors: { ...g.errorCounts },
    }));

    docs.listen(c);
    c.listen();
  }

  private initialize(params: InitializeParams): InitializeResult {
    const caps = params.capabilities;
    this.applyEditSupport = caps.workspace?.applyEdit === true;
    this.service.setCapabilities({
      completion: { completionItem: caps.textDocument?.completion?.completionItem as never },
      hover: { contentFormat: caps.textDocument?.hover?.contentFormat },
      foldingRange: {
        lineFoldingOnly: caps.textDocument?.foldingRange?.lineFoldingOnly,
        rangeLimit: caps.textDocument?.foldingRange?.rangeLimit,
      },
    });
    return {
      serverInfo: { name: 'strata', version: SERVER_VERSION },
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { resolveProvider: true, triggerCharacters: ['=', ' ', '$', '-'] },
        hoverProvider: true,
        signatureHelpProvider: { triggerCharacters: ['-', '[', ',', ' ', '='] },
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        documentFormattingProvider: true,
        documentRangeFormattingProvider: true,
        documentOnTypeFormattingProvider: { firstTriggerCharacter: '\\', moreTriggerCharacter: ['`'] },
        renameProvider: caps.textDocument?.rename?.prepareSupport ? { prepareProvider: true } : true,
        definitionProvider: true,
        referencesProvider: true,
        documentHighlightProvider: true,
        documentLinkProvider: { resolveProvider: true },
        semanticTokensProvider: { legend: SEMANTIC_LEGEND, full: { delta: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        executeCommandProvider: { commands: LS_COMMANDS },
      },
    };
  }

  /**
   * Diagnostics are computed once the current burst of messages has been read (setImmediate), so typing fast
   * costs one analysis per burst, and published with the version they were computed for.
   */
  private scheduleValidation(doc: TextDocument): void {
    const uri = doc.uri;
    const pending = this.pendingValidation.get(uri);
    if (pending) clearImmediate(pending);
    this.pendingValidation.set(uri, setImmediate(() => {
      this.pendingValidation.delete(uri);
      const current = this.documents.get(uri);
      if (!current) return;
      const diagnostics = this.guard.run('diagnostics', [] as Diagnostic[], () => {
        const found = checkDockerfile(current.getText(), {
          onRuleError: (rule, e) => this.guard.record(`rule ${rule}`, e),
        });
        return found.map((d) => toLspDiagnostic(d, current));
      });
      void this.connection.sendDiagnostics({ uri, version: current.version, diagnostics });
    }));
  }
}

export function toLspDiagnostic(d: StrataDiagnostic, doc: TextDocument): Diagnostic {
  const range = clampRange(
    { start: { line: d.line, character: d.character }, end: { line: d.endLine, character: d.endCharacter } },
    doc,
  );
  const diagnostic: Diagnostic = {
    range,
    severity: d.severity === 'error' ? DiagnosticSeverity.Error
      : d.severity === 'warning' ? DiagnosticSeverity.Warning
      : d.severity === 'info' ? DiagnosticSeverity.Information : DiagnosticSeverity.Hint,
    source: 'strata',
    code: d.rule,
    message: d.message,
  };
  if (d.docsUrl) diagnostic.codeDescription = { href: d.docsUrl };
  if (d.tags?.length) {
    diagnostic.tags = d.tags.map((t) => (t === 'deprecated' ? DiagnosticTag.Deprecated : DiagnosticTag.Unnecessary));
  }
  return diagnostic;
}

function numericCode(code: string | number | undefined): number | undefined {
  if (typeof code !== 'string' || !code.startsWith('syntax/')) return undefined;
  const name = code.slice('syntax/'.length).toUpperCase().replace(/-/g, '_');
  const value = (ValidationCode as unknown as Record<string, number>)[name];
  return typeof value === 'number' ? value : undefined;
}

function sameRange(a: { start: { line: number; character: number }; end: { line: number; character: number } }, b: typeof a): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}
