/**
 * What the language server passes to each diagnostics run: the `strata.rules` settings (pushed by the client via
 * workspace/configuration), the workspace's .strata.json/.yaml and .hadolint.yaml (from the workspace folder that
 * contains the document, else the Dockerfile's folder and its parents up to a root) and the Dockerfile folder's
 * .dockerignore (the build context is assumed to be the Dockerfile's folder).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsContextReader } from './fsContextReader';
import { loadWorkspaceConfig } from './strataConfig';
import { CONTEXT_FILES, type SerializableCheckOptions } from './checkSettings';

export class RuleSettingsProvider {
  private severities: Record<string, string> = {};
  private roots: string[] = [];

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
    const ctx = fsContextReader(dir);
    out.contextFiles = {};
    for (const f of CONTEXT_FILES) out.contextFiles[f] = ctx.readFile(f) ?? null;
    out.dockerfilePath = path.basename(file);
    const root = this.roots.filter((r) => dir === r || dir.startsWith(r + path.sep)).sort((a, b) => b.length - a.length)[0];
    // The nearest folder (up to the workspace root) that has a config file.
    for (let d = dir; ; d = path.dirname(d)) {
      const { config } = loadWorkspaceConfig(fsContextReader(d));
      if (Object.keys(config.rules).length || config.hadolintIgnored.length || Object.keys(config.hadolintOverride).length) {
        out.config = config;
        break;
      }
      if (d === root || !root || path.dirname(d) === d) break;
    }
    return out;
  }
}

function toPath(uri: string): string | null {
  if (!uri.startsWith('file:')) return null;
  try { return fileURLToPath(uri); } catch { return null; }
}
