/**
 * Which workspace Dockerfile line made a layer, from the build records `strata.build` saves (each record lists the
 * built image's layers by diffId with their line). Records are small JSON files; the archives themselves are never
 * read here.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export interface LayerLine {
  dockerfile: string;
  /** 1-based line of the instruction. */
  line: number;
  /** The image the record built (engine id) and its tags, to open it from the Dockerfile. */
  imageId: string | null;
  tags: string[];
  builtAt: string;
}

interface RecordShape {
  builtAt?: string;
  dockerfile?: string;
  tags?: string[];
  image?: { id: string | null; layers: { diffId: string; line: number | null }[] } | null;
}

export class LayerLineIndex {
  private index: Promise<Map<string, LayerLine>> | null = null;

  constructor(private readonly stateDir: string) {}

  /** Forget the cache (after a build). */
  invalidate(): void {
    this.index = null;
  }

  async lineOf(diffId: string): Promise<LayerLine | undefined> {
    return (await this.load()).get(diffId);
  }

  /** Layers (by diffId) that a line of this Dockerfile produced, newest build first. */
  async layersOf(dockerfile: string, line: number): Promise<Array<{ diffId: string } & LayerLine>> {
    const out: Array<{ diffId: string } & LayerLine> = [];
    for (const [diffId, l] of await this.load()) if (l.dockerfile === dockerfile && l.line === line) out.push({ diffId, ...l });
    return out.sort((a, b) => b.builtAt.localeCompare(a.builtAt));
  }

  private load(): Promise<Map<string, LayerLine>> {
    this.index ??= this.read();
    return this.index;
  }

  private async read(): Promise<Map<string, LayerLine>> {
    const map = new Map<string, LayerLine>();
    const builds = path.join(this.stateDir, 'builds');
    let keys: string[] = [];
    try {
      keys = await fs.readdir(builds);
    } catch {
      return map;
    }
    const records: RecordShape[] = [];
    for (const k of keys.slice(0, 500)) {
      try {
        records.push(JSON.parse(await fs.readFile(path.join(builds, k, 'latest.json'), 'utf8')) as RecordShape);
      } catch { /* missing or damaged record: skip */ }
    }
    // Oldest first, so a newer build of the same layer wins.
    records.sort((a, b) => String(a.builtAt).localeCompare(String(b.builtAt)));
    for (const r of records) {
      if (!r.dockerfile || !r.image || !inWorkspace(r.dockerfile)) continue;
      for (const l of r.image.layers ?? []) {
        if (typeof l.line === 'number' && typeof l.diffId === 'string') {
          map.set(l.diffId, { dockerfile: r.dockerfile, line: l.line, imageId: r.image.id, tags: r.tags ?? [], builtAt: String(r.builtAt ?? '') });
        }
      }
    }
    return map;
  }
}

function inWorkspace(file: string): boolean {
  return (vscode.workspace.workspaceFolders ?? []).some((f) => {
    const rel = path.relative(f.uri.fsPath, file);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  });
}
