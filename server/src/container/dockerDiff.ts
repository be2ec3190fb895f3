/**
 * `docker container diff` output → changes. The engine prints one `K /path` line per change (K = A, C, D), with
 * every changed parent directory listed as C and a deleted directory listed once (its children are not repeated).
 */
import type { EngineChange, EngineChangeKind } from './containerModel';

export function parseDockerDiff(text: string): EngineChange[] {
  const out: EngineChange[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const m = /^([ACD]) (\/.*)$/.exec(line);
    if (!m) continue;
    const path = normaliseContainerPath(m[2]!);
    if (path === '') continue;
    out.push({ kind: m[1] as EngineChangeKind, path });
  }
  return out;
}

/** `/a/b/` or `./a/b` → `a/b` (the contract's path form). */
export function normaliseContainerPath(p: string): string {
  return p.split('/').filter((s) => s !== '' && s !== '.').join('/');
}
