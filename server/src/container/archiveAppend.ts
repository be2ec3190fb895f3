/**
 * Adds one layer on top of the image in a `docker save` archive, in place: the layer tar, a config whose
 * rootfs.diff_ids and history gain one entry, and a new manifest.json are appended after the archive's last entry
 * (tar readers — ours included — take the last member of a name). The image's own layers are not copied.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { openArchiveSource } from '../image/archiveSource';

export interface AppendedLayer {
  layerFile: string;
  diffId: string;
  createdBy: string;
  comment: string;
  /** Tags for the new manifest (replaces RepoTags). */
  repoTags: string[];
}

const MAX_JSON = 16 * 1024 * 1024;

/** Byte offset where the archive's end-of-archive zero blocks start (walks the 512-byte headers only). */
export async function tarEndOffset(file: string): Promise<number> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const block = Buffer.alloc(512);
    let pos = 0;
    while (pos + 512 <= size) {
      await fh.read(block, 0, 512, pos);
      if (block.every((b) => b === 0)) return pos;
      pos += 512 + Math.ceil(headerSize(block) / 512) * 512;
    }
    return Math.min(pos, size);
  } finally {
    await fh.close();
  }
}

function headerSize(h: Buffer): number {
  const field = h.subarray(124, 136);
  if (field[0]! & 0x80) {
    // GNU base-256 for sizes ≥ 8 GiB
    let n = 0;
    for (let i = 1; i < 12; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

export async function appendLayerToArchive(archive: string, layer: AppendedLayer): Promise<void> {
  const src = await openArchiveSource(archive, Number.MAX_SAFE_INTEGER);
  let manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }>;
  let config: { rootfs?: { diff_ids?: string[] }; history?: unknown[] } & Record<string, unknown>;
  try {
    manifest = JSON.parse((await src.readSmall('manifest.json', MAX_JSON)).toString('utf8'));
    const first = manifest[0];
    if (!first) throw new Error('manifest.json lists no images');
    config = JSON.parse((await src.readSmall(first.Config.replace(/^\.?\//, ''), MAX_JSON)).toString('utf8'));
  } finally {
    await src.close();
  }
  const first = manifest[0]!;
  config.rootfs = { ...(config.rootfs ?? {}), diff_ids: [...(config.rootfs?.diff_ids ?? []), layer.diffId] };
  config.history = [...(config.history ?? []), { created: new Date().toISOString(), created_by: layer.createdBy, comment: layer.comment }];
  const configBytes = Buffer.from(JSON.stringify(config));
  const configName = `${createHash('sha256').update(configBytes).digest('hex')}.json`;
  const layerMember = `${layer.diffId.replace(/^sha256:/, '')}/layer.tar`;
  const newManifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: layer.repoTags, Layers: [...first.Layers, layerMember] }]));
  const layerSize = (await fsp.stat(layer.layerFile)).size;

  const start = await tarEndOffset(archive);
  const pack = tar.pack();
  const sink = createWriteStream(archive, { flags: 'r+', start });
  const done = pipeline(pack, sink);
  const now = new Date();
  await new Promise<void>((resolve, reject) => {
    const w = pack.entry({ name: layerMember, size: layerSize, mode: 0o644, mtime: now }, (e) => (e ? reject(e) : resolve()));
    createReadStream(layer.layerFile).on('error', reject).pipe(w);
  });
  pack.entry({ name: configName, mode: 0o644, mtime: now }, configBytes);
  pack.entry({ name: 'manifest.json', mode: 0o644, mtime: now }, newManifest);
  pack.finalize();
  await done;
  await fsp.truncate(archive, start + sink.bytesWritten);
}
