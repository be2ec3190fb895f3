/** A `ContextReader` over a folder on disk (the CLI's --context, the server's Dockerfile folder). */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { ContextReader } from './ruleContext';

/** Small config files only: anything larger is not a .dockerignore or .strata.json anyone wrote. */
export const MAX_CONTEXT_FILE_BYTES = 1024 * 1024;

export function fsContextReader(root: string): ContextReader {
  return {
    readFile(rel: string): string | undefined {
      const p = path.resolve(root, rel);
      if (!p.startsWith(path.resolve(root))) return undefined;
      try {
        const st = statSync(p);
        if (!st.isFile() || st.size > MAX_CONTEXT_FILE_BYTES) return undefined;
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}
