/**
 * The language server: translates LSP requests into calls on the analysis services and back. No analysis lives here.
 * Every handler runs through `FeatureGuard`, so an exception in one feature gives an empty answer and one log line,
 * never a dead process (see ARCHITECTURE.md "Robustness"); document requests go through `RequestGate`
 * (cancellation, ContentModified, the ShadowText of pathological documents: docs/architecture/lsp.md).
 */
import {
  CodeActionKind,
  type CompletionItem,
  Connection,
  type DocumentLink,
  type SemanticTokens,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  Diagnostic,
  DiagnosticSeverity,
  DiagnosticTag,
  InitializeParams,
  InitializeResult,
  Location,
  TextDocumentSyncKind,
  TextDocuments,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CommandIds, DockerfileLanguageServiceFactory, type DockerfileLanguageService } from 'dockerfile-language-service';
import { ValidationCode } from 'dockerfile-utils';
import { DiagnosticsRunner } from './diagnosticsRunner';
import { computeCodeActions, FIX_ALL_KIND } from './codeActions';
import { RuleSettingsProvider, SETTINGS_FILE_GLOB } from '../rules/ruleSettingsProvider';
import type { StrataDiagnostic } from '../rules/strataDiagnostic';
import { BuildProgressNotification, BuildRequest, StatusRequest } from '../protocol/lspMessages';
import { handleBuildRequest } from '../build/buildService';
import { FeatureGuard } from './featureGuard';
import { ImageSessions, registerImageRequests } from './imageRequests';
import { registerContainerRequests } from '../container/containerRequests';
import { openImage } from '../image/imageReader';
import { DockerClient } from '../docker/dockerClient';
import { clampRange } from './positions';
import { RequestGate } from './requestGate';
import { computeSemanticTokens, SEMANTIC_TOKENS_LEGEND } from './semanticTokens';
import { installAstShims } from '../dockerfile/astShims';
import { PredictionAnnotations, mergeHover } from './annotations';
import { traceSink } from './traceSink';
import { ContextChangedNotification, PredictionConfigNotification, PredictionRequest } from '../protocol/lspMessages';

export const SERVER_VERSION = '0.1.0';

/** Tag completion may wait for Docker Hub; past this the editor gets no completion rather than a frozen popup. */
const COMPLETION_TIMEOUT_MS = 1000;

const LS_COMMANDS = Object.values(CommandIds) as string[];

export class StrataServer {
  private readonly documents = new TextDocuments(TextDocument);
  private readonly service: DockerfileLanguageService = DockerfileLanguageServiceFactory.createLanguageService();
  private readonly guard: FeatureGuard;
  private readonly gate: RequestGate;
  private readonly pendingValidation = new Map<string, NodeJS.Immediate>();
  private readonly validation = new Map<string, { running: boolean; dirty: boolean }>();
  private readonly diagnosticsRunner: DiagnosticsRunner;
  private readonly started = Date.now();
  private applyEditSupport = false;
  /** `strata.rules` settings, workspace .strata.json/.hadolint.yaml and .dockerignore for each diagnostics run. */
  private readonly ruleSettings = new RuleSettingsProvider();
  private configurationSupport = false;
  private watchedFilesSupport = false;
  /**
   * `STRATA_TRACE_DIAGNOSTICS=1` logs where each diagnostics run spent its time (docs/architecture/lsp.md); a file
   * path appends it to that file instead (traceSink.ts).
   */
  private readonly trace = traceSink(process.env.STRATA_TRACE_DIAGNOSTICS, (l) => this.connection.console.log(l));
  private readonly annotations: PredictionAnnotations;

  /** `workerScript`: the bundle that runs diagnostics in a worker thread (server.ts passes itself); none = in-process. */
  constructor(private readonly connection: Connection, options: { workerScript?: string } = {}) {
    this.guard = new FeatureGuard((m) => connection.console.error(m));
    this.diagnosticsRunner = new DiagnosticsRunner(options.workerScript, (m) => connection.console.error(m));
    this.gate = new RequestGate(this.documents, this.guard);
    installAstShims();
    this.service.setLogger({ log: (m) => connection.console.log(m) });
    this.annotations = new PredictionAnnotations(connection, () => this.documents.all().filter((d) => d.languageId === 'dockerfile' || /dockerfile|containerfile/i.test(d.uri)), (m) => connection.console.warn(m));
  }

  listen(): void {
    const c = this.connection;
    const docs = this.documents;
    const g = this.guard;
    const text = (uri: string) => docs.get(uri)?.getText();

    c.onInitialize((p) => {
      const result = this.initialize(p);
      this.gate.markReady();
      return result;
    });
    c.onInitialized(() => {
      void c.client.register(DidChangeConfigurationNotification.type).catch(() => undefined);
      // Settings files are cached between runs (ruleSettingsProvider.ts); a watching client tells us when they change.
      if (this.watchedFilesSupport) {
        void c.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: SETTINGS_FILE_GLOB }] }).catch(() => undefined);
      }
      void this.refreshRuleSettings();
    });
    // A background re-check (clients without file watching) or a file event found a changed settings file.
    this.ruleSettings.onStale = () => this.recheckOpenDocuments();
    c.onDidChangeWatchedFiles((p) => g.run('watchedFiles', undefined, () => {
      if (this.ruleSettings.invalidateUris(p.changes.map((e) => e.uri))) this.recheckOpenDocuments();
    }));
    // Rule severities live in the `strata` section; re-read it and re-check open documents when settings change.
    c.onDidChangeConfiguration((p) => {
      if (!this.configurationSupport) this.ruleSettings.setSettings((p.settings as { strata?: unknown } | null)?.strata);
      void this.refreshRuleSettings();
    });

    docs.onDidOpen((e) => this.scheduleValidation(e.document));
    docs.onDidChangeContent((e) => this.scheduleValidation(e.document));
    docs.onDidClose((e) => {
      const pending = this.pendingValidation.get(e.document.uri);
      if (pending) clearImmediate(pending);
      this.pendingValidation.delete(e.document.uri);
      this.gate.forget(e.document.uri);
      this.diagnosticsRunner.forget(e.document.uri);
      this.ruleSettings.forget(e.document.uri);
      this.annotations.forget(e.document.uri);
      void c.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    });

    // Every document request goes through the gate: ServerNotInitialized before `initialize`, RequestCancelled /
    // ContentModified for stale work, the analysis on the document's ShadowText with positions mapped in and out.
    const h = this.gate;
    const svc = this.service;
    c.onCompletion(h.handle('completion', [] as CompletionItem[], async (a, p) =>
      // Tag completion after `FROM image:` asks Docker Hub; never let an unreachable registry stall the editor.
      !h.withinLookupLimit(a, 'completion') ? []
        : a.map(await withTimeout(svc.computeCompletionItems(a.text, a.toShadow(p.position)), COMPLETION_TIMEOUT_MS, []))));
    c.onCompletionResolve(h.plain('completionResolve', (item: CompletionItem) => item, (item) => svc.resolveCompletionItem(item)));
    c.onHover(h.handle('hover', null, async (a, p) => mergeHover(h.withinLookupLimit(a, 'hover') ? a.map(svc.computeHover(a.text, a.toShadow(p.position))) : null,
      await g.runAsync('predictionHover', null, () => this.annotations.hover(a.shadowDocument, a.toShadow(p.position))))));
    // Cache predictions (annotations.ts): CodeLens or inlay hints per instruction, settings from the client. They see
    // the ShadowText as a document (same lines; pathological parts cut), so a 1 MB line cannot stall them either.
    c.onCodeLens(h.handle('codeLens', [], async (a) => a.map(await this.annotations.codeLenses(a.shadowDocument))));
    c.languages.inlayHint.on(h.handle('inlayHint', [], async (a) => a.map(await this.annotations.inlayHints(a.shadowDocument))));
    c.onNotification(PredictionConfigNotification, (p) => g.run('predictionConfig', undefined, () => this.annotations.configure(p)));
    c.onNotification(ContextChangedNotification, (p) => g.run('contextChanged', undefined, () => {
      if (this.ruleSettings.invalidate(p.paths)) this.recheckOpenDocuments();
      this.annotations.contextChanged(p.paths);
    }));
    c.onRequest(PredictionRequest, (p) => g.runAsync('prediction', null, async () => {
      const doc = docs.get(p.uri);
      return doc ? this.annotations.predict(doc) : null;
    }));
    c.onSignatureHelp(h.handle('signatureHelp', null, (a, p) => (h.withinLookupLimit(a, 'signatureHelp') ? svc.computeSignatureHelp(a.text, a.toShadow(p.position)) : null)));
    c.onDocumentSymbol(h.handle('documentSymbol', [], (a, p) => h.memo(a, 'documentSymbol', () => a.map(svc.computeSymbols(p.textDocument, a.text)))));
    c.onFoldingRanges(h.handle('foldingRange', [], (a) => h.memo(a, 'foldingRange', () => a.map(svc.computeFoldingRanges(a.text)))));
    c.onDocumentFormatting(h.handle('formatting', [], (a, p) => a.map(svc.format(a.text, p.options))));
    c.onDocumentRangeFormatting(h.handle('rangeFormatting', [], (a, p) => a.map(svc.formatRange(a.text, a.shadowRange(p.range), p.options))));
    c.onDocumentOnTypeFormatting(h.handle('onTypeFormatting', [], (a, p) => a.map(svc.formatOnType(a.text, a.toShadow(p.position), p.ch, p.options))));
    c.onPrepareRename(h.handle('prepareRename', null, (a, p) => (h.withinLookupLimit(a, 'prepareRename') ? a.map(svc.prepareRename(a.text, a.toShadow(p.position))) : null)));
    c.onRenameRequest(h.handle('rename', null, (a, p) => {
      if (!h.withinLookupLimit(a, 'rename')) return null;
      const edits = a.map(svc.computeRename(p.textDocument, a.text, a.toShadow(p.position), p.newName));
      return { changes: { [p.textDocument.uri]: edits } };
    }));
    c.onDefinition(h.handle('definition', null, (a, p) => (h.withinLookupLimit(a, 'definition') ? a.map(svc.computeDefinition(p.textDocument, a.text, a.toShadow(p.position))) : null)));
    c.onReferences(h.handle('references', [] as Location[], (a, p) => {
      if (!h.withinLookupLimit(a, 'references')) return [];
      // The service's highlights are exactly the in-file references of a stage name or variable.
      const at = a.toShadow(p.position);
      const highlights = svc.computeHighlightRanges(a.text, at);
      const defn = svc.computeDefinition(p.textDocument, a.text, at);
      return a.map(highlights
        .filter((x) => p.context.includeDeclaration || !defn || !sameRange(x.range, defn.range))
        .map((x) => Location.create(p.textDocument.uri, x.range)));
    }));
    c.onDocumentHighlight(h.handle('documentHighlight', [], (a, p) => (h.withinLookupLimit(a, 'documentHighlight') ? a.map(svc.computeHighlightRanges(a.text, a.toShadow(p.position))) : [])));
    c.onDocumentLinks(h.handle('documentLink', [], (a) => a.map(svc.computeLinks(a.text))));
    c.onDocumentLinkResolve(h.plain('documentLinkResolve', (link: DocumentLink) => link, (link) => svc.resolveLink(link)));
    // Our own linear producer on the real text (see semanticTokens.ts): no shadow needed, memoised per version.
    c.languages.semanticTokens.on(h.handle('semanticTokens', { data: [] } as SemanticTokens, (a) =>
      h.memo(a, 'semanticTokens', () => computeSemanticTokens(a.document.getText()))));
    c.onCodeAction((p) => g.run('codeAction', [], () => {
      const t = text(p.textDocument.uri);
      if (t === undefined) return [];
      // dockerfile-language-service keys its fixes by dockerfile-utils' numeric codes; translate ours back.
      const diagnostics = p.context.diagnostics
        .map((d) => ({ ...d, code: numericCode(d.code) }))
        .filter((d) => d.code !== undefined);
      const strata = g.run('strataCodeActions', [], () => computeCodeActions(t, p, this.ruleSettings.cachedOptionsFor(p.textDocument.uri)));
      if (p.context.only?.every((k) => k.startsWith(CodeActionKind.Source))) return strata;
      return [...strata, ...this.service.computeCodeActions(p.textDocument, p.range, { ...p.context, diagnostics } as never)];
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
    c.onRequest(BuildRequest, (p, token) => g.runAsync('build', {
      exitCode: 2, cancelled: false, error: 'internal error in the build runner (see the Strata log)', diagnostics: [],
      imageId: null, tags: [], recordFile: null, steps: [], prediction: [], durationMs: 0,
    }, () => handleBuildRequest(p, token, (n) => void c.sendNotification(BuildProgressNotification, n))));
    registerImageRequests(c, g, new ImageSessions(openImage, (dockerPath) => new DockerClient({ dockerPath })));
    registerContainerRequests(c, g, openImage);
    c.onRequest(StatusRequest, () => ({
      version: SERVER_VERSION,
      uptimeMs: Date.now() - this.started,
      openDocuments: docs.all().length,
      featureErrors: { ...g.errorCounts },
    }));

    docs.listen(c);
    c.listen();
  }

  private async refreshRuleSettings(): Promise<void> {
    if (this.configurationSupport) {
      const section: unknown = await this.connection.workspace.getConfiguration('strata').catch(() => undefined);
      this.ruleSettings.setSettings(section);
    }
    this.recheckOpenDocuments();
  }

  private recheckOpenDocuments(): void {
    for (const d of this.documents.all()) this.scheduleValidation(d);
  }

  private initialize(params: InitializeParams): InitializeResult {
    const caps = params.capabilities;
    this.applyEditSupport = caps.workspace?.applyEdit === true;
    this.configurationSupport = caps.workspace?.configuration === true;
    this.watchedFilesSupport = caps.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    this.ruleSettings.setRoots(params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []));
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
        semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: { delta: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
        executeCommandProvider: { commands: LS_COMMANDS },
        codeLensProvider: { resolveProvider: false },
        inlayHintProvider: true,
      },
    };
  }

  /**
   * Diagnostics are computed on the next turn of the event loop (setImmediate: a later change of the same document
   * handled before it replaces it) and published with the version they were computed for. vscode-jsonrpc handles one
   * message per turn, so what coalesces fast typing is `validate`'s one-check-in-flight rule, not this.
   * (Calling `validate` directly was measured in the fifth session: the turn costs 0.01–0.02 ms, "queued" in the trace.)
   */
  private scheduleValidation(doc: TextDocument): void {
    const uri = doc.uri;
    const pending = this.pendingValidation.get(uri);
    if (pending) clearImmediate(pending);
    const scheduled = this.trace ? performance.now() : 0;
    this.pendingValidation.set(uri, setImmediate(() => {
      this.pendingValidation.delete(uri);
      void this.validate(uri, scheduled);
    }));
  }

  /**
   * One analysis in flight per document: an edit that arrives meanwhile marks it dirty and the newest text is
   * analysed next; results for a version that is no longer current are not published.
   */
  private async validate(uri: string, scheduled = 0): Promise<void> {
    const state = this.validation.get(uri) ?? { running: false, dirty: false };
    this.validation.set(uri, state);
    if (state.running) {
      state.dirty = true;
      return;
    }
    const current = this.documents.get(uri);
    if (!current) return;
    state.running = true;
    state.dirty = false;
    const version = current.version;
    const t0 = this.trace ? performance.now() : 0;
    const shadow = this.gate.analysed(uri)!.shadow;
    try {
      const options = this.ruleSettings.cachedOptionsFor(uri);
      const t1 = this.trace ? performance.now() : 0;
      // The URI as document key: the runner keeps this document's previous analysis (in the worker, or on this thread
      // when the check is cheap: mainThreadPolicy.ts) and re-checks only what changed.
      const { diagnostics, ruleErrors, computeMs, ranOn } = await this.diagnosticsRunner.check(shadow.text, options, uri);
      const t2 = this.trace ? performance.now() : 0;
      for (const r of ruleErrors) this.guard.record(r.rule === 'diagnostics' ? 'diagnostics' : `rule ${r.rule}`, new Error(r.message));
      const now = this.documents.get(uri);
      if (now && now.version === version && !state.dirty) {
        // Lines blanked in the shadow (see shadowText.ts) carry no findings of their own; drop what was said about them.
        const lsp = this.guard.run('diagnostics', [] as Diagnostic[], () => diagnostics
          .filter((d) => !shadow.isBlanked(d.line))
          .map((d) => toLspDiagnostic(shadow.mapDiagnostic(d), now)));
        const t3 = this.trace ? performance.now() : 0;
        void this.connection.sendDiagnostics({ uri, version, diagnostics: lsp });
        if (this.trace) {
          const ms = (a: number, b: number) => (b - a).toFixed(2);
          this.trace(`diagnostics trace v${version}: queued ${scheduled ? ms(scheduled, t0) : '-'} ms, shadow ${ms(t0, t1)} ms (options included), `
            + `ran on ${ranOn ?? '-'}: round trip ${ms(t1, t2)} ms, check ${computeMs?.toFixed(2) ?? '-'} ms, convert ${ms(t2, t3)} ms, publish ${ms(t3, performance.now())} ms, ${lsp.length} diagnostics; `
            // Epoch times (ms): the benchmark splits the rest of the path into message in (before "queued") and out.
            + `scheduled at ${scheduled ? (performance.timeOrigin + scheduled).toFixed(3) : '-'}, published at ${(performance.timeOrigin + t3).toFixed(3)}`);
        }
      }
    } finally {
      state.running = false;
      if (state.dirty && this.documents.get(uri)) void this.validate(uri);
      else if (!this.documents.get(uri)) this.validation.delete(uri);
    }
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

/** The promise's value, or `fallback` once `ms` have passed (the late value is dropped). */
function withTimeout<T>(promise: PromiseLike<T> | T, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => { timer = setTimeout(() => resolve(fallback), ms); });
  return Promise.race([Promise.resolve(promise), late]).finally(() => clearTimeout(timer));
}
