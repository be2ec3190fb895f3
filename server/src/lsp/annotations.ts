import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeLens, Connection, InlayHint, Position } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { loadLatestBuildRecord, recordKey } from '../build/buildRecordStore';
import type { BuildInputs } from '../cache/buildInputs';
import { computeBuildInputs, markContextProblem } from '../cache/computeBuildInputs';
import { nodeContextFs } from '../cache/contextFs';
import { ContextIndex } from '../cache/contextIndex';
import { predictCache, type PredictedInstruction } from '../cache/predictCache';
import { dockerImageResolver } from '../cache/snapshotBuildInputs';
import { parseDockerfileModel } from '../dockerfile/dockerfileModel';
import { cachedRemoteResolver, httpRemoteResolver, type RemoteResolver } from '../cache/remoteSources';
import {
  BusyNotification,
  PredictionChangedNotification,
  type PredictionConfigParams,
  type PredictionResult,
} from '../protocol/lspMessages';

/**
 * Per-instruction cache predictions for open Dockerfiles, shown as CodeLens or inlay hints with a hover explanation.
 * One ContextIndex per build context, walked here and hashed in worker threads (cache/contextHashPool.ts), refreshed
 * incrementally from the client's file watcher (only changed paths are re-stat'ed/re-hashed), recomputation
 * debounced and cancellable (a newer document version or setting aborts the running one, workers included).
 */
type Mode = 'codelens' | 'inlayHints' | 'off';

interface FileChoice { target: string | null; buildArgs: Record<string, string>; context?: string }

interface Cached { key: string; promise: Promise<PredictionResult | null>; abort: AbortController }

const BASE_DIGEST_TTL_MS = 30_000;

export class PredictionAnnotations {
  private stateDir: string | null = null;
  private mode: Mode = 'codelens';
  /** Set while the client allows downloading `ADD <url>` sources (remoteSources.ts); shared downloads, 60 s per URL. */
  private resolveRemote: RemoteResolver | undefined;
  private defaults: FileChoice = { target: null, buildArgs: {} };
  private readonly choices = new Map<string, FileChoice>();
  private readonly indexes = new Map<string, { index: ContextIndex; scanned: boolean; pending: Set<string> }>();
  private readonly cache = new Map<string, Cached>();
  /** Bumped on any change outside the document text (files, records, settings). */
  private generation = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly recordStamps = new Map<string, number>();
  private readonly baseDigests = new Map<string, { at: number; value: Promise<string | null> }>();
  private readonly poll: NodeJS.Timeout;

  constructor(
    private readonly connection: Connection,
    private readonly openDocuments: () => TextDocument[],
    private readonly log: (m: string) => void = () => undefined,
  ) {
    // A build (in this process or from the CLI) writes a new record: notice it and refresh the lenses.
    this.poll = setInterval(() => void this.checkRecords(), 3000);
    this.poll.unref();
  }

  dispose(): void {
    clearInterval(this.poll);
    for (const c of this.cache.values()) c.abort.abort();
  }

  configure(p: PredictionConfigParams): void {
    if (p.stateDir !== undefined) this.stateDir = p.stateDir || null;
    if (p.annotations) this.mode = p.annotations;
    if (p.checkRemoteSources !== undefined) this.resolveRemote = p.checkRemoteSources ? cachedRemoteResolver(httpRemoteResolver()) : undefined;
    if (p.target !== undefined || p.buildArgs !== undefined || p.context !== undefined) {
      const file = p.dockerfile ? path.resolve(p.dockerfile) : null;
      const prev = file ? this.choices.get(file) ?? { ...this.defaults } : this.defaults;
      const next: FileChoice = {
        target: p.target !== undefined ? p.target : prev.target,
        buildArgs: p.buildArgs ?? prev.buildArgs,
        ...(p.context ?? prev.context ? { context: p.context ?? prev.context } : {}),
      };
      if (file) this.choices.set(file, next); else this.defaults = next;
    }
    this.invalidate();
  }

  /**
   * A document was closed: its prediction stops (context hashing included) and is dropped, and the index of a context
   * that no open document uses any more is dropped with it (its memory: about 130 B per context entry).
   */
  forget(uri: string): void {
    this.cache.get(uri)?.abort.abort();
    this.cache.delete(uri);
    const inUse = new Set<string>();
    for (const d of this.openDocuments()) {
      const f = d.uri === uri ? null : this.fileOf(d);
      if (f) inUse.add(this.contextFor(f, this.choiceFor(f)));
    }
    for (const root of [...this.indexes.keys()]) if (!inUse.has(root)) this.indexes.delete(root);
  }

  /** Contexts with an index in memory (for tests). */
  get indexedContexts(): string[] {
    return [...this.indexes.keys()];
  }

  /** File watcher: paths changed on disk. Only contexts containing them are touched. */
  contextChanged(paths: string[]): void {
    let hit = false;
    for (const [root, entry] of this.indexes) {
      for (const p of paths) {
        const rel = path.relative(root, p);
        if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
        entry.pending.add(rel.split(path.sep).join('/'));
        hit = true;
      }
    }
    if (hit) this.invalidate();
  }

  private invalidate(): void {
    this.generation++;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    // Debounced: a burst of file events or settings is one refresh.
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
      void this.connection.sendRequest('workspace/inlayHint/refresh').catch(() => undefined);
      for (const d of this.openDocuments()) void this.predict(d).catch(() => undefined);
    }, 150);
    this.refreshTimer.unref?.();
  }

  private async checkRecords(): Promise<void> {
    if (!this.stateDir) return;
    let changed = false;
    for (const d of this.openDocuments()) {
      const f = this.fileOf(d);
      if (!f) continue;
      const choice = this.choiceFor(f);
      const key = recordKey({ dockerfile: f, context: this.contextFor(f, choice), target: choice.target });
      const st = await fs.stat(path.join(this.stateDir, 'builds', key, 'latest.json')).catch(() => null);
      const stamp = st?.mtimeMs ?? 0;
      if ((this.recordStamps.get(key) ?? 0) !== stamp) changed = true;
      this.recordStamps.set(key, stamp);
    }
    if (changed) this.invalidate();
  }

  private fileOf(doc: TextDocument): string | null {
    if (!doc.uri.startsWith('file:')) return null;
    try { return fileURLToPath(doc.uri); } catch { return null; }
  }

  private choiceFor(file: string): FileChoice {
    return this.choices.get(file) ?? this.defaults;
  }

  private contextFor(file: string, choice: FileChoice): string {
    return path.resolve(choice.context ?? path.dirname(file));
  }

  /** The prediction for a document's current text, computed once per (text version, generation). */
  predict(doc: TextDocument): Promise<PredictionResult | null> {
    const file = this.fileOf(doc);
    if (!file) return Promise.resolve(null);
    const key = `${doc.version}:${this.generation}`;
    const hit = this.cache.get(doc.uri);
    if (hit && hit.key === key) return hit.promise;
    hit?.abort.abort();
    const abort = new AbortController();
    const promise = this.compute(doc, file, abort.signal).then((r) => {
      // A cancelled computation is stale: telling the client about it could overwrite a newer summary.
      if (r && !abort.signal.aborted) void this.connection.sendNotification(PredictionChangedNotification, { uri: doc.uri, summary: r.summary, baseline: r.baseline, target: r.target });
      return r;
    }, (e) => {
      if (!abort.signal.aborted) this.log(`prediction for ${file} failed: ${(e as Error)?.message ?? e}`);
      return null;
    });
    this.cache.set(doc.uri, { key, promise, abort });
    return promise;
  }

  private async compute(doc: TextDocument, file: string, signal: AbortSignal): Promise<PredictionResult | null> {
    const choice = this.choiceFor(file);
    const context = this.contextFor(file, choice);
    let entry = this.indexes.get(context);
    if (!entry) {
      entry = { index: new ContextIndex(nodeContextFs(context)), scanned: false, pending: new Set() };
      this.indexes.set(context, entry);
    }
    const pending = [...entry.pending];
    entry.pending.clear();
    let contextProblem: string | null = null;
    // Big contexts take a while the first time: say so in the status bar (BusyNotification), updated every 500 ms.
    let busyShown = false;
    const busy = setInterval(() => {
      busyShown = true;
      const { done, total } = entry!.index.progress;
      const text = total > 0 ? `Hashing build context: ${done}/${total} files…` : `Walking build context (${entry!.index.size} entries)…`;
      void this.connection.sendNotification(BusyNotification, { text, tooltip: context });
    }, 500);
    let inputs: BuildInputs;
    try {
      try {
        if (!entry.scanned || !(await entry.index.refresh(pending, signal))) {
          entry.scanned = false;
          await entry.index.scan(signal);
          entry.scanned = true;
        }
      } catch (e) {
        signal.throwIfAborted();
        contextProblem = `build context ${context}: ${(e as Error).message}`;
      }
      inputs = await computeBuildInputs({
        dockerfile: file, context, dockerfileText: doc.getText(), target: choice.target, buildArgs: choice.buildArgs,
        index: entry.index, resolveImage: this.resolveImage, resolveRemote: this.resolveRemote, signal,
      });
    } finally {
      clearInterval(busy);
      if (busyShown) void this.connection.sendNotification(BusyNotification, { text: null });
    }
    if (contextProblem) markContextProblem(inputs, contextProblem);
    const loaded = this.stateDir
      ? await loadLatestBuildRecord(this.stateDir, { dockerfile: file, context, target: choice.target })
      : { record: null, notice: 'no baseline: build once with Strata: Build Image' };
    // The snapshot keeps only per-step digests; a missed COPY's changed files are read from the index on demand.
    const index = entry.index;
    const prediction = predictCache(inputs, loaded.record, loaded.notice, (sources) => index.selectionKeys(sources));
    const stages = parseDockerfileModel(doc.getText()).stages.map((s, i) => s.name ?? String(i));
    return { ...prediction, context, buildArgs: choice.buildArgs, stages };
  }

  /** Base digests are asked of the engine at most every 30 s per reference (typing must not spawn docker). */
  private readonly resolveImage = (ref: string, platform: string | null): Promise<string | null> => {
    const k = `${ref}\0${platform ?? ''}`;
    const hit = this.baseDigests.get(k);
    if (hit && Date.now() - hit.at < BASE_DIGEST_TTL_MS) return hit.value;
    const value = dockerImageResolver()(ref, platform);
    this.baseDigests.set(k, { at: Date.now(), value });
    return value;
  };

  async codeLenses(doc: TextDocument): Promise<CodeLens[]> {
    if (this.mode !== 'codelens') return [];
    const p = await this.predict(doc);
    if (!p) return [];
    return p.instructions.map((i) => ({
      range: { start: { line: i.line - 1, character: 0 }, end: { line: i.line - 1, character: 0 } },
      command: { title: annotationText(i, p.target), command: 'strata.showPrediction', arguments: [doc.uri, i.line] },
    }));
  }

  async inlayHints(doc: TextDocument): Promise<InlayHint[]> {
    if (this.mode !== 'inlayHints') return [];
    const p = await this.predict(doc);
    if (!p) return [];
    const lines = doc.getText().split(/\r?\n/);
    return p.instructions.map((i) => ({
      position: { line: i.line - 1, character: (lines[i.line - 1] ?? '').replace(/\r$/, '').length },
      label: annotationText(i, p.target),
      paddingLeft: true,
      tooltip: i.explanation.join('\n'),
    }));
  }

  /** Hover on an instruction's lines: the full explanation (added below the instruction docs). */
  async hover(doc: TextDocument, pos: Position): Promise<string | null> {
    if (this.mode === 'off') return null;
    const p = await this.predict(doc);
    const i = p?.instructions.find((x) => pos.line + 1 >= x.line && pos.line + 1 <= x.endLine);
    if (!i) return null;
    return [`**Strata:** ${annotationText(i, p!.target)}`, '', ...i.explanation.map((l) => (l.startsWith('- ') ? l : `${l}  `))].join('\n');
  }
}

/** The one-line annotation: `layer · 12.3 MB · cache hit`, `layer · cache miss: src/main.txt changed`, … */
export function annotationText(i: PredictedInstruction, target: string | null): string {
  if (i.cache === 'skipped') return `skipped: stage not needed for target ${target ?? 'the last stage'}`;
  const what = i.kind === 'layer' ? 'layer' : i.kind === 'empty-layer' ? 'step (empty layer)' : i.kind === 'base' ? 'base' : 'config only';
  if (i.kind === 'config') return 'config only';
  const parts = [what];
  if (i.size !== undefined) parts.push(formatBytes(i.size));
  const short = i.reason.message.replace(/ since the last build$/, '');
  if (i.cache === 'hit') parts.push('cache hit');
  else if (i.cache === 'miss') parts.push(i.reason.code === 'parent-miss' ? short : `cache miss: ${short}`);
  else parts.push(i.reason.code === 'no-baseline' ? short : `unknown: ${short}`);
  return parts.join(' · ');
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do { v /= 1000; u++; } while (v >= 1000 && u < units.length - 1);
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Appends our explanation below the instruction documentation the Dockerfile language service gives. */
export function mergeHover<H extends { contents: unknown } | null>(hover: H, extra: string | null): H | { contents: { kind: 'markdown'; value: string } } {
  if (!extra) return hover;
  if (!hover) return { contents: { kind: 'markdown', value: extra } };
  const c = hover.contents as { kind?: string; value?: string } | string;
  const before = typeof c === 'string' ? c : c && typeof c === 'object' && 'value' in c && typeof c.value === 'string' ? c.value : '';
  return { ...hover, contents: { kind: 'markdown', value: before ? `${before}\n\n---\n\n${extra}` : extra } };
}
