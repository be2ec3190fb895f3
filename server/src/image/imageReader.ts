/**
 * `openImage`: the image reader's entry point (see imageModel.ts for the API it implements).
 * Opens the archive, plans the images from metadata (the layer list is available right away), then reads the
 * layers concurrently, each into its image's ImageTree, reporting progress per layer.
 */
import { openArchiveSource, type ArchiveSource } from './archiveSource';
import {
  DEFAULT_LIMITS, type ArchiveInfo, type ChangePage, type DirectoryEntry, type DirectoryPage, type FileContent,
  type HistoryStep, type ImageInfo, type ImageReaderLimits, type ImageRef, type ImageSummary, type LayerInfo,
  type ListOptions, type OpenedImage, type OpenOptions, type PageOptions, type ReadFileOptions, type VerificationResult,
  type VerificationState, type ViewMode,
} from './imageModel';
import { ImageReadError } from './imageReadError';
import { computeSummary } from './imageSummary';
import { F_WHITEOUT, ImageTree, T_FILE, T_HARDLINK, TYPE_NAMES } from './imageTree';
import { foregroundWork } from './imageWorkerPool';
import {
  layerLabel, readLayer, readLayerRange, seekableLayer, verifySeekableLayer, warmUpTreeRead, type ExpansionBudget,
  type SeekableLayer, type VerifyOutcome,
} from './layerReader';
import { planArchive, type ImagePlan } from './manifestReader';
import { normaliseQueryPath, TreeViews } from './treeViews';

/** Whether this process has run `warmUpTreeRead` (once, before its first tree read by seeking). */
let warmedUp = false;

/** Layers read at the same time (gzip inflates on libuv's thread pool, zstd in its own process). */
const CONCURRENCY = 4;

interface ImageState {
  info: ImageInfo;
  plan: ImagePlan;
  tree: ImageTree;
  views: TreeViews;
  summary: { gen: number; value: ImageSummary } | null;
}

function layerInfos(plan: ImagePlan): LayerInfo[] {
  const history = plan.config.history;
  const layerSteps = history.filter((h) => !h.emptyLayer);
  const useHistory = layerSteps.length === plan.layers.length;
  const empties: HistoryStep[][] = plan.layers.map(() => []);
  if (useHistory) {
    let pending: HistoryStep[] = [];
    for (const h of history) {
      if (h.emptyLayer) pending.push(h);
      else {
        empties[h.layerIndex!] = pending;
        pending = [];
      }
    }
  }
  return plan.layers.map((l, i) => ({
    index: i, digest: l.digest, diffId: l.diffId, compression: l.compression, mediaType: l.mediaType, size: l.size,
    contentSize: null, uncompressedSize: null, entryCount: null,
    createdBy: useHistory ? layerSteps[i]!.createdBy : '', emptySteps: empties[i]!, foreign: l.foreign, urls: l.urls,
    status: l.foreign ? 'foreign' : 'pending', verification: l.foreign ? 'skipped' : 'pending', error: null, warnings: l.foreign ? ['foreign layer: its blob is not in the archive (distributed separately); contents unknown'] : [],
  }));
}

export async function openImage(path: string, options: OpenOptions = {}): Promise<OpenedImage> {
  const limits: ImageReaderLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const verify = options.verify !== false;
  const src = await openArchiveSource(path, limits.maxExpandedBytes);
  let plan;
  try {
    plan = await planArchive(src, { platform: options.platform, verify, maxJsonBytes: limits.maxJsonBytes });
  } catch (e) {
    await src.close();
    throw e;
  }
  const images: ImageState[] = plan.images.map((p, index) => {
    const tree = new ImageTree(p.layers.length, limits);
    const info: ImageInfo = {
      index, ref: p.refs[0] ?? null, refs: p.refs, platform: p.platform.text, configDigest: p.configDigest,
      manifestDigest: p.manifestDigest, layers: layerInfos(p), config: p.config,
    };
    return { info, plan: p, tree, views: new TreeViews(tree), summary: null };
  });
  const info: ArchiveInfo = {
    path, format: plan.format, flavor: plan.flavor, images: images.map((i) => i.info), platforms: plan.platforms, warnings: plan.warnings,
    verification: 'pending',
  };
  if (!verify || options.metadataOnly) {
    for (const img of images) for (const l of img.info.layers) l.verification = 'skipped';
    info.verification = 'skipped';
  } else if (images.every((i) => i.info.layers.every((l) => l.foreign))) info.verification = 'skipped';
  options.onProgress?.({ type: 'archive', archive: info });
  return new OpenedImageImpl(info, src, images, limits, verify, options);
}

class OpenedImageImpl implements OpenedImage {
  readonly treesReady: Promise<void>;
  readonly verified: Promise<VerificationResult>;
  readonly done: Promise<void>;
  private readonly abort = new AbortController();
  /** One verification per non-foreign layer, settled (never rejected) as each layer's digests are checked. */
  private readonly verifications: Promise<void>[] = [];

  constructor(
    readonly info: ArchiveInfo,
    private readonly src: ArchiveSource,
    private readonly images: ImageState[],
    limits: ImageReaderLimits,
    private readonly verify: boolean,
    private readonly options: OpenOptions,
  ) {
    if (options.signal?.aborted) this.abort.abort();
    else options.signal?.addEventListener('abort', () => this.abort.abort(), { once: true });
    let treesDone!: () => void;
    let treesFailed!: (e: unknown) => void;
    this.treesReady = new Promise((resolve, reject) => {
      treesDone = resolve;
      treesFailed = reject;
    });
    if (options.metadataOnly) {
      treesDone();
      this.verified = Promise.resolve({ state: 'skipped', problems: [] });
      this.done = Promise.resolve();
      return;
    }
    this.verified = this.readAll(limits, treesDone).catch((e: unknown) => {
      treesFailed(e); // no-op when the trees were ready before verification failed unexpectedly
      throw e;
    });
    this.done = Promise.all([this.treesReady, this.verified]).then(() => {
      options.onProgress?.({ type: 'done', archive: this.info });
    });
  }

  /** Reads every layer's tree; resolves with the verification result once every layer's digests are settled. */
  private async readAll(limits: ImageReaderLimits, treesDone: () => void): Promise<VerificationResult> {
    const budget: ExpansionBudget = { used: 0, max: limits.maxExpandedBytes };
    const jobs: Array<{ img: ImageState; li: number; seekable: SeekableLayer | null }> = [];
    for (const img of this.images) {
      for (const l of img.info.layers) {
        if (l.foreign) img.tree.finishLayer(l.index);
        else jobs.push({ img, li: l.index, seekable: null });
      }
    }
    const emit = this.options.onProgress;
    const signal = this.abort.signal;
    // Uncompressed layers in a plain file: the tree is read by seeking over contents while worker threads hash
    // every byte. Their hashing starts first, all at once (the pool runs the largest first), so it overlaps the
    // whole tree read; compressed layers are hashed while they stream.
    await Promise.all(jobs.map(async (j) => {
      j.seekable = await seekableLayer(this.src, j.img.plan.layers[j.li]!).catch(() => null);
    }));
    if (!warmedUp && jobs.some((j) => j.seekable)) {
      warmedUp = true;
      try {
        warmUpTreeRead(new ImageTree(3, DEFAULT_LIMITS, 2));
      } catch {
        // a warm-up only (its archive is checked by layerReader.test.ts): never a reason to fail an open
      }
    }
    const startHashing = () => {
      if (!this.verify) return;
      for (const j of jobs) {
        if (j.seekable) this.track(j.img, j.li, verifySeekableLayer(j.seekable, j.img.plan.layers[j.li]!, signal));
      }
    };
    const afterTrees = this.options.verifyAfterTrees === true;
    if (!afterTrees) startHashing();
    const release = foregroundWork();
    let next = 0;
    // Layers read by seeking are read one after the other, in layer order: their reads are synchronous anyway (no
    // overlap to gain), and each node's entry chain then grows at its head only (see ImageTree.newEntry).
    let seeking: Promise<unknown> = Promise.resolve();
    const worker = async () => {
      while (next < jobs.length) {
        const { img, li, seekable } = jobs[next++]!;
        if (seekable) {
          const previous = seeking;
          let finished!: () => void;
          seeking = new Promise<void>((r) => (finished = r));
          await previous;
          try {
            await this.readJob(img, li, seekable, budget);
          } finally {
            finished();
          }
        } else await this.readJob(img, li, seekable, budget);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
    } finally {
      release(); // hashing may now use every core
    }
    for (const img of this.images) addWhiteoutWarnings(img);
    treesDone();
    emit?.({ type: 'trees-ready', archive: this.info });
    if (afterTrees) startHashing();
    // Spare column capacity is dropped once those waiting for the trees have had their turn: housekeeping (2–4 ms
    // on the benchmark image), before `done`.
    await new Promise((r) => setImmediate(r));
    for (const img of this.images) img.tree.trimAll();
    await Promise.all(this.verifications);
    const problems: VerificationResult['problems'] = [];
    for (const img of this.images) {
      for (const l of img.info.layers) {
        if (l.verification === 'mismatch' || l.verification === 'error') {
          problems.push({ image: img.info.index, layer: l.index, state: l.verification, message: `${layerLabel(img.plan.layers[l.index]!, l.index)}: ${l.error ?? l.verification}` });
        }
      }
    }
    this.info.verification = overallVerification(this.images);
    const result: VerificationResult = { state: this.info.verification === 'pending' ? 'skipped' : this.info.verification, problems };
    emit?.({ type: 'verified', archive: this.info, result });
    return result;
  }

  /** Reads one layer's tree (`readAll`'s job), recording its state and reporting progress. */
  private async readJob(img: ImageState, li: number, seekable: SeekableLayer | null, budget: ExpansionBudget): Promise<void> {
    const emit = this.options.onProgress;
    const signal = this.abort.signal;
    const layer = img.info.layers[li]!;
    if (signal.aborted) {
      layer.status = 'failed';
      layer.error = 'cancelled';
      if (!seekable) this.settle(img, li, { state: 'error', why: 'cancelled' });
      return;
    }
    layer.status = 'reading';
    emit?.({ type: 'layer-start', image: img.info.index, layer: li });
    try {
      const r = await readLayer(this.src, img.plan.layers[li]!, li, img.tree, {
        verify: this.verify && !seekable, budget, signal, seekable,
        onBytes: (n) => emit?.({ type: 'layer-progress', image: img.info.index, layer: li, bytesRead: n, totalBytes: layer.size }),
      });
      layer.compression = r.compression;
      layer.uncompressedSize = r.uncompressedSize;
      layer.entryCount = r.entries;
      layer.contentSize = img.tree.layerContentSize[li]!;
      layer.status = 'read';
      if (r.verification) this.track(img, li, r.verification);
    } catch (e) {
      layer.status = 'failed';
      layer.error = e instanceof ImageReadError ? e.why : String((e as Error)?.message ?? e);
      // a streamed layer that could not be read could not be hashed either
      if (!seekable) this.settle(img, li, { state: 'error', why: layer.error });
      emit?.({ type: 'layer-failed', image: img.info.index, layer: li, message: layer.error });
    }
    img.tree.finishLayer(li);
    layer.warnings.push(...img.tree.layerWarnings[li]!);
    const c = img.tree.layerWarningCount[li]!;
    if (c > img.tree.layerWarnings[li]!.length) layer.warnings.push(`${c} warnings in all`);
    if (layer.status === 'read') emit?.({ type: 'layer-done', image: img.info.index, layer: li, info: layer });
  }

  private track(img: ImageState, li: number, outcome: Promise<VerifyOutcome>): void {
    this.verifications.push(outcome.then((o) => this.settle(img, li, o)));
  }

  /**
   * Records one layer's verification outcome; a mismatch fails the layer (its tree stays queryable). A no-op for
   * a layer already settled or not verified (`openImage` marks every layer 'skipped' when verification is off).
   */
  private settle(img: ImageState, li: number, o: VerifyOutcome): void {
    const layer = img.info.layers[li]!;
    if (layer.verification !== 'pending') return;
    layer.verification = o.state;
    if (o.state !== 'verified' && layer.status !== 'failed') {
      layer.status = 'failed';
      layer.error = o.why;
    }
    this.info.verification = overallVerification(this.images);
    this.options.onProgress?.({ type: 'layer-verified', image: img.info.index, layer: li, info: layer });
  }

  private state(ref: ImageRef): ImageState {
    if (typeof ref === 'number') {
      const s = this.images[ref];
      if (s) return s;
    } else {
      const s = this.images.find((i) => i.info.refs.includes(ref) || i.info.configDigest === ref || i.info.manifestDigest === ref || i.info.configDigest.startsWith(`sha256:${ref}`));
      if (s) return s;
    }
    throw new ImageReadError(String(ref), `no such image in ${this.info.path} (it has ${this.images.map((i) => i.info.ref ?? i.info.configDigest.slice(0, 19)).join(', ')})`);
  }

  image(ref: ImageRef): ImageInfo {
    return this.state(ref).info;
  }

  layerChanges(ref: ImageRef, layerIndex: number, page?: PageOptions): ChangePage {
    return this.state(ref).views.layerChanges(layerIndex, page);
  }

  listDirectory(ref: ImageRef, layerIndex: number, mode: ViewMode, dir: string, options?: ListOptions): DirectoryPage {
    const s = this.state(ref);
    this.ensureWasted(s);
    return s.views.listDirectory(mode, layerIndex, dir, options);
  }

  stat(ref: ImageRef, layerIndex: number, mode: ViewMode, path: string): DirectoryEntry | null {
    const s = this.state(ref);
    this.ensureWasted(s);
    return s.views.stat(mode, layerIndex, path);
  }

  private ensureWasted(s: ImageState): void {
    if (s.tree.doneThrough(s.tree.layerCount - 1)) this.summary(s.info.index);
  }

  async readFile(ref: ImageRef, layerIndex: number, path: string, options: ReadFileOptions = {}): Promise<FileContent> {
    const s = this.state(ref);
    const { tree, views } = s;
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    let p = normaliseQueryPath(path);
    let node = tree.lookup(p);
    let e = node < 0 ? -1 : options.mode === 'layer' ? tree.entryInLayer(node, layerIndex) : views.merged(layerIndex).vis[node]!;
    for (let hops = 0; e >= 0 && tree.eType.data[e] === T_HARDLINK; hops++) {
      if (hops >= 32) throw new ImageReadError(path, 'hardlink loop');
      p = tree.linkTarget(e) ?? '';
      node = tree.lookup(p);
      e = node < 0 ? -1 : views.merged(tree.eLayer.data[e]!).vis[node]!;
    }
    if (e < 0) throw new ImageReadError(path, `no such file in layer ${layerIndex}${options.mode === 'layer' ? '' : ' (merged view)'}`);
    if (tree.eType.data[e] !== T_FILE) throw new ImageReadError(path, `not a regular file (${TYPE_NAMES[tree.eType.data[e]!]})`);
    const layer = tree.eLayer.data[e]!;
    const size = tree.eSize.data[e]!;
    const want = Math.min(size, maxBytes);
    const bytes = want > 0
      ? await readLayerRange(this.src, s.plan.layers[layer]!, s.info.layers[layer]!.compression, tree.eDataOffset.data[e]!, want, options.signal)
      : new Uint8Array(0);
    return { path: p, layerIndex: layer, size, bytes, truncated: size > bytes.length };
  }

  summary(ref: ImageRef, options: { topWasted?: number } = {}): ImageSummary {
    const s = this.state(ref);
    if (s.tree.layerCount === 0) {
      return { totalSize: 0, storedSize: 0, userSize: 0, wastedBytes: 0, userWastedPercent: 0, diveWastedBytes: 0, efficiency: 1, diveEfficiency: 1, entryCount: 0, topWasted: [] };
    }
    const top = options.topWasted ?? 20;
    if (!s.summary || s.summary.gen !== s.tree.generation || s.summary.value.topWasted.length < Math.min(top, 20)) {
      const value = computeSummary(s.views, Math.max(top, 20));
      value.storedSize = s.info.layers.reduce((a, l) => a + l.size, 0);
      s.summary = { gen: s.tree.generation, value };
    }
    return { ...s.summary.value, topWasted: s.summary.value.topWasted.slice(0, top) };
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done.catch(() => undefined);
    await this.src.close();
  }
}

function overallVerification(images: ImageState[]): VerificationState {
  const states = images.flatMap((i) => i.info.layers.map((l) => l.verification));
  if (states.includes('pending')) return 'pending';
  if (states.includes('mismatch')) return 'mismatch';
  if (states.includes('error')) return 'error';
  return states.includes('verified') ? 'verified' : 'skipped';
}

/** Whiteouts of paths no lower layer has: harmless, but worth a per-layer warning. */
function addWhiteoutWarnings(img: ImageState): void {
  const { tree, views } = img;
  for (let l = 0; l < tree.layerCount; l++) {
    // in entry order (the order of the layer's tar), each entry once
    const list = tree.layerWhiteouts[l]!.slice().sort((a, b) => a - b);
    let count = 0;
    let first = '';
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      if (list[i - 1] === e || !(tree.eFlags.data[e]! & F_WHITEOUT)) continue;
      // node by node: layers usually have a few whiteouts, and a whole merged view costs as much as a layer's read
      const node = tree.eNode.data[e]!;
      if (views.visibleAt(l - 1, node) < 0) {
        if (count++ === 0) first = tree.nodePath(node);
      }
    }
    if (count > 0) img.info.layers[l]!.warnings.push(`whiteout of ${first}${count > 1 ? ` and ${count - 1} more path(s)` : ''}, which no lower layer has`);
  }
}
