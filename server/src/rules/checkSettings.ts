/**
 * The part of `CheckOptions` that can cross a thread or process boundary (the LSP runs diagnostics in a worker):
 * settings, workspace config and the few build-context files the rules read, as plain data.
 */
import type { CheckOptions } from './checkDockerfile';
import type { ContextReader } from './ruleContext';
import type { StrataConfig } from './strataConfig';

export interface SerializableCheckOptions {
  severities?: Record<string, string>;
  config?: StrataConfig;
  /** Build-context files by relative path (`.dockerignore`); null = known to be absent. Absent key = unknown. */
  contextFiles?: Record<string, string | null>;
  dockerfilePath?: string;
  buildArgs?: [string, string][];
}

/** The context files rules may read. */
export const CONTEXT_FILES = ['.dockerignore'];

export function mapContextReader(files: Record<string, string | null>): ContextReader {
  return { readFile: (p) => files[p] ?? undefined };
}

export function toCheckOptions(s: SerializableCheckOptions | undefined): CheckOptions {
  if (!s) return {};
  return {
    severities: s.severities,
    config: s.config,
    context: s.contextFiles ? mapContextReader(s.contextFiles) : undefined,
    dockerfilePath: s.dockerfilePath,
    buildArgs: s.buildArgs ? new Map(s.buildArgs) : undefined,
  };
}
