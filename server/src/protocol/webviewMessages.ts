/**
 * Every message between the layer-explorer webview (webview/src) and the extension host (client/src/explorer),
 * typed once. Both sides validate what they receive with `parseWebviewMessage` / `parseHostMessage`: a message that
 * does not match (unknown type, wrong field types, oversized) is dropped, never half-handled — the webview renders
 * hostile archive data and the host must not trust a compromised page either.
 *
 * Requests carry a numeric id chosen by the webview; the host answers with exactly one `reply` (ok or error).
 * The webview gives up after REQUEST_TIMEOUT_MS and shows the error; late replies are ignored.
 * No `vscode` import here: the webview bundle and the tests import this file too.
 */
import type {
  ArchiveInfo, DirectoryEntry, DirectoryPage, EntryKindBadge, ImageSummary, SortKey, ViewMode,
} from '../image/imageModel';

export const REQUEST_TIMEOUT_MS = 30_000;
/** Largest page the host serves (the webview asks for ~200 rows at a time). */
export const MAX_PAGE = 2000;
/** Largest file preview shown (bytes). */
export const PREVIEW_MAX_BYTES = 256 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Requests (webview → host → language server)

export interface ListParams {
  layer: number;
  mode: ViewMode;
  /** First layer of a `range` view (inclusive). */
  rangeStart: number;
  dir: string;
  offset: number;
  limit: number;
  sort: SortKey;
  descending: boolean;
  /** Substring, or a glob when it contains `*`, `?` or `[` (matched against the full path). */
  filter: string;
  kinds: EntryKindBadge[];
  wastedOnly: boolean;
  /** Hide entries smaller than this (dirs: cumulative size). 0 = off. */
  minSize: number;
}

export interface ReadFileParams { layer: number; path: string }

/** A small file as text; `text` is null when the bytes do not look like text (NUL bytes / invalid UTF-8). */
export interface FilePreview {
  path: string;
  layerIndex: number;
  size: number;
  truncated: boolean;
  text: string | null;
}

export interface CompareParams { layer: number; path: string }
export interface CompareResult { opened: boolean; message: string | null }

export interface RequestMap {
  list: { params: ListParams; result: DirectoryPage };
  readFile: { params: ReadFileParams; result: FilePreview };
  summary: { params: Record<string, never>; result: ImageSummary };
  /** Opens a VS Code diff of `path` between the layer that wrote it and the version below. */
  compare: { params: CompareParams; result: CompareResult };
}
export type RequestMethod = keyof RequestMap;

// ---------------------------------------------------------------------------------------------------------------
// Messages

/** What the webview keeps with `setState` (and the serializer restores after a reload). */
export interface ExplorerState {
  /** Archive path (or `docker:<ref>` for engine images) and image index: enough to reopen. */
  source: string;
  image: number;
  tab: 'files' | 'summary' | 'config';
  layer: number;
  mode: ViewMode;
  rangeStart: number;
  expanded: string[];
  selected: string | null;
  filter: string;
  kinds: EntryKindBadge[];
  wastedOnly: boolean;
  minSize: number;
  sort: SortKey;
  descending: boolean;
  scrollTop: number;
}

/** One row as the page shows it (reported to the host after rendering, capped). */
export interface RenderedRow { path: string; kind: EntryKindBadge; badges: string[] }
export const MAX_RENDERED_ROWS = 200;

export type WebviewMessage =
  | { type: 'ready' }
  /** What the tree shows now (debounced): lets the host and in-host tests see the page without reaching into it. */
  | { type: 'rendered'; layer: number; mode: ViewMode; rows: RenderedRow[] }
  | { type: 'request'; id: number; method: RequestMethod; params: unknown }
  | { type: 'cancel'; id: number };

export type LoadStatus = 'reading' | 'done' | 'failed' | 'cancelled';

export type HostMessage =
  /** The image (layer list, config) and how far reading got. Sent on open and on each layer read. */
  | { type: 'image'; source: string; title: string; image: number; archive: ArchiveInfo; status: LoadStatus; error: string | null; restore: ExplorerState | null }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  /** Sidebar → webview: select a layer (context menu "open layer in explorer"). */
  | { type: 'selectLayer'; layer: number; mode: ViewMode | null; rangeStart: number | null; wastedOnly: boolean | null; reveal: string | null };

// ---------------------------------------------------------------------------------------------------------------
// Validation

const MODES: readonly string[] = ['layer', 'merged', 'range'];
const SORTS: readonly string[] = ['name', 'size', 'kind', 'type'];
const KINDS: readonly string[] = ['added', 'modified', 'deleted', 'opaque', 'unchanged'];
const METHODS: readonly string[] = ['list', 'readFile', 'summary', 'compare'];
const MAX_PATH = 64 * 1024;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isInt = (x: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): x is number => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
const isStr = (x: unknown, max = MAX_PATH): x is string => typeof x === 'string' && x.length <= max;
const isBool = (x: unknown): x is boolean => typeof x === 'boolean';
const isKinds = (x: unknown): x is EntryKindBadge[] => Array.isArray(x) && x.length <= KINDS.length && x.every((k) => KINDS.includes(k as string));

export function parseListParams(x: unknown): ListParams | null {
  if (!isObj(x)) return null;
  const ok = isInt(x.layer) && MODES.includes(x.mode as string) && isInt(x.rangeStart) && isStr(x.dir)
    && isInt(x.offset) && isInt(x.limit, 1, MAX_PAGE) && SORTS.includes(x.sort as string) && isBool(x.descending)
    && isStr(x.filter, 4096) && isKinds(x.kinds) && isBool(x.wastedOnly) && isInt(x.minSize);
  return ok ? (x as unknown as ListParams) : null;
}

function parseLayerPath(x: unknown): ReadFileParams | null {
  return isObj(x) && isInt(x.layer) && isStr(x.path) && x.path.length > 0 ? { layer: x.layer, path: x.path } : null;
}

/** Validates the params of one request method; null = reject. */
export function parseRequestParams<M extends RequestMethod>(method: M, params: unknown): RequestMap[M]['params'] | null {
  switch (method) {
    case 'list': return parseListParams(params) as RequestMap[M]['params'] | null;
    case 'readFile':
    case 'compare': return parseLayerPath(params) as RequestMap[M]['params'] | null;
    case 'summary': return (isObj(params) ? {} : null) as RequestMap[M]['params'] | null;
    default: return null;
  }
}

export function parseExplorerState(x: unknown): ExplorerState | null {
  if (!isObj(x)) return null;
  const ok = isStr(x.source) && isInt(x.image) && ['files', 'summary', 'config'].includes(x.tab as string) && isInt(x.layer)
    && MODES.includes(x.mode as string) && isInt(x.rangeStart) && Array.isArray(x.expanded) && x.expanded.length <= 10_000
    && x.expanded.every((p) => isStr(p)) && (x.selected === null || isStr(x.selected)) && isStr(x.filter, 4096)
    && isKinds(x.kinds) && isBool(x.wastedOnly) && isInt(x.minSize) && SORTS.includes(x.sort as string)
    && isBool(x.descending) && typeof x.scrollTop === 'number' && Number.isFinite(x.scrollTop);
  return ok ? (x as unknown as ExplorerState) : null;
}

/** Host side: a message from the webview, or null (dropped). Request params are checked per method. */
export function parseWebviewMessage(x: unknown): WebviewMessage | null {
  if (!isObj(x)) return null;
  switch (x.type) {
    case 'ready': return { type: 'ready' };
    case 'cancel': return isInt(x.id) ? { type: 'cancel', id: x.id } : null;
    case 'rendered': {
      const ok = isInt(x.layer) && MODES.includes(x.mode as string) && Array.isArray(x.rows) && x.rows.length <= MAX_RENDERED_ROWS
        && x.rows.every((r) => isObj(r) && isStr(r.path) && KINDS.includes(r.kind as string) && Array.isArray(r.badges) && r.badges.length <= 4 && r.badges.every((b) => isStr(b, 32)));
      return ok ? { type: 'rendered', layer: x.layer as number, mode: x.mode as ViewMode, rows: x.rows as RenderedRow[] } : null;
    }
    case 'request': {
      if (!isInt(x.id) || !METHODS.includes(x.method as string)) return null;
      const method = x.method as RequestMethod;
      const params = parseRequestParams(method, x.params);
      return params ? { type: 'request', id: x.id, method, params } : null;
    }
    default: return null;
  }
}

/** Webview side: a message from the host, or null (dropped). Results are shape-checked by `checkResult`. */
export function parseHostMessage(x: unknown): HostMessage | null {
  if (!isObj(x)) return null;
  switch (x.type) {
    case 'image': {
      const a = x.archive;
      const ok = isStr(x.source) && isStr(x.title) && isInt(x.image) && isObj(a) && Array.isArray(a.images)
        && isObj(a.images[x.image]) && Array.isArray((a.images[x.image] as Obj).layers)
        && ['reading', 'done', 'failed', 'cancelled'].includes(x.status as string)
        && (x.error === null || isStr(x.error)) && (x.restore === null || parseExplorerState(x.restore) !== null);
      return ok ? (x as unknown as HostMessage) : null;
    }
    case 'reply':
      if (!isInt(x.id)) return null;
      if (x.ok === true && 'result' in x) return { type: 'reply', id: x.id, ok: true, result: x.result };
      if (x.ok === false && isStr(x.error)) return { type: 'reply', id: x.id, ok: false, error: x.error };
      return null;
    case 'selectLayer':
      return isInt(x.layer) && (x.mode === null || MODES.includes(x.mode as string)) && (x.rangeStart === null || isInt(x.rangeStart))
        && (x.wastedOnly === null || isBool(x.wastedOnly)) && (x.reveal === null || isStr(x.reveal))
        ? { type: 'selectLayer', layer: x.layer, mode: x.mode as ViewMode | null, rangeStart: x.rangeStart as number | null, wastedOnly: x.wastedOnly as boolean | null, reveal: x.reveal as string | null }
        : null;
    default: return null;
  }
}

function isEntry(e: unknown): e is DirectoryEntry {
  return isObj(e) && isStr(e.name) && isStr(e.path) && typeof e.type === 'string' && typeof e.size === 'number'
    && typeof e.kind === 'string' && KINDS.includes(e.kind) && isInt(e.childCount) && (e.linkTarget === null || isStr(e.linkTarget))
    && (e.whiteoutName === null || isStr(e.whiteoutName));
}

/** Webview side: a reply's result has the shape its method promises (else the request fails). */
export function checkResult<M extends RequestMethod>(method: M, r: unknown): r is RequestMap[M]['result'] {
  if (!isObj(r)) return false;
  switch (method) {
    case 'list': return isStr(r.dir) && isInt(r.total) && isInt(r.offset) && Array.isArray(r.entries) && r.entries.length <= MAX_PAGE && r.entries.every(isEntry);
    case 'readFile': return isStr(r.path) && isInt(r.size) && isBool(r.truncated) && (r.text === null || isStr(r.text, PREVIEW_MAX_BYTES * 2));
    case 'summary': return typeof r.totalSize === 'number' && typeof r.wastedBytes === 'number' && typeof r.efficiency === 'number' && Array.isArray(r.topWasted);
    case 'compare': return isBool(r.opened);
    default: return false;
  }
}
