/**
 * What Strata knows about a container: the engine's view (state, image) plus its writable layer read as an image
 * layer on top of the container's image. Plain JSON-serialisable data (crosses the LSP boundary unchanged).
 */
import type { ContractEntryType } from '../image/imageModel';

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** One row of the Containers group / `docker ps -a`. */
export interface ContainerSummary {
  id: string;
  name: string;
  /** What the user ran (`docker run IMAGE`), e.g. `app:1`; may be an id. */
  image: string;
  /** Full image id, `sha256:…`. */
  imageId: string;
  state: ContainerState;
  /** `docker ps` status text, e.g. `Up 3 minutes (Paused)`. */
  status: string;
}

/** `docker diff` letter: A added, C changed, D deleted (relative to the image + init layer). */
export type EngineChangeKind = 'A' | 'C' | 'D';

export interface EngineChange {
  path: string;
  kind: EngineChangeKind;
}

/** One entry of the writable layer, in the contract's change shape plus copy-up details. */
export interface WritableChange {
  path: string;
  kind: 'added' | 'modified' | 'deleted' | 'opaque';
  type: ContractEntryType;
  /** Bytes of the regular file now (0 for others; for deleted/opaque, the bytes it hides). */
  size: number;
  mode: number;
  /** For modified/deleted/opaque: the lower layer whose copy is replaced/hidden (the copy-up origin). */
  from?: number;
  /** For modified/deleted/opaque: size of what the lower layers showed at this path. */
  oldSize?: number;
  oldType?: ContractEntryType;
  oldMode?: number;
  /** Modified regular file whose bytes are identical to the lower copy: copied up only for chmod/chown/touch. */
  metadataOnly?: boolean;
}

export interface CommitPreview {
  /** Σ regular-file bytes the new layer would hold (dive's layer size). */
  layerSize: number;
  /** Uncompressed tar bytes of the layer as Strata writes it (docker's own tar differs by headers only). */
  tarSize: number;
  entryCount: number;
  /** Bytes of lower-layer files the commit would hide: replaced by copy-ups, deleted or hidden by opaque dirs. */
  wastedBytes: number;
  /** Of wastedBytes: files copied up with identical bytes (only metadata changed). */
  metadataOnlyBytes: number;
  added: number;
  modified: number;
  deleted: number;
  /** Biggest contributors to wastedBytes, largest first. */
  topWasted: Array<{ path: string; size: number; from: number; how: 'replaced' | 'metadata-only' | 'deleted' | 'opaque' }>;
}

export interface ContainerInspection {
  container: ContainerSummary;
  /** Image archive (docker save of the container's image + the writable layer as the top layer). */
  archivePath: string;
  /** Index of the writable layer in that archive's image. */
  writableIndex: number;
  changes: WritableChange[];
  preview: CommitPreview;
  /** Paths docker diff listed that the export no longer had (changed while reading), etc. */
  warnings: string[];
}

export type ContainerProgress =
  | { phase: 'diff' }
  | { phase: 'save-image'; bytes: number; totalBytes: number }
  | { phase: 'export'; bytes: number; totalBytes: number }
  | { phase: 'read-layers' };
