/**
 * What the language server passes to each diagnostics run: the `strata.rules` settings (pushed by the client via
 * workspace/configuration), the workspace's .strata.json/.yaml and .hadolint.yaml (from the workspace folder that
 * contains the document, else the Dockerfile's folder and its parents up to a root) and the Dockerfile folder's
 * .dockerignore (the build context is assumed to be the Dockerfile's folder).
 *
 * `optionsFor` reads (stat-checked) the files on every call. The LSP asks on every keystroke, and synchronous file
 * system calls on its main thread cost up to tens of milliseconds on a loaded machine, so it uses `cachedOptionsFor`:
 * the options of a Dockerfile are kept, with the list of every file they were computed from (absent ones included),
 * until one of those files is reported changed (`invalidate`: workspace/didChangeWatchedFiles, Strata's
 * contextChanged), the settings or roots change, or a background re-check finds a changed file. That re-check
 * (asynchronous reads, at most once per `revalidateMs` per Dockerfile) is what keeps clients without file watching
 * (plain stdio editors) correct: a settings file edited elsewhere applies to the next run after the re-check, which
 * itself asks for a new run through `onStale`.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStampCache } from './fileStampCache';
import { loadWorkspaceConfig, type StrataConfig } from './strataConfig';
import { CONTEXT_FILES, type SerializableCheckOptions } from './checkSettings';

/**
 * Every file name the options may be computed from (loadWorkspaceConfig's names and CONTEXT_FILES), for the
 * client's file watcher. A name missing here would only delay a change until the background re-check.
 */
export const SETTINGS_FILE_GLOB = `**/{.strata.json,.strata.yaml,.strata.yml,.hadolint.yaml,.hadolint.yml,${CONTEXT_FILES.join(',')}}`;

/** Re-check a Dockerfile's cached options against the disk at most this often (ms). */
const REVALIDATE_MS = 1000;

type ReadFile = (file: string) => string | undefined;

interface CachedOptions {
  options: SerializableCheckOptions;
  /** Every file read to compute `options` (absolute path → text; undefined = absent or unusable). */
  reads: Map<string, string | undefined>;
  checkedAt: number;
  checking: boolean;
}

export class RuleSettingsProvider {
  private severities: Record<string, string> = {};
  private roots: string[] = [];
  /** Read on every diagnostics run: cached, each read checked with a stat, so an edit applies on the next run. */
  private readonly files: FileStampCache;
  /** Parsed config per folder with the file texts it was parsed from (YAML parsing is most of a run's cost). */
  private readonly configs = new Map<string, { reads: [string, string | undefined][]; config: StrataConfig }>();
  /** `cachedOptionsFor` results by document URI (a hit must not even parse the URI: that alone costs ~20 µs). */
  private readonly cache = new Map<string, CachedOptions>();
  /** Called when a background re-check dropped cached options (the caller re-runs diagnostics). */
  onStale: (() => void) | undefined;
  private recheck: Promise<void> = Promise.resolve();

  constructor(files = new FileStampCache(), private readonly revalidateMs = REVALIDATE_MS, private readonly now = () => Date.now()) {
    this.files = files;
  }

  setRoots(uris: string[]): void {
    this.roots = uris.map(toPath).filter((p): p is string => p !== null);
    this.cache.clear();
  }

  /** The `strata` configuration section; its `rules` object maps rule ids to severities. */
  setSettings(section: unknown): void {
    const rules = (section as { rules?: unknown } | null)?.rules;
    this.severities = {};
    if (rules && typeof rules === 'object') {
      for (const [k, v] of Object.entries(rules as Record<string, unknown>)) if (typeof v === 'string') this.severities[k] = v;
    }
    this.cache.clear();
  }

  /** The options as the files are now (each file stat-checked). */
  optionsFor(uri: string): SerializableCheckOptions {
    return this.compute(uri, (f) => this.files.read(f));
  }

  /**
   * The options as of the last computation or re-check for this document: no file-system call unless nothing is
   * cached. The same object is returned until it is invalidated, so callers must not modify it (and may compare it
   * by identity).
   */
  cachedOptionsFor(uri: string): SerializableCheckOptions {
    const hit = this.cache.get(uri);
    if (hit) {
      if (!hit.checking && this.now() - hit.checkedAt >= this.revalidateMs) this.revalidate(uri, hit);
      return hit.options;
    }
    if (!toPath(uri)) return this.optionsFor(uri);
    const reads = new Map<string, string | undefined>();
    const options = this.compute(uri, (f) => {
      const text = this.files.read(f);
      reads.set(f, text);
      return text;
    });
    if (this.cache.size >= MAX_DOCUMENTS) this.cache.clear();
    this.cache.set(uri, { options, reads, checkedAt: this.now(), checking: false });
    return options;
  }

  /**
   * Files (or folders) changed on disk, absolute paths: drops the cached options computed from them. Returns
   * whether any were dropped (then the caller re-runs diagnostics).
   */
  invalidate(paths: readonly string[]): boolean {
    const affected = (file: string) => paths.some((p) => file === p || file.startsWith(p + path.sep));
    let dropped = false;
    for (const [key, entry] of this.cache) {
      if ([...entry.reads.keys()].some(affected)) {
        this.cache.delete(key);
        dropped = true;
      }
    }
    return dropped;
  }

  /** Drops a document's cached options (didClose: a reopened document starts from the files as they are). */
  forget(uri: string): void {
    this.cache.delete(uri);
  }

  /** `invalidate` for file URIs (workspace/didChangeWatchedFiles). */
  invalidateUris(uris: readonly string[]): boolean {
    return this.invalidate(uris.map(toPath).filter((p): p is string => p !== null));
  }

  /** Re-reads the entry's files asynchronously; a difference drops the entry and reports it through `onStale`. */
  private revalidate(key: string, entry: CachedOptions): void {
    entry.checking = true;
    this.recheck = Promise.all([...entry.reads].map(async ([file, text]) => (await this.files.readAsync(file)) === text)).then(
      (same) => {
        entry.checking = false;
        entry.checkedAt = this.now();
        if (this.cache.get(key) !== entry || same.every(Boolean)) return;
        this.cache.delete(key);
        this.onStale?.();
      },
      () => { entry.checking = false; },
    );
  }

  /** Settles when the latest background re-check has finished (and called `onStale` if it found a change). */
  get backgroundCheck(): Promise<void> {
    return this.recheck;
  }

  private compute(uri: string, read: ReadFile): SerializableCheckOptions {
    const file = toPath(uri);
    const out: SerializableCheckOptions = { severities: { ...this.severities } };
    if (!file) return out;
    const dir = path.dirname(file);
    out.contextFiles = {};
    for (const f of CONTEXT_FILES) out.contextFiles[f] = read(path.join(dir, f)) ?? null;
    out.dockerfilePath = path.basename(file);
    const root = this.roots.filter((r) => dir === r || dir.startsWith(r + path.sep)).sort((a, b) => b.length - a.length)[0];
    // The nearest folder (up to the workspace root) that has a config file.
    for (let d = dir; ; d = path.dirname(d)) {
      const config = this.configIn(d, read);
      if (Object.keys(config.rules).length || config.hadolintIgnored.length || Object.keys(config.hadolintOverride).length) {
        out.config = config;
        break;
      }
      if (d === root || !root || path.dirname(d) === d) break;
    }
    return out;
  }

  /**
   * A folder's config, parsed again only when a file it read changed: given the same texts loadWorkspaceConfig reads
   * the same files, so the texts it read (absent ones included) are an exact key.
   */
  private configIn(dir: string, read: ReadFile): StrataConfig {
    const readName = (name: string) => read(path.join(dir, name));
    const memo = this.configs.get(dir);
    if (memo && memo.reads.every(([name, text]) => readName(name) === text)) return memo.config;
    const reads: [string, string | undefined][] = [];
    const { config } = loadWorkspaceConfig({ readFile: (name) => { const t = readName(name); reads.push([name, t]); return t; } });
    if (this.configs.size >= MAX_FOLDERS) this.configs.clear();
    this.configs.set(dir, { reads, config });
    return config;
  }
}

const MAX_FOLDERS = 1024;
const MAX_DOCUMENTS = 1024;

function toPath(uri: string): string | null {
  if (!uri.startsWith('file:')) return null;
  try { return fileURLToPath(uri); } catch { return null; }
}
