/** Text formatting for the explorer (sizes, modes, commands). Pure; unit-tested in Node. */
import type { DirectoryEntry, EntryType } from '../../server/src/image/imageModel';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** Decimal units like `docker images` (1 kB = 1000 B). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

/** `10MB`, `1.5 kB`, `2048` → bytes (decimal and binary suffixes); null if not a size. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase().replace(/b$/, '');
  const pow = ['', 'k', 'm', 'g', 't'].indexOf(unit.replace('i', ''));
  if (pow < 0) return null;
  const base = unit.endsWith('i') ? 1024 : 1000;
  return Math.round(n * base ** pow);
}

const TYPE_CHAR: Record<EntryType, string> = { file: '-', dir: 'd', symlink: 'l', hardlink: '-', char: 'c', block: 'b', fifo: 'p' };

/** `drwxr-xr-x`, with setuid/setgid/sticky as `ls` shows them. */
export function formatMode(mode: number, type: EntryType): string {
  const bit = (m: number, c: string) => (mode & m ? c : '-');
  let s = TYPE_CHAR[type] ?? '?';
  s += bit(0o400, 'r') + bit(0o200, 'w') + special(mode & 0o100, mode & 0o4000, 's');
  s += bit(0o40, 'r') + bit(0o20, 'w') + special(mode & 0o10, mode & 0o2000, 's');
  s += bit(0o4, 'r') + bit(0o2, 'w') + special(mode & 0o1, mode & 0o1000, 't');
  return s;
}

function special(exec: number, flag: number, c: string): string {
  if (flag) return exec ? c : c.toUpperCase();
  return exec ? 'x' : '-';
}

/** The hover text of a tree row. */
export function entryTooltip(e: DirectoryEntry): string {
  const lines = [e.path, `${formatMode(e.mode, e.type)}  ${e.uid}:${e.gid}  ${formatSize(e.size)}`];
  if (e.linkTarget !== null) lines.push(`${e.type === 'hardlink' ? 'hard link to' : 'symlink to'} ${e.linkTarget}`);
  if (e.kind === 'deleted') lines.push(`whiteout: deleted by ${e.whiteoutName ?? '.wh.' + e.name} in layer ${e.layerIndex}`);
  if (e.opaque) lines.push('opaque directory: contents from lower layers are hidden (.wh..wh..opq)');
  if (e.kind !== 'deleted' && e.kind !== 'unchanged') lines.push(`${e.kind} in layer ${e.layerIndex}`);
  if (e.wasted) lines.push('wasted: some of these bytes are not visible in the final image');
  if (e.rawName) lines.push('name is not valid UTF-8 (shown with \\x escapes)');
  return lines.join('\n');
}

/** A history `created_by` shortened for a list: strips `/bin/sh -c #(nop) ` and BuildKit's `|N ARG=… ` prefix. */
export function shortCommand(createdBy: string, max = 120): string {
  let s = createdBy.trim();
  s = s.replace(/^\|\d+(?: [^ =]+=[^ ]*)* /, '');
  s = s.replace(/^\/bin\/sh -c #\(nop\)\s*/, '');
  s = s.replace(/^\/bin\/sh -c /, 'RUN ');
  s = s.replace(/\s+/g, ' ');
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** Codicon name for an entry. */
export function entryIcon(e: DirectoryEntry, expanded: boolean): string {
  switch (e.type) {
    case 'dir': return expanded ? 'folder-opened' : 'folder';
    case 'symlink': return 'file-symlink-file';
    case 'hardlink': return 'link';
    case 'char':
    case 'block': return 'circuit-board';
    case 'fifo': return 'arrow-swap';
    default: return 'file';
  }
}

export function percent(f: number): string {
  return `${(f * 100).toFixed(1)} %`;
}
