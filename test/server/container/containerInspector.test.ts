import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { DockerError } from '../../../server/src/docker/dockerError';
import { openImage } from '../../../server/src/image/imageReader';
import { appendLayerToArchive, tarEndOffset } from '../../../server/src/container/archiveAppend';
import type { ContainerEngine, DockerStream } from '../../../server/src/container/containerEngine';
import { parseLoadOutput } from '../../../server/src/container/containerEngine';
import { inspectContainer } from '../../../server/src/container/containerInspector';
import type { ContainerSummary, EngineChange } from '../../../server/src/container/containerModel';
import { parseDockerDiff } from '../../../server/src/container/dockerDiff';
import { writeWritableLayer } from '../../../server/src/container/writableLayerWriter';
import { saveImageToFile } from '../../../server/src/container/imageTransfer';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; data?: string; mode?: number; linkname?: string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    pack.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), size: e.type && e.type !== 'file' ? 0 : data.length, linkname: e.linkname, mtime: new Date(0) }, e.type && e.type !== 'file' ? Buffer.alloc(0) : data);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

async function listTar(buf: Buffer): Promise<Array<{ name: string; type: string; size: number; mode: number; data: string }>> {
  const out: Array<{ name: string; type: string; size: number; mode: number; data: string }> = [];
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(Buffer.from(c as Uint8Array));
      out.push({ name: e.header.name, type: e.header.type, size: e.header.size, mode: e.header.mode, data: Buffer.concat(chunks).toString() });
    }
  })();
  Readable.from([buf]).pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A docker-save (legacy) archive of an image whose layers are the given tars. */
async function dockerArchive(layers: Buffer[], tags: string[]): Promise<Buffer> {
  const diffIds = layers.map((l) => `sha256:${sha(l)}`);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map((_, i) => ({ created_by: `RUN step ${i}` })),
  }));
  const entries: Array<{ name: string; data: Buffer }> = layers.map((l, i) => ({ name: `${sha(l)}${i}/layer.tar`, data: l }));
  entries.push({ name: `${sha(config)}.json`, data: config });
  entries.push({ name: 'manifest.json', data: Buffer.from(JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: tags, Layers: layers.map((l, i) => `${sha(l)}${i}/layer.tar`) }])) });
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, size: e.data.length, mode: 0o644 }, e.data);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

const LAYER0: Entry[] = [
  { name: 'bin/', type: 'directory' }, { name: 'bin/sh', data: 'shell' }, { name: 'data/', type: 'directory' },
  { name: 'data/keep.txt', data: 'hello\n' }, { name: 'data/gone.txt', data: 'gone\n' }, { name: 'data/mode.sh', data: 'm\n' },
  { name: 'data/sub/', type: 'directory' }, { name: 'data/sub/a', data: 'x'.repeat(1000) }, { name: 'data/sub/b', data: 'y'.repeat(2000) },
];
const LAYER1: Entry[] = [{ name: 'data/', type: 'directory' }, { name: 'data/second.txt', data: 'second\n' }];
/** The container's whole filesystem as `docker container export` streams it. */
const EXPORT: Entry[] = [
  { name: '.dockerenv', data: '' }, { name: 'bin/', type: 'directory' }, { name: 'bin/sh', data: 'shell' },
  { name: 'data/', type: 'directory', mode: 0o775 }, { name: 'data/keep.txt', data: 'hello\nmore\n' }, { name: 'data/mode.sh', data: 'm\n', mode: 0o755 },
  { name: 'data/second.txt', data: 'second\n2nd\n' }, { name: 'data/new.txt', data: 'new\n' },
  { name: 'newdir/', type: 'directory' }, { name: 'newdir/f', data: 'f' }, { name: 'newdir/link', type: 'symlink', linkname: '/data/keep.txt' },
];
const DIFF = 'C /data\nC /data/keep.txt\nC /data/mode.sh\nC /data/second.txt\nA /data/new.txt\nD /data/gone.txt\nD /data/sub\nA /newdir\nA /newdir/f\nA /newdir/link\n';
const CONTAINER: ContainerSummary = { id: 'c'.repeat(64), name: 'web', image: 'app:1', imageId: `sha256:${'i'.repeat(64)}`, state: 'running', status: 'running' };

function stream(buf: Buffer | Error): DockerStream {
  if (buf instanceof Error) {
    const s = new Readable({ read() { this.destroy(buf); } });
    const exited = Promise.reject(buf);
    exited.catch(() => undefined);
    return { stream: s, exited };
  }
  return { stream: Readable.from([buf.subarray(0, 700), buf.subarray(700)]), exited: Promise.resolve() };
}

/** An in-memory engine: the archive and export above; `gone` makes the container vanish once it is read. */
async function fakeEngine(opts: { exportError?: Error; goneAfterDiff?: boolean } = {}): Promise<ContainerEngine> {
  const archive = await dockerArchive([await tarOf(LAYER0), await tarOf(LAYER1)], ['app:1']);
  const exported = await tarOf(EXPORT);
  let gone = false;
  return {
    list: async () => [CONTAINER],
    inspect: async (ref) => {
      if (gone || (ref !== 'web' && ref !== CONTAINER.id)) throw new DockerError('not-found', `no such container: ${ref}`);
      return CONTAINER;
    },
    diff: async () => {
      if (opts.goneAfterDiff) gone = true;
      return parseDockerDiff(DIFF);
    },
    exportStream: () => stream(opts.exportError ?? exported),
    saveStream: () => stream(archive),
    imageTags: async () => ({ tags: ['app:1'], size: archive.length }),
    commit: async () => 'sha256:new',
    load: async () => ({ tags: [], ids: [] }),
  };
}

describe('docker output parsers', () => {
  it('docker diff lines become contract paths; junk lines are ignored', () => {
    assert.deepEqual(parseDockerDiff('C /etc\r\nA /etc/x y\nD /tmp/old/\nwhat\n\nA /\n'), [
      { kind: 'C', path: 'etc' }, { kind: 'A', path: 'etc/x y' }, { kind: 'D', path: 'tmp/old' },
    ]);
  });

  it('docker load output gives tags and untagged ids', () => {
    assert.deepEqual(parseLoadOutput('Loaded image: app:1\nLoaded image: reg:5000/x/y:2\nLoaded image ID: sha256:abc123\n'), { tags: ['app:1', 'reg:5000/x/y:2'], ids: ['sha256:abc123'] });
  });
});

describe('writeWritableLayer', () => {
  it('keeps only the changed entries (metadata and bytes from the export) and adds whiteouts', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-wl-'));
    try {
      const out = path.join(dir, 'l.tar');
      const changes: EngineChange[] = [...parseDockerDiff(DIFF), { kind: 'A', path: 'vanished' }];
      let bytes = 0;
      const r = await writeWritableLayer(Readable.from([await tarOf(EXPORT)]), changes, out, { onBytes: (n) => { bytes = n; } });
      const file = readFileSync(out);
      assert.equal(r.diffId, `sha256:${sha(file)}`);
      assert.equal(r.tarSize, file.length);
      assert.ok(bytes > 0);
      assert.deepEqual(r.missing, ['vanished']);
      const entries = await listTar(file);
      assert.deepEqual(entries.map((e) => `${e.type} ${e.name} ${e.data}`), [
        'directory data/ ', 'file data/keep.txt hello\nmore\n', 'file data/mode.sh m\n', 'file data/second.txt second\n2nd\n',
        'file data/new.txt new\n', 'directory newdir/ ', 'file newdir/f f', 'symlink newdir/link ',
        'file data/.wh.gone.txt ', 'file data/.wh.sub ',
      ]);
      assert.equal(entries.find((e) => e.name === 'data/mode.sh')!.mode & 0o777, 0o755);
      assert.equal(entries.find((e) => e.name === 'data/')!.mode & 0o777, 0o775);
      assert.equal(r.entries, 10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    ac.abort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-wl-'));
    try {
      await assert.rejects(writeWritableLayer(Readable.from([await tarOf(EXPORT)]), parseDockerDiff(DIFF), path.join(dir, 'l.tar'), { signal: ac.signal }), /cancelled/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('appendLayerToArchive', () => {
  it('adds a top layer in place; the reader sees it with kinds against the layers below', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-append-'));
    try {
      const file = path.join(dir, 'a.tar');
      const archive = await dockerArchive([await tarOf(LAYER0)], ['app:1']);
      writeFileSync(file, archive);
      assert.equal(await tarEndOffset(file), archive.length - 1024, 'tar-stream ends with two zero blocks');
      const layer = await tarOf([{ name: 'data/', type: 'directory' }, { name: 'data/keep.txt', data: 'changed!' }, { name: 'data/.wh.gone.txt' }, { name: 'new', data: 'n' }]);
      writeFileSync(path.join(dir, 'l.tar'), layer);
      await appendLayerToArchive(file, { layerFile: path.join(dir, 'l.tar'), diffId: `sha256:${sha(layer)}`, createdBy: 'writable', comment: 'c', repoTags: ['app:1'] });
      const img = await openImage(file);
      try {
        await img.done;
        const info = img.info.images[0]!;
        assert.equal(info.layers.length, 2);
        assert.equal(info.layers[1]!.diffId, `sha256:${sha(layer)}`);
        assert.equal(info.layers[1]!.createdBy, 'writable');
        assert.equal(info.layers[1]!.status, 'read');
        assert.deepEqual(img.layerChanges(0, 1).changes.map((c) => `${c.kind} ${c.path}`), ['modified data', 'modified data/keep.txt', 'deleted data/gone.txt', 'added new']);
      } finally {
        await img.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('inspectContainer (in-memory engine)', () => {
  it('reports changes with copy-up origins, metadata-only copy-ups and the commit preview', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'strata-ci-'));
    try {
      const phases = new Set<string>();
      const o = await inspectContainer(await fakeEngine(), 'web', openImage, { workDir: work, onProgress: (p) => phases.add(p.phase) });
      try {
        assert.deepEqual([...phases], ['diff', 'save-image', 'export', 'read-layers']);
        const { inspection } = o;
        assert.equal(inspection.writableIndex, 2);
        const by = new Map(inspection.changes.map((c) => [c.path, c]));
        assert.deepEqual([by.get('data/keep.txt')!.kind, by.get('data/keep.txt')!.from, by.get('data/keep.txt')!.oldSize], ['modified', 0, 6]);
        assert.deepEqual([by.get('data/second.txt')!.from, by.get('data/second.txt')!.oldSize], [1, 7]);
        assert.equal(by.get('data/mode.sh')!.metadataOnly, true);
        assert.equal(by.get('data/keep.txt')!.metadataOnly, undefined);
        assert.deepEqual([by.get('data/sub')!.kind, by.get('data/sub')!.oldType, by.get('data/sub')!.oldSize], ['deleted', 'dir', 3000]);
        assert.deepEqual([by.get('newdir/link')!.kind, by.get('newdir/link')!.type], ['added', 'symlink']);
        assert.equal(by.has('.dockerenv'), false, 'only what docker diff lists');
        const p = inspection.preview;
        assert.equal(p.wastedBytes, 6 + 7 + 2 + 5 + 3000);
        assert.equal(p.metadataOnlyBytes, 2);
        assert.equal(p.layerSize, 'hello\nmore\n'.length + 2 + 'second\n2nd\n'.length + 4 + 1);
        assert.deepEqual([p.added, p.modified, p.deleted], [4, 4, 2]);
        assert.deepEqual(p.topWasted[0], { path: 'data/sub', size: 3000, from: 0, how: 'deleted' });
        assert.equal(o.image.info.images[0]!.ref, 'app:1');
      } finally {
        await o.dispose();
      }
      assert.deepEqual(readdirSync(work), [], 'dispose removes the archive');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('a container that disappears while being read: says so, leaves nothing behind', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'strata-ci-'));
    try {
      const engine = await fakeEngine({ goneAfterDiff: true, exportError: new DockerError('not-found', 'Error: No such container: web') });
      await assert.rejects(inspectContainer(engine, 'web', openImage, { workDir: work }), /container web \(cccccccccccc\) was removed while Strata was reading it/);
      assert.deepEqual(readdirSync(work), []);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('an engine that goes away mid-export: its message, unchanged', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'strata-ci-'));
    try {
      const engine = await fakeEngine({ exportError: new DockerError('engine-unreachable', 'cannot reach the Docker engine at DOCKER_HOST=x') });
      await assert.rejects(inspectContainer(engine, 'web', openImage, { workDir: work }), (e: unknown) => e instanceof DockerError && e.kind === 'engine-unreachable');
      await assert.rejects(inspectContainer(engine, 'nope', openImage, { workDir: work }), /no such container: nope/);
      assert.deepEqual(readdirSync(work), []);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('saveImageToFile (in-memory engine)', () => {
  it('gzips on the way when asked, reporting progress; the bytes are docker save\'s', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-save-'));
    try {
      const engine = await fakeEngine();
      const progress: number[] = [];
      const r = await saveImageToFile(engine, ['app:1'], path.join(dir, 'x.tar.gz'), { gzip: true, onProgress: (b) => progress.push(b) });
      const expected = await dockerArchive([await tarOf(LAYER0), await tarOf(LAYER1)], ['app:1']);
      assert.deepEqual(gunzipSync(readFileSync(r.file)), expected);
      assert.equal(r.archiveBytes, expected.length);
      assert.equal(progress.at(-1), expected.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unwritable destination or a failing docker save: an error and no partial file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-save-'));
    try {
      const engine = await fakeEngine();
      await assert.rejects(saveImageToFile(engine, ['app:1'], path.join(dir, 'missing-dir', 'x.tar')), /ENOENT/);
      const failing: ContainerEngine = { ...engine, saveStream: () => stream(new DockerError('not-found', 'No such image: app:2')) };
      await assert.rejects(saveImageToFile(failing, ['app:2'], path.join(dir, 'y.tar')), /No such image: app:2/);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
