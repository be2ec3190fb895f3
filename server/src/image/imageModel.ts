/**
 * The image reader's public model: what an opened image archive / OCI layout looks like to the rest of Strata
 * (the `strata inspect` CLI, the language server, the layer explorer webview).
 *
 * Pure data + the reader's interface; no presentation state (no expansion, selection or colours) and no I/O here.
 * Everything is plain JSON-serialisable data so it can cross the LSP / webview boundary unchanged.
 *
 * Identity: an opened archive holds one or more images; an image is addressed by `ImageRef` (its index in
 * `ArchiveInfo.images`, or its `ref` tag, or its `configDigest`). Layers are addressed by their 0-based index
 * in that image (bottom layer = 0). Paths are `/`-separated, relative to the image root, without a leading `./`
 * or `/` and without a trailing `/`; the root directory is `''`.
 */

// ---------------------------------------------------------------------------------------------------------------
// Archive, images, layers, config

/** How the archive was stored, detected by content (never by file name). */
export type ArchiveFormat = 'docker-archive' | 'oci-archive' | 'oci-layout';

/** Finer-grained detection result, for display and diagnostics. */
export type ArchiveFlavor =
  | 'docker-save-legacy' // manifest.json + <id>/layer.tar (+ repositories)
  | 'docker-save-oci' // docker 25+ / containerd store: OCI layout + manifest.json in one tar
  | 'oci-archive' // tar of an OCI image layout
  | 'oci-layout'; // OCI image layout directory

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  /** `os/architecture[/variant]`, e.g. `linux/arm/v7`; `unknown/unknown` when the config says nothing. */
  text: string;
}

/** One platform offered by a (possibly nested) image index. */
export interface PlatformChoice {
  platform: string;
  manifestDigest: string;
  /** The image of this platform is among `ArchiveInfo.images` (the host's by default, or `--platform`). */
  selected: boolean;
  /** `ref` of the index entry that led here, if any (org.opencontainers.image.ref.name / io.containerd.image.name). */
  ref: string | null;
}

/** One step of the config's `history`, including `empty_layer` steps (ENV, CMD, …) that create no layer. */
export interface HistoryStep {
  createdBy: string;
  created: string | null;
  comment: string | null;
  emptyLayer: boolean;
  /** Index of the layer this step produced, or null for an empty-layer step. */
  layerIndex: number | null;
}

/** The parts of the image config a user looks at. */
export interface ImageConfigInfo {
  env: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  user: string;
  workingDir: string;
  /** e.g. `80/tcp`, sorted. */
  exposedPorts: string[];
  labels: Record<string, string>;
  platform: Platform;
  created: string | null;
  history: HistoryStep[];
  /** rootfs.diff_ids in order. */
  diffIds: string[];
}

export type LayerStatus = 'pending' | 'reading' | 'read' | 'failed' | 'foreign';

/**
 * Digest verification of one layer (blob digest against its descriptor, diffId against the config), which runs
 * separately from reading the tree: an uncompressed layer's tree is indexed by seeking over file contents while
 * worker threads hash every byte, so the tree is usable before the layer is verified.
 * - `pending`: not settled yet; `verified`: both digests match; `mismatch`: a digest does not match (the layer's
 *   `status` becomes 'failed' and `error` names the layer and both digests);
 * - `error`: the bytes could not be hashed (I/O error, corrupt compressed data — `error` says why);
 * - `skipped`: `--no-verify`, a foreign layer, or a metadata-only open.
 */
export type VerificationState = 'pending' | 'verified' | 'mismatch' | 'error' | 'skipped';

export interface LayerInfo {
  index: number;
  /** Blob digest (of the stored, possibly compressed, bytes). For legacy docker-save archives this is the diffId. */
  digest: string;
  /** Digest of the uncompressed tar (config rootfs.diff_ids[index]). */
  diffId: string;
  /** Known from the media type up front; corrected from magic bytes once the blob is opened. */
  compression: LayerCompression;
  mediaType: string;
  /** Stored blob size in bytes (descriptor size; for docker-archive the layer tar's size). */
  size: number;
  /** Sum of the sizes of regular files in the layer (dive's layer size); null until the layer is read. */
  contentSize: number | null;
  /** Uncompressed tar bytes; null until the layer is read. */
  uncompressedSize: number | null;
  /** Number of tar entries; null until the layer is read. */
  entryCount: number | null;
  /** `created_by` of the history step that produced this layer ('' if unknown). */
  createdBy: string;
  /** Empty-layer history steps (ENV, LABEL, CMD, …) that came right before this layer's step. */
  emptySteps: HistoryStep[];
  /** Foreign / non-distributable layer whose blob is not in the archive: reported, not fatal. */
  foreign: boolean;
  urls: string[];
  status: LayerStatus;
  /** Digest verification of this layer (independent of `status` until it ends in a mismatch). */
  verification: VerificationState;
  /** Why the layer could not be read (status 'failed'): digest mismatch, corrupt data, limit exceeded, … */
  error: string | null;
  /** Per-layer problems that did not stop reading (duplicate entries, whiteouts of nothing, bad names, …). */
  warnings: string[];
}

export interface ImageInfo {
  /** Index in ArchiveInfo.images. */
  index: number;
  /** First tag (`app:1`), or null for an untagged image. */
  ref: string | null;
  refs: string[];
  platform: string;
  configDigest: string;
  /** Digest of the image manifest; null for legacy docker-save archives. */
  manifestDigest: string | null;
  layers: LayerInfo[];
  config: ImageConfigInfo;
}

export interface ArchiveInfo {
  path: string;
  format: ArchiveFormat;
  flavor: ArchiveFlavor;
  /** The selected images (one per tag/manifest; for a multi-platform index, the selected platform only). */
  images: ImageInfo[];
  /** Every platform offered by image indexes in the archive (empty for single-platform archives). */
  platforms: PlatformChoice[];
  /** Archive-level problems that did not stop reading (ignored attestation manifests, unknown media types, …). */
  warnings: string[];
  /**
   * All layers' verification in one word: `pending` while any is, else `mismatch` / `error` if any layer has it,
   * else `verified` (or `skipped` when nothing was verified).
   */
  verification: VerificationState;
}

/** What `OpenedImage.verified` resolves with once every layer's verification has settled. */
export interface VerificationResult {
  state: Exclude<VerificationState, 'pending'>;
  /** Layers whose digests did not match or could not be hashed, with the message naming the layer. */
  problems: Array<{ image: number; layer: number; state: 'mismatch' | 'error'; message: string }>;
}

// ---------------------------------------------------------------------------------------------------------------
// Opening

export interface ImageReaderLimits {
  /** Stop expanding after this many uncompressed bytes in total (decompression-bomb guard). */
  maxExpandedBytes: number;
  /** Most tar entries accepted across the whole image. */
  maxEntries: number;
  /** Deepest path accepted (components); deeper entries are skipped with a layer warning. */
  maxPathDepth: number;
  /** Largest JSON document (manifest, index, config) read into memory. */
  maxJsonBytes: number;
}

export const DEFAULT_LIMITS: ImageReaderLimits = {
  maxExpandedBytes: 64 * 1024 ** 3,
  maxEntries: 5_000_000,
  maxPathDepth: 4096,
  maxJsonBytes: 16 * 1024 ** 2,
};

export interface OpenOptions {
  /** `os/arch[/variant]`; default: the host's platform when an index offers several. */
  platform?: string;
  /** Verify blob digests and diffIds while streaming (default true; `--no-verify` turns it off). */
  verify?: boolean;
  /**
   * Start hashing uncompressed layers only once every tree is read (default: at once, on worker threads, in
   * parallel with the tree read). Trees come sooner on a busy machine; full verification ends later.
   */
  verifyAfterTrees?: boolean;
  /** Read only manifests and configs (layer list + sizes), not the layer trees. */
  metadataOnly?: boolean;
  signal?: AbortSignal;
  limits?: Partial<ImageReaderLimits>;
  /** Called as the archive and each layer are read; the first layer's tree is usable before the last is read. */
  onProgress?: (event: ImageProgressEvent) => void;
}

export type ImageProgressEvent =
  /** Manifests and configs are read: the layer list and blob sizes are known. */
  | { type: 'archive'; archive: ArchiveInfo }
  | { type: 'layer-start'; image: number; layer: number }
  | { type: 'layer-progress'; image: number; layer: number; bytesRead: number; totalBytes: number }
  /** This layer's entries are queryable (changes in it; merged/range views once lower layers are done too). */
  | { type: 'layer-done'; image: number; layer: number; info: LayerInfo }
  | { type: 'layer-failed'; image: number; layer: number; message: string }
  /** Every layer's tree is read (verification may still be running: see `layer-verified` / `verified`). */
  | { type: 'trees-ready'; archive: ArchiveInfo }
  /** One layer's verification settled (`info.verification` says how; a mismatch also sets status 'failed'). */
  | { type: 'layer-verified'; image: number; layer: number; info: LayerInfo }
  /** Every layer's verification settled. */
  | { type: 'verified'; archive: ArchiveInfo; result: VerificationResult }
  /** Trees read and verification settled. */
  | { type: 'done'; archive: ArchiveInfo };

/**
 * Opens an archive or layout and starts reading layers. Rejects with an `ImageReadError` for anything that makes the
 * archive unusable (not an image, missing blob, bad JSON, digest mismatch with verify on, limits exceeded).
 * Implemented in `imageReader.ts` as `openImage(path, options): Promise<OpenedImage>`.
 */
export type OpenImage = (path: string, options?: OpenOptions) => Promise<OpenedImage>;

/** A reader error; `message` is the user-facing `<what>: <why>` (the CLI prefixes `strata: `). */
export interface ImageReadErrorShape {
  name: 'ImageReadError';
  what: string;
  why: string;
  message: string;
}

export type ImageRef = number | string;

/** An opened archive. All queries are synchronous over the in-memory index, except reading file bytes. */
export interface OpenedImage {
  readonly info: ArchiveInfo;
  /**
   * Resolves when every layer's tree is read (failed layers included): all queries answer from the full index.
   * With verification on, digests may still be being checked (see `verified`).
   */
  readonly treesReady: Promise<void>;
  /**
   * Resolves when every layer's verification has settled; `state` is `mismatch` if any failed. A mismatch never
   * rejects it: it rejects only when reading itself fails unexpectedly (so does `treesReady` if still unsettled).
   */
  readonly verified: Promise<VerificationResult>;
  /**
   * Resolves when trees are read and verification has settled (what `strata inspect` waits for, so it never
   * prints an unverified image); a digest mismatch shows as the layer's status 'failed' with its error.
   */
  readonly done: Promise<void>;
  /** Resolve an ImageRef to its ImageInfo; throws ImageReadError if unknown. */
  image(ref: ImageRef): ImageInfo;
  /** Every entry of one layer, in tar order (after de-duplication), with its change kind. */
  layerChanges(ref: ImageRef, layerIndex: number, page?: PageOptions): ChangePage;
  /** One directory's children in the chosen view. */
  listDirectory(ref: ImageRef, layerIndex: number, mode: ViewMode, dir: string, options?: ListOptions): DirectoryPage;
  /** Stat one path in the chosen view (null if absent). */
  stat(ref: ImageRef, layerIndex: number, mode: ViewMode, path: string): DirectoryEntry | null;
  /** The bytes of one regular file as seen in `mode` at `layerIndex` (follows hardlinks, not symlinks). */
  readFile(ref: ImageRef, layerIndex: number, path: string, options?: ReadFileOptions): Promise<FileContent>;
  /** Sizes, wasted space and efficiency of the image (valid once `done` resolved; partial before). */
  summary(ref: ImageRef, options?: { topWasted?: number }): ImageSummary;
  /** Stops reading (pending layers become 'failed') and releases file handles. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Changes and views

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
/** `type` as the contract's JSON spells it. */
export type ContractEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'opaque';

/** One extended attribute of an entry (PAX `SCHILY.xattr.NAME`), e.g. `security.capability`. */
export interface Xattr {
  name: string;
  /** The value as UTF-8 text when it is valid UTF-8 without NUL bytes, else base64. */
  value: string;
  encoding: 'utf8' | 'base64';
}

export interface LayerChange {
  path: string;
  kind: ChangeKind;
  type: EntryType;
  /** Regular file bytes (0 for others; for `deleted`, the size of what it removes). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Symlink or hardlink target, as stored. */
  linkTarget: string | null;
  /** For `deleted`/`opaque`: the whiteout entry's own path (`D/.wh.N`, `D/.wh..wh..opq`). */
  whiteoutPath: string | null;
  /** Extended attributes stored with the entry, in tar order (empty when none). */
  xattrs: Xattr[];
  /** The name was not valid UTF-8: `path` shows it with \xNN escapes. */
  rawName: boolean;
}

export interface PageOptions {
  offset?: number;
  limit?: number;
}

export interface ChangePage {
  total: number;
  offset: number;
  changes: LayerChange[];
}

/**
 * - `layer`: only what this layer's tar contains (plus implied parent dirs), with whiteouts as `deleted` entries.
 * - `merged`: the union filesystem after layers 0..layerIndex (what a container sees).
 * - `range`: what changed in layers `rangeStart..layerIndex` (ListOptions.rangeStart, default 0), relative to
 *   the merged tree below rangeStart.
 */
export type ViewMode = 'layer' | 'merged' | 'range';

export type SortKey = 'name' | 'size' | 'kind' | 'type';

export interface ListOptions extends PageOptions {
  sort?: SortKey;
  descending?: boolean;
  /** Case-insensitive substring of the entry path (matches also keep the ancestor dirs visible). */
  filter?: string;
  /** Only these kinds (in layer/range views; `unchanged` only appears in merged). */
  kinds?: EntryKindBadge[];
  wastedOnly?: boolean;
  /** For `range` mode: the first layer of the range (inclusive). */
  rangeStart?: number;
}

/** Badge for an entry in a view: its change kind relative to the layers below the viewed layer/range. */
export type EntryKindBadge = ChangeKind | 'unchanged';

export interface DirectoryEntry {
  name: string;
  path: string;
  type: EntryType;
  /** Regular file size; for directories, cumulative size of regular files below (in this view). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  linkTarget: string | null;
  kind: EntryKindBadge;
  /** Whiteout entry name (`.wh.N`) when kind is `deleted`. */
  whiteoutName: string | null;
  /** The directory carries an opaque marker in the viewed layer/range. */
  opaque: boolean;
  /** This entry's bytes (or, for a dir, some bytes below it) are wasted in the final image. */
  wasted: boolean;
  /** Children in this view (dirs only; 0 for others). */
  childCount: number;
  /** Layer whose entry is shown (the topmost that wrote this path in the view). */
  layerIndex: number;
  rawName: boolean;
  /** Extended attributes of the entry shown (absent when none). */
  xattrs?: Xattr[];
}

export interface DirectoryPage {
  dir: string;
  total: number;
  offset: number;
  entries: DirectoryEntry[];
}

export interface ReadFileOptions {
  /** Cap on bytes returned (default 1 MiB); `truncated` says if the file is longer. */
  maxBytes?: number;
  /** Default 'merged': the file as visible at layerIndex; 'layer': only if this layer wrote it. */
  mode?: 'merged' | 'layer';
  signal?: AbortSignal;
}

export interface FileContent {
  path: string;
  layerIndex: number;
  size: number;
  bytes: Uint8Array;
  truncated: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Summary

export interface WastedPath {
  path: string;
  /** Bytes of this path's copies that the final image does not show. */
  size: number;
  /** Layers whose copy is wasted, lowest first. */
  writtenBy: number[];
  /** Layer that replaced, deleted or hid the (last wasted) copy. */
  hiddenBy: number;
  how: 'replaced' | 'deleted' | 'opaque' | 'parent-replaced';
}

export interface ImageSummary {
  /** Σ of layer contentSize (dive's image size). */
  totalSize: number;
  /** Σ of stored blob sizes. */
  storedSize: number;
  /** Σ of layer contentSize except layer 0 (dive's "user" size). */
  userSize: number;
  /** Bytes of regular files the final image no longer shows, each copy counted once (contract). */
  wastedBytes: number;
  /** wastedBytes ÷ userSize (0 when userSize is 0); used by `highestUserWastedPercent`. */
  userWastedPercent: number;
  /** dive's wasted bytes exactly as dive computes them (counts the surviving copy too, wagoodman/dive#684). */
  diveWastedBytes: number;
  /** dive's efficiency formula in [0, 1], whiteouts counting the size they remove (contract). */
  efficiency: number;
  /** dive's implementation exactly (a whiteout of a file counts 0), to compare with dive's own output. */
  diveEfficiency: number;
  entryCount: number;
  topWasted: WastedPath[];
}
