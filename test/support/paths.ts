import * as path from 'node:path';

/** The repository root (tests run from out/test/…; STRATA_ROOT is set by scripts/test.mjs). */
export const ROOT = process.env.STRATA_ROOT ?? path.resolve(__dirname, '../..');
/** The read-only shared corpus beside the repository (../shared/corpus). */
export const CORPUS = path.resolve(ROOT, '../shared/corpus');
export const DIST = path.join(ROOT, 'dist');

/** The same Dockerfile text with CRLF line endings: every Dockerfile case runs with both. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}
