/**
 * The layer explorer page: layer list | file tree (three view modes, filters, breadcrumb, preview), plus the
 * summary and config/history tabs. State that should survive hide/show and reloads goes through `setState`.
 */
import type { ArchiveInfo, DirectoryEntry, EntryKindBadge, ImageInfo, SortKey, ViewMode } from '../../server/src/image/imageModel';
import { PREVIEW_MAX_BYTES, parseExplorerState, type ExplorerState, type HostMessage, type LoadStatus } from '../../server/src/protocol/webviewMessages';
import { button, clear, el, icon } from './dom';
import { FileTree } from './fileTree';
import { formatMode, formatSize, parseSize, percent, shortCommand } from './format';
import { Rpc, type HostApi } from './rpc';

const FILTER_KINDS: EntryKindBadge[] = ['added', 'modified', 'deleted', 'opaque'];

export class ExplorerApp {
  private readonly rpc: Rpc;
  private state: ExplorerState;
  private archive: ArchiveInfo | null = null;
  private status: LoadStatus = 'reading';
  private error: string | null = null;
  private title = '';
  /** Layer statuses at the last tree reload, to reload only when the viewed layers change. */
  private viewKey = '';
  /** Public for the Chromium tests and the benchmark (they read model counters). */
  readonly tree: FileTree;
  private readonly root: HTMLElement;
  private readonly header = el('header', 'top');
  private readonly tabs = el('nav', 'tabs');
  private readonly statusLine = el('span', 'status');
  private readonly layerList = el('div', 'layers');
  private readonly filesPane = el('section', 'files');
  private readonly toolbar = el('div', 'toolbar');
  private readonly breadcrumb = el('div', 'breadcrumb');
  private readonly treeError = el('div', 'tree-error');
  private readonly preview = el('section', 'preview');
  private readonly summaryPane = el('section', 'summary-pane');
  private readonly configPane = el('section', 'config-pane');
  private readonly main = el('div', 'main');
  private rangeSelect = el('select');
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private summaryLoaded = false;

  constructor(private readonly host: HostApi, root: HTMLElement) {
    this.root = root;
    this.rpc = new Rpc(host);
    this.state = parseExplorerState(host.getState()) ?? defaultState('', 0);
    this.tree = new FileTree({
      fetch: (req) => this.rpc.request('list', {
        layer: this.state.layer, mode: this.state.mode, rangeStart: Math.min(this.state.rangeStart, this.state.layer),
        dir: req.dir, offset: req.offset, limit: req.limit, sort: this.state.sort, descending: this.state.descending,
        filter: this.state.filter, kinds: this.state.kinds, wastedOnly: this.state.wastedOnly, minSize: this.state.minSize,
      }),
      onSelect: (entry) => this.renderBreadcrumb(entry),
      onOpen: (entry) => void this.openPreview(entry),
      onChange: () => this.saveState(),
      onRendered: (rows) => this.rpc.post({ type: 'rendered', layer: this.state.layer, mode: this.state.mode, rows }),
      onError: (message) => {
        this.treeError.textContent = message ?? '';
        this.treeError.hidden = message === null;
      },
    });
    this.buildLayout();
    window.addEventListener('message', (e: MessageEvent) => this.onMessage(e.data));
    this.rpc.post({ type: 'ready' });
  }

  private onMessage(data: unknown): void {
    const msg = this.rpc.receive(data);
    if (!msg) return;
    if (msg.type === 'image') this.onImage(msg);
    else if (msg.type === 'selectLayer') {
      this.state.layer = msg.layer;
      if (msg.mode) this.state.mode = msg.mode;
      if (msg.rangeStart !== null) this.state.rangeStart = msg.rangeStart;
      if (msg.wastedOnly !== null) this.state.wastedOnly = msg.wastedOnly;
      if (msg.reveal !== null) {
        // Expand every ancestor; the tree selects the path once its page arrives.
        const parts = msg.reveal.split('/');
        for (let i = 1; i < parts.length; i++) this.tree.model.expandedPaths.add(parts.slice(0, i).join('/'));
        this.state.selected = msg.reveal;
      }
      this.state.tab = 'files';
      this.buildToolbar();
      this.refreshAll(true);
    }
  }

  private onImage(msg: Extract<HostMessage, { type: 'image' }>): void {
    const first = this.archive === null;
    this.archive = msg.archive;
    this.status = msg.status;
    this.error = msg.error;
    this.title = msg.title;
    if (first) {
      // Keep the page's own state (hide/show) when it is for this image, else the host's (reload), else defaults.
      const own = this.state.source === msg.source && this.state.image === msg.image ? this.state : null;
      this.state = own ?? msg.restore ?? defaultState(msg.source, msg.image);
      this.state.source = msg.source;
      this.state.image = msg.image;
      for (const path of this.state.expanded) this.tree.model.expandedPaths.add(path);
      this.buildToolbar();
    }
    const layers = this.image()?.layers.length ?? 0;
    if (this.state.layer >= layers) this.state.layer = Math.max(0, layers - 1);
    if (msg.status === 'done' && !first) this.summaryLoaded = false;
    this.refreshAll(first);
  }

  private image(): ImageInfo | null {
    return this.archive?.images[this.state.image] ?? null;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Layout

  private buildLayout(): void {
    this.header.append(this.tabs, this.statusLine);
    this.filesPane.append(this.toolbar, this.breadcrumb, this.treeError, this.tree.element, this.preview);
    this.treeError.hidden = true;
    this.preview.hidden = true;
    this.main.append(this.layerList, this.filesPane);
    this.root.append(this.header, this.main, this.summaryPane, this.configPane);
    this.buildToolbar();
    this.renderTabs();
  }

  private renderTabs(): void {
    clear(this.tabs);
    const tabs: Array<[ExplorerState['tab'], string, string]> = [['files', 'Files', 'files'], ['summary', 'Summary', 'graph'], ['config', 'Config & history', 'settings']];
    for (const [id, label, ic] of tabs) {
      const b = button(label, ic, () => {
        this.state.tab = id;
        this.renderTabs();
        this.showTab();
        this.saveState();
      });
      b.classList.add('tab');
      b.setAttribute('role', 'tab');
      b.setAttribute('aria-selected', String(this.state.tab === id));
      b.dataset.tab = id;
      this.tabs.append(b);
    }
    this.tabs.setAttribute('role', 'tablist');
  }

  private showTab(): void {
    this.main.hidden = this.state.tab !== 'files';
    this.summaryPane.hidden = this.state.tab !== 'summary';
    this.configPane.hidden = this.state.tab !== 'config';
    if (this.state.tab === 'summary' && !this.summaryLoaded) void this.loadSummary();
    if (this.state.tab === 'config') this.renderConfig();
  }

  private buildToolbar(): void {
    const t = this.toolbar;
    clear(t);
    const mode = el('select', 'mode');
    mode.setAttribute('aria-label', 'View');
    for (const [v, label] of [['layer', 'This layer\'s changes'], ['merged', 'Merged filesystem'], ['range', 'Changes in range']] as const) {
      const o = el('option', undefined, label);
      o.value = v;
      mode.append(o);
    }
    mode.value = this.state.mode;
    mode.addEventListener('change', () => {
      this.state.mode = mode.value as ViewMode;
      this.rangeSelect.hidden = this.state.mode !== 'range';
      this.reloadTree();
    });
    this.rangeSelect = el('select', 'range-start');
    this.rangeSelect.setAttribute('aria-label', 'Range start layer');
    this.rangeSelect.hidden = this.state.mode !== 'range';
    this.rangeSelect.addEventListener('change', () => {
      this.state.rangeStart = Number(this.rangeSelect.value);
      this.reloadTree();
    });

    const filter = el('input', 'filter');
    filter.type = 'search';
    filter.placeholder = 'Filter (text or glob: *.so, usr/**/lib*)';
    filter.setAttribute('aria-label', 'Filter paths');
    filter.value = this.state.filter;
    let filterTimer: ReturnType<typeof setTimeout> | undefined;
    filter.addEventListener('input', () => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => {
        this.state.filter = filter.value;
        this.reloadTree();
      }, 150);
    });

    const kinds = el('span', 'kinds');
    for (const k of FILTER_KINDS) {
      const label = el('label', `kind-toggle badge-${k}`);
      const cb = el('input');
      cb.type = 'checkbox';
      cb.dataset.kind = k;
      cb.checked = this.state.kinds.length === 0 || this.state.kinds.includes(k);
      cb.addEventListener('change', () => {
        const on = [...kinds.querySelectorAll<HTMLInputElement>('input')].filter((x) => x.checked).map((x) => x.dataset.kind as EntryKindBadge);
        // All four on = no kind filter (merged view also shows unchanged entries).
        this.state.kinds = on.length === FILTER_KINDS.length ? [] : on;
        this.reloadTree();
      });
      label.append(cb, el('span', undefined, k === 'deleted' ? 'deleted' : k));
      kinds.append(label);
    }

    const wasted = el('label', 'toggle');
    const wcb = el('input');
    wcb.type = 'checkbox';
    wcb.className = 'wasted-only';
    wcb.checked = this.state.wastedOnly;
    wcb.addEventListener('change', () => {
      this.state.wastedOnly = wcb.checked;
      this.reloadTree();
    });
    wasted.append(wcb, el('span', undefined, 'only wasted'));

    const minSize = el('input', 'min-size');
    minSize.placeholder = 'min size';
    minSize.title = 'Hide entries smaller than this (e.g. 100kB, 1MB)';
    minSize.setAttribute('aria-label', 'Minimum size');
    minSize.value = this.state.minSize > 0 ? String(this.state.minSize) : '';
    minSize.addEventListener('change', () => {
      const v = minSize.value.trim() === '' ? 0 : parseSize(minSize.value);
      minSize.classList.toggle('invalid', v === null);
      if (v === null) return;
      this.state.minSize = v;
      this.reloadTree();
    });

    const sort = el('select', 'sort');
    sort.setAttribute('aria-label', 'Sort');
    for (const [v, label] of [['name', 'Name'], ['size', 'Size']] as const) {
      const o = el('option', undefined, `Sort: ${label}`);
      o.value = v;
      sort.append(o);
    }
    sort.value = this.state.sort === 'size' ? 'size' : 'name';
    sort.addEventListener('change', () => {
      this.state.sort = sort.value as SortKey;
      this.state.descending = this.state.sort === 'size';
      this.reloadTree();
    });

    t.append(mode, this.rangeSelect, filter, kinds, wasted, minSize, sort,
      button('', 'expand-all', () => this.tree.expandAll(), 'Expand all'),
      button('', 'collapse-all', () => this.tree.collapseAll(), 'Collapse all'));
  }

  // ------------------------------------------------------------------------------------------------------------
  // Rendering

  private refreshAll(forceTree: boolean): void {
    this.renderStatus();
    this.renderLayers();
    this.renderRangeOptions();
    this.renderTabs();
    this.showTab();
    const img = this.image();
    // Reload the tree when the layers it shows have just been read (not on every layer of a long image).
    const viewed = img ? img.layers.slice(0, this.state.layer + 1).map((l) => l.status).join() : '';
    const key = `${this.state.layer}|${this.state.mode}|${viewed}`;
    if (forceTree || key !== this.viewKey) {
      this.viewKey = key;
      this.tree.select(this.state.selected);
      this.tree.reload(forceTree ? this.state.scrollTop : null);
      this.renderBreadcrumb(null);
    }
    if (this.state.tab === 'config') this.renderConfig();
  }

  private reloadTree(): void {
    this.viewKey = '';
    this.state.scrollTop = 0;
    this.refreshAll(false);
    this.saveState();
  }

  private renderStatus(): void {
    const img = this.image();
    const read = img ? img.layers.filter((l) => l.status === 'read' || l.status === 'foreign').length : 0;
    const total = img?.layers.length ?? 0;
    const text = this.status === 'reading' ? `Reading layers… ${read}/${total}`
      : this.status === 'failed' ? `Failed: ${this.error ?? 'unknown error'}`
      : this.status === 'cancelled' ? 'Cancelled' : `${total} layers · ${img?.platform ?? ''}`;
    const verify = this.status === 'failed' || this.status === 'cancelled' ? null : verificationText(img);
    this.statusLine.textContent = `${this.title} — ${text}${verify ? ` · ${verify.text}` : ''}`;
    this.statusLine.classList.toggle('error', this.status === 'failed' || verify?.bad === true);
  }

  private renderLayers(): void {
    const img = this.image();
    clear(this.layerList);
    this.layerList.setAttribute('role', 'listbox');
    this.layerList.setAttribute('aria-label', 'Layers');
    if (!img) return;
    const head = el('div', 'layer-head');
    head.append(el('span', 'l-index', '#'), el('span', 'l-size', 'Size'), el('span', 'l-changes', 'Changes'), el('span', 'l-cmd', 'Command'));
    this.layerList.append(head);
    for (const l of img.layers) {
      const row = el('div', 'layer');
      row.setAttribute('role', 'option');
      row.tabIndex = l.index === this.state.layer ? 0 : -1;
      row.dataset.layer = String(l.index);
      row.setAttribute('aria-selected', String(l.index === this.state.layer));
      if (l.index === this.state.layer) row.classList.add('selected');
      if (this.state.mode === 'range' && l.index >= this.state.rangeStart && l.index <= this.state.layer) row.classList.add('in-range');
      row.classList.add(`status-${l.status}`);
      const size = l.contentSize ?? l.size;
      row.append(
        el('span', 'l-index', String(l.index)),
        el('span', 'l-size', l.status === 'read' || l.contentSize !== null ? formatSize(size) : l.status === 'reading' ? '…' : formatSize(l.size)),
        el('span', 'l-changes', l.entryCount === null ? '' : String(l.entryCount)),
        el('span', 'l-cmd', shortCommand(l.createdBy) || l.digest.slice(0, 19)),
      );
      const tip = [l.createdBy || '(no history)', `digest ${l.digest}`, `diffId ${l.diffId}`, `compressed ${formatSize(l.size)} (${l.compression})`];
      if (l.emptySteps.length) tip.push(`after ${l.emptySteps.length} metadata step(s): ${l.emptySteps.map((s) => shortCommand(s.createdBy, 60)).join('; ')}`);
      for (const w of l.warnings) tip.push(`⚠ ${w}`);
      row.title = tip.join('\n');
      row.addEventListener('click', () => this.selectLayer(l.index));
      row.addEventListener('keydown', (e) => {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          this.selectLayer(Math.max(0, Math.min(img.layers.length - 1, l.index + (e.key === 'ArrowDown' ? 1 : -1))));
          this.layerList.querySelector<HTMLElement>(`[data-layer="${this.state.layer}"]`)?.focus();
        } else if (e.key === 'Enter') this.tree.element.focus();
      });
      this.layerList.append(row);
    }
  }

  private selectLayer(index: number): void {
    if (index === this.state.layer) return;
    this.state.layer = index;
    if (this.state.rangeStart > index) this.state.rangeStart = index;
    this.preview.hidden = true;
    this.reloadTree();
  }

  private renderRangeOptions(): void {
    const img = this.image();
    clear(this.rangeSelect);
    if (!img) return;
    for (let i = 0; i <= this.state.layer; i++) {
      const o = el('option', undefined, `from layer ${i}`);
      o.value = String(i);
      this.rangeSelect.append(o);
    }
    this.rangeSelect.value = String(Math.min(this.state.rangeStart, this.state.layer));
  }

  private renderBreadcrumb(entry: DirectoryEntry | null): void {
    clear(this.breadcrumb);
    const path = entry?.path ?? this.state.selected ?? '';
    this.state.selected = entry?.path ?? this.state.selected;
    const parts = path === '' ? [] : path.split('/');
    const rootCrumb = el('span', 'crumb', '/');
    this.breadcrumb.append(icon('layers'), el('span', 'crumb-layer', `layer ${this.state.layer} · ${modeLabel(this.state)}`), rootCrumb);
    parts.forEach((p, i) => {
      const c = el('span', 'crumb', p);
      const target = parts.slice(0, i + 1).join('/');
      c.title = target;
      c.addEventListener('click', () => {
        this.tree.select(target);
        this.tree.scheduleRender();
      });
      if (i > 0) this.breadcrumb.append(el('span', 'sep', '/'));
      this.breadcrumb.append(c);
    });
  }

  // ------------------------------------------------------------------------------------------------------------
  // Preview and compare

  private async openPreview(entry: DirectoryEntry): Promise<void> {
    const p = this.preview;
    clear(p);
    p.hidden = false;
    const head = el('div', 'preview-head');
    head.append(icon('file'), el('span', 'preview-path', entry.path), el('span', 'preview-meta', `${formatSize(entry.size)} · ${formatMode(entry.mode, entry.type)} · layer ${entry.layerIndex}`));
    if (entry.kind === 'modified' && entry.type === 'file') {
      head.append(button('Compare with previous version', 'diff', () => void this.compare(entry)));
    }
    head.append(button('', 'close', () => { p.hidden = true; this.tree.element.focus(); }, 'Close preview'));
    const body = el('pre', 'preview-body');
    p.append(head, body);
    if (entry.type !== 'file' && entry.type !== 'hardlink') {
      body.textContent = entry.kind === 'deleted' ? `Deleted by the whiteout ${entry.whiteoutName ?? ''} in layer ${entry.layerIndex}.` : 'Not a regular file.';
      return;
    }
    body.textContent = 'Loading…';
    try {
      const r = await this.rpc.request('readFile', { layer: this.state.layer, path: entry.path });
      if (r.text === null) body.textContent = `Binary file (${formatSize(r.size)}), not shown.`;
      else body.textContent = r.truncated ? `${r.text}\n… (first ${formatSize(PREVIEW_MAX_BYTES)} of ${formatSize(r.size)})` : r.text;
    } catch (e) {
      body.textContent = `Cannot read: ${(e as Error).message}`;
    }
  }

  private async compare(entry: DirectoryEntry): Promise<void> {
    try {
      const r = await this.rpc.request('compare', { layer: entry.layerIndex, path: entry.path });
      if (!r.opened && r.message) this.treeError.textContent = r.message;
    } catch (e) {
      this.treeError.textContent = (e as Error).message;
      this.treeError.hidden = false;
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Summary and config

  private async loadSummary(): Promise<void> {
    this.summaryLoaded = true;
    const p = this.summaryPane;
    clear(p);
    p.append(el('p', 'muted', 'Computing…'));
    try {
      const s = await this.rpc.request('summary', {});
      clear(p);
      const img = this.image();
      if (this.status === 'reading') p.append(el('p', 'muted', 'Partial: some layers are still being read.'));
      const stats = el('dl', 'stats');
      const add = (k: string, v: string) => stats.append(el('dt', undefined, k), el('dd', undefined, v));
      add('Total size', formatSize(s.totalSize));
      add('Stored (compressed)', formatSize(s.storedSize));
      add('Layers', String(img?.layers.length ?? 0));
      add('Efficiency', percent(s.efficiency));
      add('Wasted bytes', formatSize(s.wastedBytes));
      add('Wasted of user layers', percent(s.userWastedPercent));
      add('Entries', String(s.entryCount));
      p.append(el('h2', undefined, 'Image summary'), stats, el('h2', undefined, 'Top wasted files'));
      if (s.topWasted.length === 0) p.append(el('p', 'muted', 'Nothing wasted.'));
      else {
        const table = el('table', 'wasted');
        const hr = el('tr');
        for (const h of ['Path', 'Wasted', 'Written by', 'Hidden by', 'How']) hr.append(el('th', undefined, h));
        table.append(hr);
        for (const w of s.topWasted) {
          const tr = el('tr');
          const pathCell = el('td', 'path', w.path);
          tr.append(pathCell, el('td', 'num', formatSize(w.size)), el('td', undefined, w.writtenBy.map((l) => `#${l}`).join(', ')),
            el('td', undefined, `#${w.hiddenBy}`), el('td', undefined, w.how));
          tr.addEventListener('click', () => {
            this.state.tab = 'files';
            this.state.layer = w.writtenBy[0] ?? 0;
            this.state.mode = 'layer';
            this.state.filter = w.path;
            this.buildToolbar();
            this.reloadTree();
          });
          tr.title = 'Show in the layer that wrote it';
          table.append(tr);
        }
        p.append(table);
      }
    } catch (e) {
      clear(p);
      p.append(el('p', 'error', `Summary failed: ${(e as Error).message}`));
      this.summaryLoaded = false;
    }
  }

  private renderConfig(): void {
    const p = this.configPane;
    clear(p);
    const img = this.image();
    if (!img) return;
    const c = img.config;
    const dl = el('dl', 'stats');
    const add = (k: string, v: string) => dl.append(el('dt', undefined, k), el('dd', undefined, v || '—'));
    add('Image', img.refs.join(', ') || '(untagged)');
    add('Config digest', img.configDigest);
    add('Platform', c.platform.text);
    add('Created', c.created ?? '');
    add('Entrypoint', c.entrypoint ? JSON.stringify(c.entrypoint) : '');
    add('Cmd', c.cmd ? JSON.stringify(c.cmd) : '');
    add('User', c.user);
    add('Working dir', c.workingDir);
    add('Ports', c.exposedPorts.join(', '));
    p.append(el('h2', undefined, 'Config'), dl);
    const env = el('ul', 'env');
    for (const e of c.env) env.append(el('li', undefined, e));
    p.append(el('h3', undefined, `Environment (${c.env.length})`), env);
    const labels = el('ul', 'labels');
    for (const [k, v] of Object.entries(c.labels)) labels.append(el('li', undefined, `${k}=${v}`));
    p.append(el('h3', undefined, `Labels (${Object.keys(c.labels).length})`), labels);
    const table = el('table', 'history');
    const hr = el('tr');
    for (const h of ['Layer', 'Created', 'Step']) hr.append(el('th', undefined, h));
    table.append(hr);
    for (const h of c.history) {
      const tr = el('tr', h.emptyLayer ? 'empty-step' : 'layer-step');
      tr.append(el('td', 'num', h.layerIndex === null ? '—' : `#${h.layerIndex}`), el('td', undefined, h.created ?? ''), el('td', 'cmd', h.createdBy));
      if (h.emptyLayer) tr.title = 'Metadata-only step: no layer';
      else if (h.layerIndex !== null) {
        const li = h.layerIndex;
        tr.addEventListener('click', () => {
          this.state.tab = 'files';
          this.selectLayer(li);
          this.renderTabs();
          this.showTab();
        });
      }
      table.append(tr);
    }
    p.append(el('h2', undefined, `History (${c.history.length} steps, ${c.history.filter((h) => h.emptyLayer).length} without a layer)`), table);
  }

  // ------------------------------------------------------------------------------------------------------------
  // State

  private saveState(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      this.state.scrollTop = this.tree.scrollTop;
      this.state.expanded = [...this.tree.model.expandedPaths].slice(0, 5000);
      this.state.selected = this.tree.selectedEntryPath ?? this.state.selected;
      this.host.setState(this.state);
    }, 100);
  }
}

export function defaultState(source: string, image: number): ExplorerState {
  return {
    source, image, tab: 'files', layer: 0, mode: 'layer', rangeStart: 0, expanded: [], selected: null, filter: '',
    kinds: [], wastedOnly: false, minSize: 0, sort: 'name', descending: false, scrollTop: 0,
  };
}

function modeLabel(s: ExplorerState): string {
  return s.mode === 'layer' ? 'changes' : s.mode === 'merged' ? 'merged' : `range ${Math.min(s.rangeStart, s.layer)}..${s.layer}`;
}

/**
 * Digest verification runs on after the trees are read: "verifying…" until every layer settled, then
 * "verified", or the first layer whose digest did not match (null when verification was skipped).
 */
export function verificationText(img: ImageInfo | null): { text: string; bad: boolean } | null {
  if (!img) return null;
  const states = img.layers.map((l) => l.verification);
  const bad = img.layers.find((l) => l.verification === 'mismatch' || l.verification === 'error');
  if (bad) return { text: bad.verification === 'mismatch' ? `layer ${bad.index}: ${bad.error ?? 'digest mismatch'}` : `layer ${bad.index} not verified: ${bad.error ?? 'unknown error'}`, bad: true };
  if (states.includes('pending')) return { text: 'verifying…', bad: false };
  return states.includes('verified') ? { text: 'verified', bad: false } : null;
}
