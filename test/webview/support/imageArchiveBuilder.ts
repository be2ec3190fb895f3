/**
 * Builds small docker-save archives at test time (manifest.json + config + one tar per layer), so tests can hold
 * exactly the entries they need: hostile names, whiteouts over known lower files, real fixture layers stacked.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { pack } from 'tar-stream';

export interface TarEntrySpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink';
  content?: string | Buffer;
  mode?: number;
  linkname?: string;
}

export async function tarBuffer(entries: TarEntrySpec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (d: unknown) => { chunks.push(d as Buffer); });
  const ended = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const e of entries) {
    const body = e.content === undefined ? undefined : Buffer.from(e.content);
    const type = e.type ?? 'file';
    await new Promise<void>((resolve, reject) => {
      p.entry({
        name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0, mtime: new Date(0),
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}), ...(type === 'file' ? { size: body?.length ?? 0 } : {}),
      }, type === 'file' ? body ?? Buffer.alloc(0) : Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export interface LayerSpec {
  tar: Buffer;
  createdBy: string;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Writes a legacy `docker save` archive with the given layers (bottom first) and returns its path. */
export async function writeDockerArchive(file: string, layers: LayerSpec[], options: { tag?: string; env?: string[]; labels?: Record<string, string>; emptySteps?: string[] } = {}): Promise<string> {
  const history = [
    ...layers.map((l) => ({ created: '2024-01-01T00:00:00Z', created_by: l.createdBy })),
    ...(options.emptySteps ?? []).map((s) => ({ created: '2024-01-01T00:00:00Z', created_by: s, empty_layer: true })),
  ];
  const config = JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z',
    config: { Env: options.env ?? ['PATH=/usr/bin'], Cmd: ['/bin/sh'], Labels: options.labels ?? {}, WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l.tar)}`) },
    history,
  });
  const configName = `${sha(config)}.json`;
  const layerNames = layers.map((l, i) => `${String(i).padStart(2, '0')}${sha(l.tar).slice(0, 20)}/layer.tar`);
  const manifest = JSON.stringify([{ Config: configName, RepoTags: [options.tag ?? 'strata-test/explorer:1'], Layers: layerNames }]);
  const outer = await tarBuffer([
    { name: 'manifest.json', content: manifest },
    { name: configName, content: config },
    ...layers.flatMap((l, i) => [{ name: layerNames[i]!.split('/')[0]!, type: 'directory' as const }, { name: layerNames[i]!, content: l.tar }]),
  ]);
  await writeFile(file, outer);
  return file;
}

/** An image whose layer 0 has one directory with `entries` files (the worst case for a flat listing) and whose
 * layer 1 has ten, for paging tests and the first-paint benchmark. */
export async function writeWideArchive(file: string, entries: number): Promise<string> {
  const wide: TarEntrySpec[] = [{ name: 'wide/', type: 'directory' }];
  for (let i = 0; i < entries; i++) wide.push({ name: `wide/f${String(i).padStart(6, '0')}.txt`, content: i % 1000 === 0 ? 'x'.repeat(i % 7919) : '' });
  const small: TarEntrySpec[] = [{ name: 'small/', type: 'directory' }];
  for (let i = 0; i < 10; i++) small.push({ name: `small/s${i}`, content: String(i) });
  return writeDockerArchive(file, [
    { tar: await tarBuffer(wide), createdBy: `RUN touch ${entries} files` },
    { tar: await tarBuffer(small), createdBy: 'RUN touch 10 files' },
  ], { tag: 'strata-test/wide:1' });
}
