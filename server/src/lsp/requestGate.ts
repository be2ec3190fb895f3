/**
 * Every text-document request goes through here, so the rules that keep editors responsive hold for all features:
 * - before `initialize` a request gets ServerNotInitialized;
 * - the handler first yields to the event loop, so a `$/cancelRequest` or `didChange` already sent is read first;
 *   a cancelled request answers RequestCancelled, a request whose document changed meanwhile answers ContentModified
 *   (the client asks again for the new version);
 * - the analysis sees the document's `ShadowText` (pathological lines cut, see shadowText.ts) and positions are
 *   mapped in and out of it;
 * - an exception becomes the feature's empty result and one log line (`FeatureGuard`).
 */
import { ErrorCodes, LSPErrorCodes, ResponseError, type CancellationToken, type Position, type Range, type TextDocuments } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { FeatureGuard } from './featureGuard';
import { ShadowText } from './shadowText';

/** A document as the analysis sees it: the (possibly cut) text, plus the position mapping. */
export interface AnalysedDocument {
  readonly document: TextDocument;
  readonly uri: string;
  readonly version: number;
  /** The text to hand to analysis libraries. */
  readonly text: string;
  readonly shadow: ShadowText;
  /** The shadow text as a TextDocument (the document itself when nothing was cut), for services that take one. */
  readonly shadowDocument: TextDocument;
  toShadow(p: Position): Position;
  shadowRange(r: Range): Range;
  /** Maps every position inside a result back to the real document (in place) and returns it. */
  map<T>(result: T): T;
}

type Handler<P, R> = (params: P, token: CancellationToken) => Promise<R>;

export class RequestGate {
  private ready = false;
  private readonly cache = new Map<string, { version: number; analysed: AnalysedDocument; memo: Map<string, unknown> }>();

  constructor(private readonly documents: TextDocuments<TextDocument>, private readonly guard: FeatureGuard) {}

  /** Called once `initialize` has been answered. */
  markReady(): void {
    this.ready = true;
  }

  assertReady(): void {
    if (!this.ready) throw new ResponseError(ErrorCodes.ServerNotInitialized, 'the server has not been initialized');
  }

  forget(uri: string): void {
    this.cache.delete(uri);
  }

  /** The analysed form of an open document, built once per version. */
  analysed(uri: string): AnalysedDocument | undefined {
    const document = this.documents.get(uri);
    if (!document) return undefined;
    const hit = this.cache.get(uri);
    if (hit && hit.version === document.version && hit.analysed.document === document) return hit.analysed;
    const shadow = new ShadowText(document.getText());
    const shadowDocument = shadow.isIdentity ? document : TextDocument.create(uri, document.languageId, document.version, shadow.text);
    const analysed: AnalysedDocument = {
      document, uri, version: document.version, text: shadow.text, shadow, shadowDocument,
      toShadow: (p) => shadow.toShadow(p),
      shadowRange: (r) => ({ start: shadow.toShadow(r.start), end: shadow.toShadow(r.end) }),
      map: (r) => shadow.mapResult(r),
    };
    this.cache.set(uri, { version: document.version, analysed, memo: new Map() });
    return analysed;
  }

  /** A per-version memo (semantic tokens, symbols…): computed once per document version and feature. */
  memo<R>(a: AnalysedDocument, feature: string, compute: () => R): R {
    const entry = this.cache.get(a.uri);
    if (!entry || entry.analysed !== a) return compute();
    if (entry.memo.has(feature)) return entry.memo.get(feature) as R;
    const value = compute();
    entry.memo.set(feature, value);
    return value;
  }

  /**
   * dockerfile-language-service's variable and stage lookups (hover, definition, highlight, references, rename,
   * completion, signature help) are quadratic in the number of instructions: ~0.5 s at 2,000 instructions, tens of
   * seconds at 5,000. Past `MAX_LOOKUP_INSTRUCTIONS` those features answer empty (logged once per document) so the
   * server stays responsive; real Dockerfiles have a few hundred instructions at most.
   */
  withinLookupLimit(a: AnalysedDocument, feature: string): boolean {
    const count = this.memo(a, 'instructionCount', () => countInstructions(a.text));
    if (count <= MAX_LOOKUP_INSTRUCTIONS) return true;
    this.guard.notice(`oversized\0${a.uri}`, `${a.uri} has ${count} instructions (> ${MAX_LOOKUP_INSTRUCTIONS}): ${feature} and other lookups answer empty`);
    return false;
  }

  /**
   * Wraps a handler for a request about one document. `fn` gets the analysed document; an unknown document gets
   * `empty`.
   */
  handle<P extends { textDocument: { uri: string } }, R>(
    feature: string,
    empty: R,
    fn: (a: AnalysedDocument, params: P, token: CancellationToken) => R | Promise<R>,
  ): Handler<P, R> {
    return async (params, token) => {
      this.assertReady();
      const uri = params.textDocument.uri;
      const before = this.documents.get(uri)?.version;
      await yieldToEventLoop();
      this.checkCurrent(uri, before, token);
      const a = this.analysed(uri);
      if (!a) return empty;
      const result = await this.guard.runAsync(feature, empty, () => fn(a, params, token));
      this.checkCurrent(uri, a.version, token);
      return result;
    };
  }

  /**
   * Wraps a handler that is not about one document (resolve requests). On failure it answers `fallback(params)`
   * (for a resolve request: the item unresolved).
   */
  plain<P, R>(feature: string, fallback: (params: P) => R, fn: (params: P, token: CancellationToken) => R | Promise<R>): Handler<P, R> {
    return async (params, token) => {
      this.assertReady();
      await yieldToEventLoop();
      if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
      return this.guard.runAsync(feature, fallback(params), () => fn(params, token));
    };
  }

  private checkCurrent(uri: string, version: number | undefined, token: CancellationToken): void {
    if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
    if (this.documents.get(uri)?.version !== version) {
      throw new ResponseError(LSPErrorCodes.ContentModified, 'the document changed while the request was computed');
    }
  }
}

export const MAX_LOOKUP_INSTRUCTIONS = 2000;

const INSTRUCTION_LINE = /^[ \t]*(?:ADD|ARG|CMD|COPY|ENTRYPOINT|ENV|EXPOSE|FROM|HEALTHCHECK|LABEL|MAINTAINER|ONBUILD|RUN|SHELL|STOPSIGNAL|USER|VOLUME|WORKDIR)\b/gim;

/** Lines that start with an instruction keyword: a linear upper-bound estimate of the instruction count. */
export function countInstructions(text: string): number {
  let n = 0;
  INSTRUCTION_LINE.lastIndex = 0;
  while (INSTRUCTION_LINE.exec(text)) n++;
  return n;
}

/**
 * Lets the connection read what the client already sent (a cancel, a newer edit) before work starts. A cancel is
 * applied to the token as soon as its bytes are read (poll phase); queued notifications such as didChange are
 * dispatched one per setImmediate by vscode-jsonrpc, scheduled right after this handler started: the second
 * setImmediate runs after that dispatch.
 */
export async function yieldToEventLoop(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}
