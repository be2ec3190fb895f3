/**
 * The virtualised file tree: only the rows in the viewport plus a margin exist in the DOM, pages are fetched as rows
 * scroll into view, and stale replies (from before a view change) are dropped by generation number.
 */
import type { DirectoryEntry, DirectoryPage } from '../../server/src/image/imageModel';
import { el, icon } from './dom';
import { entryIcon, entryTooltip, formatSize } from './format';
import { TreeModel, type PageRequest, type Row } from './treeModel';
import { MAX_RENDERED_ROWS, type RenderedRow } from '../../server/src/protocol/webviewMessages';
import { pageRows, revealRow, visibleWindow } from './virtualWindow';

export const ROW_HEIGHT = 22;
const MARGIN = 20;
const FIND_RESET_MS = 800;
const FIND_SCAN = 20_000;

export interface FileTreeHost {
  fetch(req: PageRequest): Promise<DirectoryPage>;
  onSelect(entry: DirectoryEntry | null): void;
  onOpen(entry: DirectoryEntry): void;
  onChange(): void;
  onError(message: string | null): void;
  /** After a render settles (debounced): the rows in view. */
  onRendered(rows: RenderedRow[]): void;
}

/** A rendered row, reused while its entry, expansion and selection stay the same. */
interface CachedRow {
  key: unknown;
  expanded: boolean;
  selected: boolean;
  el: HTMLDivElement;
}

export class FileTree {
  readonly element: HTMLDivElement;
  readonly model = new TreeModel();
  private readonly spacer: HTMLDivElement;
  private readonly rowsLayer: HTMLDivElement;
  private generation = 0;
  private selected = 0;
  private selectedPath: string | null = null;
  private pendingScroll: number | null = null;
  private frame = 0;
  private findText = '';
  private findTime = 0;
  /** Row count at the last render, to size the spacer only when it changes. */
  private lastCount = -1;
  /** Time the first page of the current view was painted (ms, performance.now()), for the benchmark. */
  firstPaintAt = 0;
  private firstPaintPending = false;
  private renderedTimer: ReturnType<typeof setTimeout> | undefined;
  private rowCache = new Map<number, CachedRow>();

  constructor(private readonly host: FileTreeHost) {
    this.element = el('div', 'tree');
    this.element.tabIndex = 0;
    this.element.setAttribute('role', 'tree');
    this.element.setAttribute('aria-label', 'Files');
    this.spacer = el('div', 'tree-spacer');
    this.rowsLayer = el('div', 'tree-rows');
    this.element.append(this.spacer, this.rowsLayer);
    this.element.addEventListener('scroll', () => {
      this.scheduleRender();
      this.host.onChange();
    }, { passive: true });
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    this.rowsLayer.addEventListener('click', (e) => this.onClick(e, false));
    this.rowsLayer.addEventListener('dblclick', (e) => this.onClick(e, true));
    new ResizeObserver(() => this.scheduleRender()).observe(this.element);
  }

  /** The view changed (layer, mode, filter, sort): refetch everything, keep expansion, selection and scroll. */
  reload(scrollTop: number | null = null): void {
    this.generation++;
    this.model.reset();
    this.rowCache.clear();
    this.pendingScroll = scrollTop;
    this.lastCount = -1;
    this.firstPaintPending = true;
    this.element.setAttribute('aria-busy', 'true');
    this.host.onError(null);
    this.scheduleRender();
  }

  get selectedEntryPath(): string | null {
    return this.selectedPath;
  }

  select(path: string | null): void {
    this.selectedPath = path;
    const r = path === null ? null : this.model.findRow(path);
    if (r !== null) this.selected = r;
  }

  get scrollTop(): number {
    return this.element.scrollTop;
  }

  expandAll(): void {
    this.model.expandEverything();
    this.scheduleRender();
    this.host.onChange();
  }

  collapseAll(): void {
    this.model.collapseEverything();
    this.selected = Math.min(this.selected, this.model.rowCount() - 1);
    this.scheduleRender();
    this.host.onChange();
  }

  scheduleRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Renders the rows in the window now (also used by tests and the benchmark through the rAF above). */
  render(): void {
    const count = this.model.rowCount();
    if (count !== this.lastCount) {
      this.spacer.style.height = `${count * ROW_HEIGHT}px`;
      this.lastCount = count;
    }
    if (this.pendingScroll !== null && this.model.root.total !== null) {
      this.element.scrollTop = this.pendingScroll;
      this.pendingScroll = null;
    }
    const win = visibleWindow(this.element.scrollTop, this.element.clientHeight || 600, ROW_HEIGHT, count, MARGIN);
    this.fetchMissing(win.first, win.last);
    // Rows whose entry, expansion and selection did not change keep their element (scrolling re-creates only the
    // rows that came into view).
    const rows: HTMLDivElement[] = [];
    const next = new Map<number, CachedRow>();
    for (let i = win.first; i <= win.last; i++) {
      const row = this.model.rowAt(i);
      if (!row) break;
      const key = row.kind === 'entry' ? row.entry : row.dir;
      const expanded = row.kind === 'entry' && row.expanded;
      const selected = i === this.selected;
      const old = this.rowCache.get(i);
      let elem: HTMLDivElement;
      if (old && old.key === key && key !== undefined && old.expanded === expanded) {
        // The same element, its selection marked in place (a click selects the row it lands on).
        elem = old.el;
        if (old.selected !== selected) markSelected(elem, selected);
      } else {
        elem = this.rowElement(row, i);
      }
      next.set(i, { key, expanded, selected, el: elem });
      rows.push(elem);
    }
    this.rowCache = next;
    placeRows(this.rowsLayer, rows);
    this.rowsLayer.style.transform = `translateY(${win.first * ROW_HEIGHT}px)`;
    this.model.evict(win.first, win.last);
    clearTimeout(this.renderedTimer);
    this.renderedTimer = setTimeout(() => this.reportRendered(), 150);
    if (this.firstPaintPending && this.model.root.total !== null) {
      this.firstPaintPending = false;
      this.firstPaintAt = performance.now();
      this.element.setAttribute('aria-busy', 'false');
    }
  }

  private reportRendered(): void {
    const win = visibleWindow(this.element.scrollTop, this.element.clientHeight || 600, ROW_HEIGHT, this.model.rowCount(), 0);
    const rows: RenderedRow[] = [];
    for (let i = win.first; i <= win.last && rows.length < MAX_RENDERED_ROWS; i++) {
      const row = this.model.rowAt(i);
      if (row?.kind !== 'entry' || !row.entry) continue;
      const e = row.entry;
      rows.push({ path: e.path, kind: e.kind, badges: rowBadges(e) });
    }
    this.host.onRendered(rows);
  }

  private fetchMissing(first: number, last: number): void {
    const gen = this.generation;
    for (const req of this.model.missingPages(first, last)) {
      this.host.fetch(req).then(
        (page) => {
          if (gen !== this.generation) return;
          if (this.model.setPage(page, req.offset)) {
            if (this.selectedPath !== null) {
              const r = this.model.findRow(this.selectedPath);
              if (r !== null) this.selected = r;
            }
            this.scheduleRender();
          }
        },
        (e: Error) => {
          if (gen !== this.generation) return;
          this.host.onError(e.message);
        },
      );
    }
  }

  private rowElement(row: Row, index: number): HTMLDivElement {
    const div = el('div', 'row');
    div.dataset.row = String(index);
    div.setAttribute('role', 'treeitem');
    div.setAttribute('aria-level', String(row.depth + 1));
    div.style.paddingLeft = `${4 + row.depth * 14}px`;
    if (index === this.selected) markSelected(div, true);
    if (row.kind === 'loading') {
      div.classList.add('placeholder');
      div.append(icon('loading', 'codicon-modifier-spin'), el('span', 'name', 'Loading…'));
      return div;
    }
    const e = row.entry;
    if (!e) {
      div.classList.add('placeholder');
      div.append(el('span', 'twistie'), el('span', 'name', '…'));
      return div;
    }
    const expandable = e.type === 'dir' && e.childCount > 0;
    if (expandable) div.setAttribute('aria-expanded', String(row.expanded));
    const twistie = expandable ? icon(row.expanded ? 'chevron-down' : 'chevron-right', 'twistie') : el('span', 'twistie');
    const name = el('span', 'name', e.name);
    div.append(twistie, icon(entryIcon(e, row.expanded), 'type'), name);
    if (e.linkTarget !== null) div.append(el('span', 'link', `→ ${e.linkTarget}`));
    div.classList.add(`kind-${e.kind}`);
    for (const b of rowBadges(e)) div.append(el('span', `badge badge-${b === 'whiteout' ? 'deleted' : b}`, b));
    div.append(el('span', 'size', e.type === 'file' || e.type === 'dir' || e.kind === 'deleted' ? formatSize(e.size) : ''));
    div.title = entryTooltip(e);
    div.dataset.path = e.path;
    return div;
  }

  private rowFromEvent(ev: Event): number | null {
    const target = (ev.target as HTMLElement).closest<HTMLElement>('.row');
    return target?.dataset.row !== undefined ? Number(target.dataset.row) : null;
  }

  private onClick(ev: MouseEvent, double: boolean): void {
    const i = this.rowFromEvent(ev);
    if (i === null) return;
    this.setSelected(i);
    const row = this.model.rowAt(i);
    if (!row || row.kind !== 'entry' || !row.entry) return;
    const onTwistie = (ev.target as HTMLElement).classList.contains('twistie');
    if (row.entry.type === 'dir' && (double || onTwistie)) this.toggle(row);
    else if (double) this.host.onOpen(row.entry);
    this.element.focus();
  }

  private toggle(row: Row): void {
    if (!(this.model.isExpanded(row) ? this.model.collapse(row) : this.model.expand(row))) return;
    this.scheduleRender();
    this.host.onChange();
  }

  private setSelected(i: number): void {
    const count = this.model.rowCount();
    this.selected = Math.max(0, Math.min(count - 1, i));
    const row = this.model.rowAt(this.selected);
    const entry = row?.kind === 'entry' ? row.entry ?? null : null;
    this.selectedPath = entry?.path ?? null;
    const top = revealRow(this.selected, this.element.scrollTop, this.element.clientHeight, ROW_HEIGHT);
    if (top !== this.element.scrollTop) this.element.scrollTop = top;
    this.host.onSelect(entry);
    this.host.onChange();
    this.scheduleRender();
  }

  private onKey(e: KeyboardEvent): void {
    const row = this.model.rowAt(this.selected);
    const page = pageRows(this.element.clientHeight, ROW_HEIGHT);
    let handled = true;
    switch (e.key) {
      case 'ArrowDown': this.setSelected(this.selected + 1); break;
      case 'ArrowUp': this.setSelected(this.selected - 1); break;
      case 'PageDown': this.setSelected(this.selected + page); break;
      case 'PageUp': this.setSelected(this.selected - page); break;
      case 'Home': this.setSelected(0); break;
      case 'End': this.setSelected(this.model.rowCount() - 1); break;
      case 'ArrowRight':
        if (row && row.kind === 'entry' && row.entry?.type === 'dir') {
          if (!this.model.isExpanded(row)) this.toggle(row);
          else this.setSelected(this.selected + 1);
        }
        break;
      case 'ArrowLeft':
        if (row && this.model.isExpanded(row)) this.toggle(row);
        else if (row && row.dir.parent) this.setSelected(this.model.rowIndexOf(row.dir.parent, row.dir.indexInParent));
        break;
      case 'Enter':
      case ' ':
        if (row?.kind === 'entry' && row.entry) {
          if (row.entry.type === 'dir') this.toggle(row);
          else this.host.onOpen(row.entry);
        }
        break;
      default:
        handled = e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey && this.typeToFind(e.key);
    }
    if (handled) e.preventDefault();
  }

  /** Type-to-find: jumps to the next loaded row whose name starts with what was typed in the last moment. */
  private typeToFind(ch: string): boolean {
    const now = performance.now();
    this.findText = now - this.findTime > FIND_RESET_MS ? ch : this.findText + ch;
    this.findTime = now;
    const needle = this.findText.toLowerCase();
    const count = this.model.rowCount();
    const start = this.findText.length === 1 ? this.selected + 1 : this.selected;
    for (let k = 0; k < Math.min(count, FIND_SCAN); k++) {
      const i = (start + k) % count;
      const row = this.model.rowAt(i);
      if (row?.kind === 'entry' && row.entry?.name.toLowerCase().startsWith(needle)) {
        this.setSelected(i);
        return true;
      }
    }
    return true;
  }
}

/** Badge texts of a row: its change kind (a deletion reads "whiteout"), opaque, wasted. */
export function rowBadges(e: DirectoryEntry): string[] {
  const out: string[] = [];
  if (e.kind !== 'unchanged') out.push(e.kind === 'deleted' ? 'whiteout' : e.kind);
  if (e.opaque && e.kind !== 'opaque') out.push('opaque');
  if (e.wasted && e.kind !== 'deleted') out.push('wasted');
  return out;
}

function markSelected(row: HTMLElement, selected: boolean): void {
  row.classList.toggle('selected', selected);
  if (selected) row.setAttribute('aria-selected', 'true');
  else row.removeAttribute('aria-selected');
}

/**
 * Makes `rows` (in order) the children of `layer` without taking out the ones already there: the rows kept from the
 * previous render stay attached. A row detached and attached again, even for an instant, loses the click being made
 * on it — Chromium sends no click, and so no double-click, when the element that got the mouse press left the
 * document before the release — and every click selects a row and re-renders the list.
 */
function placeRows(layer: HTMLElement, rows: readonly HTMLElement[]): void {
  const wanted = new Set<Element>(rows);
  for (const child of Array.from(layer.children)) if (!wanted.has(child)) child.remove();
  // The rows kept are in the same order as before (both renders list rows by index), so only new ones are inserted.
  let at = layer.firstElementChild;
  for (const row of rows) {
    if (at === row) at = at.nextElementSibling;
    else layer.insertBefore(row, at);
  }
}
