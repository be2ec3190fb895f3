// An in-memory build context for the cache model's unit tests (the real one is exercised by test/engine/cache*.test.ts).
import { createHash } from 'node:crypto';
import type { ContextFs, ContextStat, EntryType } from '../../../server/src/cache/contextFs';
import { HashResults } from '../../../server/src/cache/contextHashPool';
import { DIGEST_BYTES, HashStatus, STAT_SLOTS, TypeCode } from '../../../server/src/cache/fileHasher';

export interface MemEntry { type?: EntryType; content?: string; mode?: number; link?: string; mtimeMs?: number; size?: number; error?: string }

export class MemoryContext {
  readonly entries = new Map<string, MemEntry>();
  hashes = 0;
  private ino = 1;
  private readonly inos = new Map<string, number>();

  constructor(files: Record<string, string | MemEntry>) {
    for (const [p, e] of Object.entries(files)) this.set(p, e);
  }

  set(p: string, e: string | MemEntry): void {
    const entry: MemEntry = typeof e === 'string' ? { content: e } : { ...e };
    entry.mtimeMs ??= Date.now();
    this.entries.set(p, entry);
    if (!this.inos.has(p)) this.inos.set(p, this.ino++);
    // Parents exist as dirs.
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!this.entries.has(d)) { this.entries.set(d, { type: 'dir' }); this.inos.set(d, this.ino++); }
    }
  }

  delete(p: string): void {
    for (const k of [...this.entries.keys()]) if (k === p || k.startsWith(p + '/')) this.entries.delete(k);
  }

  private typeOf(e: MemEntry): EntryType {
    return e.type ?? (e.link !== undefined ? 'symlink' : 'file');
  }

  fs(): ContextFs {
    const err = (code: string) => Object.assign(new Error(code), { code });
    const stat = (rel: string): ContextStat => {
      if (rel === '') return { type: 'dir', mode: 0o755, size: 0, mtimeMs: 0, ino: 0 };
      const e = this.entries.get(rel);
      if (!e) throw err('ENOENT');
      const type = this.typeOf(e);
      return { type, mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644), size: e.size ?? Buffer.byteLength(e.content ?? ''), mtimeMs: e.mtimeMs ?? 0, ino: this.inos.get(rel) ?? 0 };
    };
    return {
      list: async (rel) => {
        if (rel && this.entries.get(rel)?.error) throw err(this.entries.get(rel)!.error!);
        const prefix = rel ? rel + '/' : '';
        return [...this.entries.keys()].filter((k) => k.startsWith(prefix) && k !== rel && !k.slice(prefix.length).includes('/'))
          // Like d_type: the listing says what each entry is.
          .map((k) => ({ name: k.slice(prefix.length), type: this.typeOf(this.entries.get(k)!) }));
      },
      stat: async (rel) => stat(rel),
      readlink: async (rel) => {
        const e = this.entries.get(rel);
        if (!e || e.link === undefined) throw err('EINVAL');
        return e.link;
      },
      // The same contract as the worker pool: one result slot per file, `same` when the lstat equals `prev`.
      hashFiles: async (req) => {
        const out = new HashResults(req.count);
        const prev = new Float64Array(STAT_SLOTS);
        for (let k = 0; k < req.count; k++) {
          if (req.signal?.aborted) break;
          // Decoded from the bytes the workers would get.
          const bytes = new Uint8Array(req.relBytes(k));
          const rel = Buffer.from(bytes.buffer, 0, req.writeRel(k, bytes, 0)).toString('utf8');
          const e = this.entries.get(rel);
          if (!e) { out.status[k] = HashStatus.error; out.errors.set(k, 'ENOENT'); continue; }
          const st = stat(rel);
          const at = k * STAT_SLOTS;
          out.stats.set([TypeCode[st.type], st.mode, st.size, st.mtimeMs, st.ino], at);
          if (req.prev?.(k, prev, 0) && out.stats.subarray(at, at + STAT_SLOTS).every((v, j) => v === prev[j])) { out.status[k] = HashStatus.same; continue; }
          if (st.type !== 'file') { out.status[k] = HashStatus.notFile; continue; }
          if (e.error) { out.status[k] = HashStatus.error; out.errors.set(k, e.error); continue; }
          if (st.size > req.maxFileBytes) { out.status[k] = HashStatus.tooLarge; continue; }
          this.hashes++;
          out.digests.set(createHash('sha256').update(e.content ?? '').digest(), k * DIGEST_BYTES);
          out.status[k] = HashStatus.ok;
        }
        // One batch, as the pool would report it.
        req.onBatch(0, out);
        req.onProgress?.(req.count);
      },
      readText: async (rel) => this.entries.get(rel)?.content ?? null,
    };
  }
}
