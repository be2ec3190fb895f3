/**
 * The writable layer's changes in the contract's shape plus copy-up details, and what committing it would cost.
 * Pure queries over the image reader (the writable layer is layer `n` of an opened image whose lower layers are the
 * container's image), so the numbers use exactly the reader's definitions of kinds and wasted bytes.
 */
import { createHash } from 'node:crypto';
import type { ImageRef, OpenedImage } from '../image/imageModel';
import { contractType } from '../image/treeViews';
import type { CommitPreview, WritableChange } from './containerModel';

/** Copied-up files up to this size are compared byte for byte to spot metadata-only copy-ups. */
const COMPARE_MAX = 16 * 1024 * 1024;

export async function writableChanges(img: OpenedImage, ref: ImageRef, n: number, signal?: AbortSignal): Promise<WritableChange[]> {
  const out: WritableChange[] = [];
  for (const c of img.layerChanges(ref, n).changes) {
    const w: WritableChange = { path: c.path, kind: c.kind, type: contractType(c.type), size: c.size, mode: c.mode };
    const lower = c.kind !== 'added' && n > 0 ? img.stat(ref, n - 1, 'merged', c.path) : null;
    if (lower) {
      w.from = lower.layerIndex;
      w.oldSize = lower.size;
      w.oldType = contractType(lower.type);
      w.oldMode = lower.mode;
      if (c.kind === 'modified' && c.type === 'file' && lower.type === 'file' && c.size === lower.size && c.size <= COMPARE_MAX) {
        w.metadataOnly = await sameBytes(img, ref, n, c.path, c.size, signal);
      }
    }
    out.push(w);
  }
  return out;
}

async function sameBytes(img: OpenedImage, ref: ImageRef, n: number, path: string, size: number, signal?: AbortSignal): Promise<boolean> {
  const opts = { maxBytes: size, ...(signal ? { signal } : {}) };
  const [now, before] = await Promise.all([
    img.readFile(ref, n, path, { ...opts, mode: 'layer' }),
    img.readFile(ref, n - 1, path, { ...opts, mode: 'merged' }),
  ]);
  const h = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  return h(now.bytes) === h(before.bytes);
}

/** Bytes of lower-layer files a change hides once committed (0 for additions and directory copy-ups). */
export function hiddenBytes(c: WritableChange): number {
  if (c.oldSize === undefined) return 0;
  if (c.kind === 'deleted' || c.kind === 'opaque') return c.oldSize;
  if (c.oldType === 'file') return c.oldSize;
  // A directory replaced by something else hides everything below it; a directory copied up hides nothing.
  if (c.oldType === 'dir' && c.type !== 'dir') return c.oldSize;
  return 0;
}

export function commitPreview(img: OpenedImage, ref: ImageRef, n: number, changes: WritableChange[]): CommitPreview {
  const layer = img.image(ref).layers[n]!;
  let wastedBytes = 0;
  let metadataOnlyBytes = 0;
  const counts = { added: 0, modified: 0, deleted: 0 };
  const top: CommitPreview['topWasted'] = [];
  for (const c of changes) {
    if (c.kind === 'added') counts.added++;
    else if (c.kind === 'modified') counts.modified++;
    else counts.deleted++;
    const bytes = hiddenBytes(c);
    if (bytes === 0 || c.from === undefined) continue;
    wastedBytes += bytes;
    if (c.metadataOnly) metadataOnlyBytes += bytes;
    const how = c.kind === 'deleted' ? 'deleted' : c.kind === 'opaque' ? 'opaque' : c.metadataOnly ? 'metadata-only' : 'replaced';
    top.push({ path: c.path, size: bytes, from: c.from, how });
  }
  top.sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
  return {
    layerSize: layer.contentSize ?? 0,
    tarSize: layer.uncompressedSize ?? 0,
    entryCount: layer.entryCount ?? changes.length,
    wastedBytes, metadataOnlyBytes, ...counts,
    topWasted: top.slice(0, 20),
  };
}
