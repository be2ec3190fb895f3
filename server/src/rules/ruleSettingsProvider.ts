/**
 * What the language server passes to each diagnostics run: the `strata.rules` settings (pushed by the client via
 * workspace/configuration), the workspace's .strata.json/.yaml and .hadolint.yaml (from the workspace folder that
 * contains the document, else the Dockerfile's folder and its parents up to a root) and the Dockerfile folder's
 * .dockerignore (the build context is assumed to be the Dockerfile's folder).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStampCache } from './fileStampCache';
import { loadWorkspaceConfig, type StrataConfig } from './strataConfig';
import { CONTEXT_FILES, type SerializableCheckOptions } from './checkSettings';

export class RuleSettingsProvider {
  private severities: Record<string, string> = {};
  private roots: string[] = [];
  /** Read on every diagnostics run: cached, each read checked with a stat, so an edit applies on the next run. */
  private readonly files: FileStampCache;
  /** Parsed config per folder with the file texts it was parsed from (YAML parsing is most of a run's cost). */
  private readonly configs = new Map<string, { reads: [string, string | undefined][]; config: StrataConfig }>();

  constructor(files = new FileStampCache()) {
    this.files = files;
  }

  setRoots(uris: string[]): void {
    this.roots = uris.map(toPath).filter((p): p is string => p !== null);
  }

  /** The `strata` configuration section; its `rules` object maps rule ids to severities. */
  setSettings(section: unknown): void {
    const rules = (section as { rules?: unknown } | null)?.rules;
    this.severities = {};
    if (rules && typeof rules === 'object') {
      for (const [k, v] of Object.entries(rules as Record<string, unknown>)) if (typeof v === 'string') this.severities[k] = v;
    }
  }

  optionsFor(uri: string): SerializableCheckOptions {
    const file = toPath(uri);
    const out: SerializableCheckOptions = { severities: { ...this.severities } };
    if (!file) return out;
    const dir = path.dirname(file);
    const ctx = this.files.reader(dir);
    out.contextFiles = {};
    for (const f of CONTEXT_FILES) out.contextFiles[f] = ctx.readFile(f) ?? null;
    out.dockerfilePath = path.basename(file);
    const root = this.roots.filter((r) => dir === r || dir.startsWith(r + path.sep)).sort((a, b) => b.length - a.length)[0];
    // The nearest folder (up to the workspace root) that has a config file.
    for (let d = dir; ; d = path.dirname(d)) {
      const config = this.configIn(d);
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
  private configIn(dir: string): StrataConfig {
    const reader = this.files.reader(dir);
    const memo = this.configs.get(dir);
    if (memo && memo.reads.every(([name, text]) => reader.readFile(name) === text)) return memo.config;
    const reads: [string, string | undefined][] = [];
    const { config } = loadWorkspaceConfig({ readFile: (name) => { const t = reader.readFile(name); reads.push([name, t]); return t; } });
    if (this.configs.size >= MAX_FOLDERS) this.configs.clear();
    this.configs.set(dir, { reads, config });
    return config;
  }
}

const MAX_FOLDERS = 1024;

function toPath(uri: string): string | null {
  if (!uri.startsWith('file:')) return null;
  try { return fileURLToPath(uri); } catch { return null; }
}
