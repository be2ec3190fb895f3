/**
 * Finds the images in an archive from its metadata only (manifest.json / index.json / manifests / configs):
 * format detection by content, nested and multi-platform indexes, attestation manifests ignored.
 * Produces everything the layer list needs without touching layer blobs (≤ 300 ms even for large images).
 */
import { createHash } from 'node:crypto';
import type { ArchiveSource } from './archiveSource';
import { normaliseMember } from './archiveSource';
import type {
  ArchiveFlavor, ArchiveFormat, HistoryStep, ImageConfigInfo, LayerCompression, Platform, PlatformChoice,
} from './imageModel';
import { ImageReadError } from './imageReadError';

export interface LayerPlan {
  /** Archive member holding the blob ('' for a foreign layer that is not in the archive). */
  member: string;
  digest: string;
  /** Digest the blob bytes must have ('' when the archive does not say, e.g. legacy layer.tar). */
  blobDigest: string;
  diffId: string;
  mediaType: string;
  compression: LayerCompression;
  size: number;
  foreign: boolean;
  urls: string[];
}

export interface ImagePlan {
  refs: string[];
  manifestDigest: string | null;
  configDigest: string;
  platform: Platform;
  config: ImageConfigInfo;
  layers: LayerPlan[];
}

export interface ArchivePlan {
  format: ArchiveFormat;
  flavor: ArchiveFlavor;
  images: ImagePlan[];
  platforms: PlatformChoice[];
  warnings: string[];
}

export interface PlanOptions {
  platform?: string;
  verify: boolean;
  maxJsonBytes: number;
  hostPlatform?: string;
}

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
};

function isIndexType(mt: string | undefined): boolean {
  return mt === MT.ociIndex || mt === MT.dockerList;
}

/** Compression implied by a layer media type (the blob's magic bytes have the last word). */
export function layerMediaCompression(mt: string): LayerCompression | null {
  if (/tar\+gzip$|tar\.gzip$|tar\+gzip\+encrypted$/.test(mt) || mt === 'application/tar+gzip') return 'gzip';
  if (/tar\+zstd$/.test(mt)) return 'zstd';
  if (/\.tar$|\+tar$|v1\.tar$|diff\.tar$|^application\/x-tar$/.test(mt) || mt === 'application/vnd.oci.image.layer.v1.tar') return 'none';
  return null;
}

function isForeign(mt: string): boolean {
  return mt.includes('foreign') || mt.includes('nondistributable');
}

export function hostPlatform(): string {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm/v7', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return `linux/${arch[process.arch] ?? process.arch}`;
}

function platformOf(p: { os?: unknown; architecture?: unknown; variant?: unknown } | undefined | null): Platform {
  const os = typeof p?.os === 'string' && p.os ? p.os : 'unknown';
  const architecture = typeof p?.architecture === 'string' && p.architecture ? p.architecture : 'unknown';
  const variant = typeof p?.variant === 'string' && p.variant ? p.variant : undefined;
  return { os, architecture, ...(variant ? { variant } : {}), text: [os, architecture, variant].filter(Boolean).join('/') };
}

function platformMatches(want: string, have: string): boolean {
  if (want === have) return true;
  const [wo, wa, wv] = want.split('/');
  const [ho, ha, hv] = have.split('/');
  if (wo !== ho || wa !== ha) return false;
  // linux/arm64 matches linux/arm64/v8; linux/arm matches linux/arm/v7 only when no variant was asked for.
  return wv === undefined || hv === undefined || wv === hv;
}

function blobMember(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

function checkDigest(d: unknown, what: string): string {
  if (typeof d !== 'string' || !DIGEST_RE.test(d)) throw new ImageReadError(what, `invalid digest ${JSON.stringify(d)?.slice(0, 80)}`);
  return d;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

class Planner {
  readonly warnings: string[] = [];
  readonly platforms: PlatformChoice[] = [];
  constructor(private readonly src: ArchiveSource, private readonly opts: PlanOptions) {}

  async json(member: string, what: string, digest?: string, bytes?: Buffer): Promise<unknown> {
    if (!bytes && !this.src.has(member)) throw new ImageReadError(this.src.label, `${what} ${digest ?? member} is missing from the archive`);
    const buf = bytes ?? (await this.src.readSmall(member, this.opts.maxJsonBytes));
    if (digest && this.opts.verify) {
      const [alg, hex] = digest.split(':');
      const got = createHash(alg!).update(buf).digest('hex');
      if (got !== hex) throw new ImageReadError(this.src.label, `${what} ${digest}: digest mismatch (content hashes to ${alg}:${got})`);
    }
    try {
      return JSON.parse(buf.toString('utf8')) as unknown;
    } catch (e) {
      throw new ImageReadError(this.src.label, `${what} ${member} is not valid JSON (${(e as Error).message})`);
    }
  }

  async config(member: string, digest: string): Promise<{ config: ImageConfigInfo; raw: Record<string, unknown>; digest: string }> {
    const buf = await this.src.readSmall(member, this.opts.maxJsonBytes).catch((e) => {
      throw this.src.has(member) ? e : new ImageReadError(this.src.label, `image config ${digest || member} is missing from the archive`);
    });
    const actual = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
    const raw = await this.json(member, 'image config', digest.startsWith('sha') ? digest : undefined, buf);
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ImageReadError(this.src.label, `image config ${member} is not a JSON object`);
    const c = raw as Record<string, any>;
    const cfg = (c.config && typeof c.config === 'object' ? c.config : {}) as Record<string, any>;
    const diffIds = strings(c.rootfs?.diff_ids);
    for (const d of diffIds) checkDigest(d, `image config ${member}: diff_id`);
    const history: HistoryStep[] = [];
    let layer = 0;
    for (const h of Array.isArray(c.history) ? c.history : []) {
      const empty = h?.empty_layer === true;
      history.push({
        createdBy: typeof h?.created_by === 'string' ? h.created_by : '',
        created: typeof h?.created === 'string' ? h.created : null,
        comment: typeof h?.comment === 'string' ? h.comment : null,
        emptyLayer: empty,
        layerIndex: empty ? null : layer++,
      });
    }
    const labels: Record<string, string> = {};
    if (cfg.Labels && typeof cfg.Labels === 'object') {
      for (const [k, v] of Object.entries(cfg.Labels)) if (typeof v === 'string') labels[k] = v;
    }
    return {
      raw: c,
      digest: actual,
      config: {
        env: strings(cfg.Env),
        entrypoint: Array.isArray(cfg.Entrypoint) ? strings(cfg.Entrypoint) : null,
        cmd: Array.isArray(cfg.Cmd) ? strings(cfg.Cmd) : null,
        user: typeof cfg.User === 'string' ? cfg.User : '',
        workingDir: typeof cfg.WorkingDir === 'string' ? cfg.WorkingDir : '',
        exposedPorts: cfg.ExposedPorts && typeof cfg.ExposedPorts === 'object' ? Object.keys(cfg.ExposedPorts).sort() : [],
        labels,
        platform: platformOf(c as never),
        created: typeof c.created === 'string' ? c.created : null,
        history,
        diffIds,
      },
    };
  }

  /** docker save (legacy, and docker 25+ where paths point into blobs/). */
  async dockerSave(): Promise<ImagePlan[]> {
    const manifest = await this.json('manifest.json', 'manifest');
    if (!Array.isArray(manifest) || manifest.length === 0) {
      throw new ImageReadError(this.src.label, `manifest.json lists no images (${manifest === null ? 'it is null' : 'expected a non-empty array'})`);
    }
    const images: ImagePlan[] = [];
    for (const [i, m] of manifest.entries()) {
      const what = `manifest.json image ${i}`;
      if (!m || typeof m.Config !== 'string' || !Array.isArray(m.Layers)) throw new ImageReadError(this.src.label, `${what} has no Config/Layers`);
      const configMember = normaliseMember(m.Config);
      const cfgDigest = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(configMember);
      const legacyId = /^([a-f0-9]{64})\.json$/.exec(configMember);
      // Legacy archives name the config `<image id>.json` (id = its sha256), but tools rewrite configs without
      // renaming them: the id is not trusted, the digest is computed from the bytes.
      const { config, digest: actual } = await this.config(configMember, cfgDigest ? `${cfgDigest[1]}:${cfgDigest[2]}` : '');
      const configDigest = actual;
      if (legacyId && actual !== `sha256:${legacyId[1]}`) this.warnings.push(`${configMember}: config content does not match its file name (its digest is ${actual})`);
      const sources = (m.LayerSources && typeof m.LayerSources === 'object' ? m.LayerSources : {}) as Record<string, any>;
      const layerPaths = strings(m.Layers);
      if (layerPaths.length !== config.diffIds.length) {
        throw new ImageReadError(this.src.label, `${what}: ${layerPaths.length} layers but the config lists ${config.diffIds.length} diff_ids`);
      }
      const layers: LayerPlan[] = layerPaths.map((p, li) => {
        const member = normaliseMember(p);
        const diffId = config.diffIds[li]!;
        const blob = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(member);
        const src = sources[diffId];
        const present = this.src.has(member);
        const mediaType = typeof src?.mediaType === 'string' ? src.mediaType : 'application/vnd.docker.image.rootfs.diff.tar';
        const foreign = !present && (src !== undefined || isForeign(mediaType));
        if (!present && !foreign) throw new ImageReadError(this.src.label, `layer ${li} (${member}) is missing from the archive`);
        const digest = blob ? `${blob[1]}:${blob[2]}` : typeof src?.digest === 'string' ? src.digest : diffId;
        return {
          member: present ? member : '', digest, blobDigest: blob ? digest : '', diffId, mediaType,
          compression: layerMediaCompression(mediaType) ?? 'none', size: present ? this.src.size(member)! : Number(src?.size) || 0,
          foreign, urls: strings(src?.urls),
        };
      });
      const refs = strings(m.RepoTags);
      images.push({ refs, manifestDigest: null, configDigest, platform: config.platform, config, layers });
    }
    return images;
  }

  /** OCI layout (directory, archive, or the OCI half of a docker 25+ save). */
  async oci(): Promise<ImagePlan[]> {
    const index = await this.json('index.json', 'index');
    if (!index || typeof index !== 'object') throw new ImageReadError(this.src.label, 'index.json is not a JSON object');
    const manifests = (index as { manifests?: unknown }).manifests;
    if (!Array.isArray(manifests) || manifests.length === 0) {
      throw new ImageReadError(this.src.label, 'index.json lists no manifests');
    }
    const images: ImagePlan[] = [];
    const seen = new Map<string, ImagePlan>();
    // One broken image among several is reported and skipped; a layout whose only image is broken is an error.
    let firstError: ImageReadError | null = null;
    for (const d of manifests) {
      try {
        await this.descriptor(d, [], images, seen, 0, null);
      } catch (e) {
        if (!(e instanceof ImageReadError) || manifests.length === 1) throw e;
        firstError ??= e;
        this.warnings.push(`skipped an index entry: ${e.why}`);
      }
    }
    if (images.length === 0 && firstError) throw firstError;
    if (images.length === 0) throw new ImageReadError(this.src.label, `no container images in index.json (${[...new Set(this.warnings)].join('; ') || 'only artifacts'})`);
    return images;
  }

  private async descriptor(d: any, refs: string[], out: ImagePlan[], seen: Map<string, ImagePlan>, depth: number, fromIndex: string | null): Promise<void> {
    if (depth > 8) throw new ImageReadError(this.src.label, 'image indexes nested more than 8 deep (or a cycle)');
    if (!d || typeof d !== 'object') throw new ImageReadError(this.src.label, 'index entry is not an object');
    const digest = checkDigest(d.digest, `${this.src.label}: index entry`);
    const ann = (d.annotations ?? {}) as Record<string, unknown>;
    const ref = [ann['io.containerd.image.name'], ann['org.opencontainers.image.ref.name']].find((x): x is string => typeof x === 'string');
    const myRefs = ref && !refs.includes(ref) ? [...refs, ref] : refs;
    if (ann['vnd.docker.reference.type'] === 'attestation-manifest') {
      this.warnings.push(`attestation manifest ${digest.slice(0, 19)} ignored`);
      return;
    }
    const member = blobMember(digest);
    const doc = (await this.json(member, isIndexType(d.mediaType) ? 'image index' : 'manifest', digest)) as any;
    const mt = typeof d.mediaType === 'string' ? d.mediaType : doc?.mediaType;
    if (isIndexType(mt) || (Array.isArray(doc?.manifests) && !doc?.layers)) {
      const children = Array.isArray(doc?.manifests) ? doc.manifests : [];
      const wanted = this.opts.platform ?? this.opts.hostPlatform ?? hostPlatform();
      const candidates = children.filter((c: any) => c?.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
      const withPlatform = candidates.filter((c: any) => c?.platform && !isIndexType(c?.mediaType));
      let chosen: any[];
      if (withPlatform.length > 0) {
        for (const c of withPlatform) {
          const pl = platformOf(c.platform).text;
          this.platforms.push({ platform: pl, manifestDigest: String(c.digest), selected: false, ref: ref ?? null });
        }
        const match = withPlatform.find((c: any) => platformMatches(wanted, platformOf(c.platform).text));
        if (!match && this.opts.platform) {
          throw new ImageReadError(this.src.label, `no image for platform ${this.opts.platform} (available: ${withPlatform.map((c: any) => platformOf(c.platform).text).join(', ')})`);
        }
        const pick = match ?? withPlatform.find((c: any) => platformOf(c.platform).os !== 'unknown') ?? withPlatform[0];
        if (!match) this.warnings.push(`no image for the host platform ${wanted}; showing ${platformOf(pick.platform).text}`);
        for (const p of this.platforms) if (p.manifestDigest === pick.digest) p.selected = true;
        chosen = [pick, ...candidates.filter((c: any) => !c?.platform || isIndexType(c?.mediaType))];
      } else chosen = candidates;
      const skipped = children.length - candidates.length;
      if (skipped > 0) this.warnings.push(`${skipped} attestation manifest(s) ignored`);
      for (const c of chosen) await this.descriptor(c, myRefs, out, seen, depth + 1, digest);
      return;
    }
    const cfgDesc = doc?.config;
    const cfgType = typeof cfgDesc?.mediaType === 'string' ? cfgDesc.mediaType : '';
    if (!Array.isArray(doc?.layers) || !cfgDesc || (cfgType !== MT.ociConfig && cfgType !== MT.dockerConfig)) {
      this.warnings.push(`artifact ${digest.slice(0, 19)} (${cfgType || doc?.artifactType || mt || 'unknown type'}) is not a container image; skipped`);
      return;
    }
    const prior = seen.get(digest);
    if (prior) {
      for (const r of myRefs) if (!prior.refs.includes(r)) prior.refs.push(r);
      return;
    }
    const configDigest = checkDigest(cfgDesc.digest, `${this.src.label}: manifest ${digest} config`);
    const { config } = await this.config(blobMember(configDigest), configDigest);
    if (doc.layers.length !== config.diffIds.length) {
      throw new ImageReadError(this.src.label, `manifest ${digest}: ${doc.layers.length} layers but the config lists ${config.diffIds.length} diff_ids`);
    }
    const layers: LayerPlan[] = [];
    for (const [li, l] of (doc.layers as any[]).entries()) {
      const ld = checkDigest(l?.digest, `${this.src.label}: manifest ${digest} layer ${li}`);
      const mediaType = typeof l?.mediaType === 'string' ? l.mediaType : '';
      const comp = layerMediaCompression(mediaType);
      if (comp === null && !isForeign(mediaType)) {
        this.warnings.push(`artifact ${digest.slice(0, 19)} has non-layer blobs (${mediaType}); skipped`);
        return;
      }
      const m = blobMember(ld);
      const present = this.src.has(m);
      const foreign = isForeign(mediaType) && !present;
      if (!present && !foreign) throw new ImageReadError(this.src.label, `manifest ${digest.slice(0, 19)} names layer ${li} ${ld}, which is missing from the archive`);
      layers.push({
        member: present ? m : '', digest: ld, blobDigest: ld, diffId: config.diffIds[li]!, mediaType,
        compression: comp ?? 'gzip', size: typeof l.size === 'number' ? l.size : (this.src.size(m) ?? 0), foreign, urls: strings(l?.urls),
      });
    }
    const platform = config.platform.os === 'unknown' && d.platform ? platformOf(d.platform) : config.platform;
    void fromIndex;
    const plan: ImagePlan = { refs: [...myRefs], manifestDigest: digest, configDigest, platform, config, layers };
    seen.set(digest, plan);
    out.push(plan);
  }
}

/** Detects the format and plans every selected image. */
export async function planArchive(src: ArchiveSource, opts: PlanOptions): Promise<ArchivePlan> {
  const p = new Planner(src, opts);
  const hasManifest = src.has('manifest.json');
  const hasOci = src.has('index.json') || src.has('oci-layout');
  if (hasManifest) {
    const images = await p.dockerSave();
    return { format: 'docker-archive', flavor: hasOci ? 'docker-save-oci' : 'docker-save-legacy', images, platforms: p.platforms, warnings: p.warnings };
  }
  if (hasOci) {
    if (!src.has('index.json')) throw new ImageReadError(src.label, 'OCI layout without index.json');
    const images = await p.oci();
    const dir = src.kind === 'dir';
    return { format: dir ? 'oci-layout' : 'oci-archive', flavor: dir ? 'oci-layout' : 'oci-archive', images, platforms: p.platforms, warnings: p.warnings };
  }
  const names = src.names();
  if (names.includes('repositories') || names.some((n) => /^[a-f0-9]{64}\/json$/.test(n))) {
    throw new ImageReadError(src.label, 'docker save archive without manifest.json (the pre-1.10 format) is not supported');
  }
  const sample = names.slice(0, 3).join(', ');
  throw new ImageReadError(src.label, `not an image archive: no manifest.json, index.json or oci-layout${sample ? ` (it holds ${sample}${names.length > 3 ? ', …' : ''})` : ''}`);
}
