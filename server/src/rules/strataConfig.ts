/**
 * Workspace rule configuration: `.strata.json` / `.strata.yaml` (`{"rules": {"<id>": "off"|"info"|"warning"|"error"}}`)
 * and hadolint's `.hadolint.yaml` (`ignored:` codes, `override:` severities by code), read through a narrow reader.
 */
import { parse as parseYaml } from 'yaml';
import type { ContextReader } from './ruleContext';
import type { Severity } from './strataDiagnostic';

export type RuleSetting = Severity | 'off';

export interface StrataConfig {
  /** Per rule id (ours, BuildKit's or `syntax/…`). */
  rules: Record<string, RuleSetting>;
  /** hadolint codes to ignore everywhere. */
  hadolintIgnored: string[];
  /** hadolint codes to a severity. */
  hadolintOverride: Record<string, RuleSetting>;
}

export const EMPTY_CONFIG: StrataConfig = { rules: {}, hadolintIgnored: [], hadolintOverride: {} };

const SETTINGS = new Set(['off', 'info', 'warning', 'error', 'hint']);

export function normaliseSetting(v: unknown): RuleSetting | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.toLowerCase();
  if (s === 'style') return 'info';
  if (s === 'none' || s === 'ignore') return 'off';
  return SETTINGS.has(s) ? (s as RuleSetting) : undefined;
}

export function loadWorkspaceConfig(reader: ContextReader): { config: StrataConfig; errors: string[] } {
  const errors: string[] = [];
  const config: StrataConfig = { rules: {}, hadolintIgnored: [], hadolintOverride: {} };
  const read = (name: string, yaml: boolean): unknown => {
    const text = reader.readFile(name);
    if (text === undefined) return undefined;
    try { return yaml ? parseYaml(text) : JSON.parse(text); } catch (e) { errors.push(`${name}: ${(e as Error).message.split('\n')[0]}`); return undefined; }
  };
  for (const [name, yaml] of [['.hadolint.yaml', true], ['.hadolint.yml', true]] as const) {
    const h = read(name, yaml) as { ignored?: unknown; override?: Record<string, unknown> } | undefined;
    if (!h || typeof h !== 'object') continue;
    if (Array.isArray(h.ignored)) config.hadolintIgnored.push(...h.ignored.filter((x): x is string => typeof x === 'string'));
    if (h.override && typeof h.override === 'object') {
      for (const [level, codes] of Object.entries(h.override)) {
        const sev = normaliseSetting(level);
        if (sev && Array.isArray(codes)) for (const c of codes) if (typeof c === 'string') config.hadolintOverride[c] = sev;
      }
    }
    break;
  }
  for (const [name, yaml] of [['.strata.json', false], ['.strata.yaml', true], ['.strata.yml', true]] as const) {
    const s = read(name, yaml) as { rules?: Record<string, unknown> } | undefined;
    if (!s || typeof s !== 'object') continue;
    for (const [id, v] of Object.entries(s.rules ?? {})) {
      const sev = normaliseSetting(v);
      if (sev) config.rules[id] = sev; else errors.push(`${name}: rules.${id}: expected off, info, warning or error`);
    }
    break;
  }
  return { config, errors };
}
