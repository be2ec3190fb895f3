/**
 * Every custom LSP message between the extension (client/) and the language server (server/), defined once.
 * Both sides import these constants and types; nothing else names a custom method.
 * Recipe "add a message": add a `RequestType` here with its params/result types, handle it in
 * server/src/lsp/strataServer.ts (through `guard`), call it from client/ with `sendStrataRequest` (which applies the timeout).
 */
import { RequestType, NotificationType } from 'vscode-languageserver-protocol';

/** Default time a client waits for a custom request before giving up with a visible error. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ServerStatus {
  version: string;
  uptimeMs: number;
  openDocuments: number;
  featureErrors: Record<string, number>;
}
/** Health/diagnostic information about the server; used by tests and the "Show Log" command. */
export const StatusRequest = new RequestType<void, ServerStatus, void>('strata/status');

/** The server tells the client that it is busy (status bar). `null` text: idle. */
export interface BusyParams { text: string | null; tooltip?: string }
export const BusyNotification = new NotificationType<BusyParams>('strata/busy');

// --- Build (issue 7): the build runs in the server process so the extension host never waits on docker. ---------

export interface BuildParams {
  /** Client-chosen id; progress notifications carry it. */
  buildId: string;
  /** Absolute file-system paths. */
  dockerfile: string;
  context: string;
  target: string | null;
  buildArgs: Record<string, string>;
  tags: string[];
  /** Where records live (the extension's storage folder). */
  stateDir: string;
  /** The `strata.dockerPath` setting. */
  dockerPath?: string;
  noCache?: boolean;
}

export interface BuildStepInfo {
  vertexId: number;
  name: string;
  line: number | null;
  endLine: number | null;
  index: number | null;
  total: number | null;
  state: 'running' | 'done' | 'cached' | 'error' | 'canceled';
  durationMs: number | null;
}

export interface BuildDiagnosticInfo { line: number; endLine: number; code: string; message: string }

export interface BuildResultInfo {
  exitCode: number;
  cancelled: boolean;
  /** A problem not tied to a line (engine down, docker missing, another build running), one line. */
  error: string | null;
  diagnostics: BuildDiagnosticInfo[];
  imageId: string | null;
  tags: string[];
  recordFile: string | null;
  /** Per step (FROM/RUN/COPY/ADD/WORKDIR) outcome, as saved in the record. */
  steps: { line: number; endLine: number; outcome: string; durationMs: number | null; vertex: string }[];
  prediction: string[];
  durationMs: number;
}

/** Runs a build; cancel the request to stop it (docker gets SIGINT). Progress arrives as BuildProgressNotification. */
export const BuildRequest = new RequestType<BuildParams, BuildResultInfo, void>('strata/build');

export type BuildProgressParams =
  | { buildId: string; kind: 'step'; step: BuildStepInfo }
  /** Output lines, batched. */
  | { buildId: string; kind: 'output'; lines: string[] }
  | { buildId: string; kind: 'notice'; text: string };
export const BuildProgressNotification = new NotificationType<BuildProgressParams>('strata/buildProgress');

// --- Layer explorer (issue 8): archives are read in the server process; the client only relays pages. ----------

/** Opens an archive/layout (`path`) or an engine image (`engineRef`, streamed through `docker save`). `handle` is
 * chosen by the client; progress notifications carry it. Resolves once the layer list is known (layers keep being
 * read in the background); cancelling the request, or `ImageCloseRequest`, stops reading. */
export interface ImageOpenParams {
  handle: string;
  path?: string;
  engineRef?: string;
  dockerPath?: string;
  platform?: string;
}
export interface ImageOpenResult { archive: import('../image/imageModel').ArchiveInfo }
export const ImageOpenRequest = new RequestType<ImageOpenParams, ImageOpenResult, void>('strata/image/open');

export interface ImageProgressParams {
  handle: string;
  status: 'saving' | 'reading' | 'done' | 'failed';
  /** Current layer list (statuses, sizes); null while `docker save` is still streaming. */
  archive: import('../image/imageModel').ArchiveInfo | null;
  /** `docker save` bytes so far, or bytes of layers read. */
  bytes: number;
  message: string | null;
}
export const ImageProgressNotification = new NotificationType<ImageProgressParams>('strata/image/progress');

export type ImageListParams = import('./webviewMessages').ListParams & { handle: string; image: number };
export const ImageListRequest = new RequestType<ImageListParams, import('../image/imageModel').DirectoryPage, void>('strata/image/list');

export interface ImageReadFileParams { handle: string; image: number; layer: number; path: string; mode: 'merged' | 'layer'; maxBytes: number }
export const ImageReadFileRequest = new RequestType<ImageReadFileParams, import('./webviewMessages').FilePreview, void>('strata/image/readFile');

export interface ImageSummaryParams { handle: string; image: number; topWasted: number }
export const ImageSummaryRequest = new RequestType<ImageSummaryParams, import('../image/imageModel').ImageSummary, void>('strata/image/summary');

export const ImageCloseRequest = new RequestType<{ handle: string }, void, void>('strata/image/close');

export interface EngineImagesResult {
  connected: boolean;
  /** Why the engine is not reachable (one line a user can act on). */
  error: string | null;
  images: import('../docker/dockerClient').EngineImage[];
}
export const EngineImagesRequest = new RequestType<{ dockerPath?: string }, EngineImagesResult, void>('strata/engine/images');

// --- Cache prediction (issue 5): CodeLens/inlay hints/hover come through standard LSP; these carry the settings. ---

/**
 * Client → server: where baselines live (the extension's storage; `strata build --state-dir`), how annotations show,
 * and the target/build args the user chose. `dockerfile` (absolute path) scopes target/buildArgs to one file;
 * without it they are the default for all.
 */
export interface PredictionConfigParams {
  stateDir?: string;
  annotations?: 'codelens' | 'inlayHints' | 'off';
  /** Download `ADD <url>` sources to predict them (setting strata.prediction.checkRemoteSources, trusted workspaces). */
  checkRemoteSources?: boolean;
  dockerfile?: string;
  target?: string | null;
  buildArgs?: Record<string, string>;
  /** Build context folder for `dockerfile` (default: the Dockerfile's folder). */
  context?: string;
}
export const PredictionConfigNotification = new NotificationType<PredictionConfigParams>('strata/prediction/config');

/** Client → server: files changed on disk (debounced file watcher); absolute paths. The server rehashes only those. */
export interface ContextChangedParams { paths: string[] }
export const ContextChangedNotification = new NotificationType<ContextChangedParams>('strata/prediction/contextChanged');

/** Client → server: the prediction for an open Dockerfile (status bar, `strata.showPrediction`). */
export interface PredictionParams { uri: string }
export type PredictionResult = import('../cache/predictCache').Prediction & {
  /** The target/build args/context the prediction used. */
  context: string;
  buildArgs: Record<string, string>;
  /** Stage names, for the target picker. */
  stages: string[];
};
export const PredictionRequest = new RequestType<PredictionParams, PredictionResult | null, void>('strata/prediction');

/** Server → client: a Dockerfile's prediction was recomputed (status bar). */
export interface PredictionChangedParams { uri: string; summary: PredictionResult['summary']; baseline: PredictionResult['baseline']; target: string | null }
export const PredictionChangedNotification = new NotificationType<PredictionChangedParams>('strata/prediction/changed');

// --- Containers (issue 9): a container's writable layer as the top layer of its image, commit, save/load. -------

export interface ContainersListResult {
  connected: boolean;
  error: string | null;
  containers: import('../container/containerModel').ContainerSummary[];
}
export const ContainersListRequest = new RequestType<{ dockerPath?: string }, ContainersListResult, void>('strata/containers/list');

/** Reads the container (docker diff + export) into an archive the layer explorer opens (`archivePath`). */
export interface ContainerInspectParams { ref: string; dockerPath?: string; progressToken?: string }
export type ContainerInspectResult = import('../container/containerModel').ContainerInspection;
export const ContainerInspectRequest = new RequestType<ContainerInspectParams, ContainerInspectResult, void>('strata/containers/inspect');

export interface ContainerCommitParams { ref: string; repoTag: string; dockerPath?: string }
export const ContainerCommitRequest = new RequestType<ContainerCommitParams, { imageId: string; repoTag: string }, void>('strata/containers/commit');

export interface ImageSaveParams { ref: string; file: string; gzip: boolean; dockerPath?: string; progressToken?: string }
export const ImageSaveRequest = new RequestType<ImageSaveParams, import('../container/imageTransfer').SaveResult, void>('strata/images/save');

export interface ImageLoadParams { file: string; dockerPath?: string; progressToken?: string }
export const ImageLoadRequest = new RequestType<ImageLoadParams, import('../container/containerEngine').LoadResult, void>('strata/images/load');

/** Progress of the container/save/load requests above, for the request that passed `progressToken`. */
export interface TransferProgressParams { token: string; phase: string; bytes: number; totalBytes: number }
export const TransferProgressNotification = new NotificationType<TransferProgressParams>('strata/containers/progress');
