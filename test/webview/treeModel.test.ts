/** The paged, sparse tree behind the virtual list: row arithmetic, paging, expansion, eviction (pure, in Node). */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DirectoryEntry, DirectoryPage } from '../../server/src/image/imageModel';
import { TreeModel, type PageRequest } from '../../webview/src/treeModel';

/** A fake directory tree: `dirs[path]` = number of children; children named c0…; dirs are those listed in `dirs`. */
function fakeServer(dirs: Record<string, number>) {
  return (req: PageRequest): DirectoryPage => {
    const total = dirs[req.dir] ?? 0;
    const entries: DirectoryEntry[] = [];
    for (let i = req.offset; i < Math.min(total, req.offset + req.limit); i++) {
      const p = req.dir ? `${req.dir}/c${i}` : `c${i}`;
      const isDir = p in dirs;
      entries.push({
        name: `c${i}`, path: p, type: isDir ? 'dir' : 'file', size: 1, mode: 0o644, uid: 0, gid: 0, linkTarget: null,
        kind: 'added', whiteoutName: null, opaque: false, wasted: false, childCount: isDir ? dirs[p]! : 0, layerIndex: 0, rawName: false,
      });
    }
    return { dir: req.dir, total, offset: req.offset, entries };
  };
}

/** Loads every page the rows first..last need, like the view does on each frame. */
function fill(m: TreeModel, serve: (r: PageRequest) => DirectoryPage, first = 0, last = 100): number {
  let requests = 0;
  for (let round = 0; round < 20; round++) {
    const missing = m.missingPages(first, last);
    if (missing.length === 0) break;
    for (const r of missing) {
      requests++;
      m.setPage(serve(r), r.offset);
    }
  }
  return requests;
}

const path = (m: TreeModel, i: number) => {
  const r = m.rowAt(i);
  return r?.kind === 'entry' ? r.entry?.path ?? '?' : r?.kind ?? null;
};

describe('TreeModel', () => {
  it('starts with one loading row, then shows the root page', () => {
    const m = new TreeModel({ pageSize: 10 });
    assert.equal(m.rowCount(), 1);
    assert.equal(m.rowAt(0)?.kind, 'loading');
    const serve = fakeServer({ '': 25 });
    assert.deepEqual(m.missingPages(0, 5), [{ dir: '', offset: 0, limit: 10 }]);
    assert.deepEqual(m.missingPages(0, 5), [], 'a pending page is not asked twice');
    m.setPage(serve({ dir: '', offset: 0, limit: 10 }), 0);
    assert.equal(m.rowCount(), 25);
    assert.equal(path(m, 3), 'c3');
    assert.equal((m.rowAt(12) as { entry?: unknown }).entry, undefined, 'row 12 is on a page not loaded yet');
    assert.deepEqual(m.missingPages(0, 24), [{ dir: '', offset: 10, limit: 10 }, { dir: '', offset: 20, limit: 10 }]);
    assert.equal(m.rowAt(25), null);
  });

  it('inlines expanded directories and maps rows both ways', () => {
    const serve = fakeServer({ '': 5, c1: 3, c3: 4, 'c3/c2': 2 });
    const m = new TreeModel({ pageSize: 2 });
    fill(m, serve);
    assert.ok(m.expand(m.rowAt(3)!));
    assert.equal(m.rowAt(4)?.kind, 'loading');
    assert.equal(m.rowCount(), 6);
    fill(m, serve);
    assert.ok(m.expand(m.rowAt(1)!));
    fill(m, serve);
    // c0 c1 [c1/c0 c1/c1 c1/c2] c2 c3 [c3/c0 c3/c1 c3/c2 c3/c3] c4
    assert.deepEqual(Array.from({ length: m.rowCount() }, (_, i) => path(m, i)),
      ['c0', 'c1', 'c1/c0', 'c1/c1', 'c1/c2', 'c2', 'c3', 'c3/c0', 'c3/c1', 'c3/c2', 'c3/c3', 'c4']);
    assert.ok(m.expand(m.rowAt(9)!));
    fill(m, serve);
    assert.deepEqual([path(m, 10), path(m, 11), path(m, 12), path(m, 13)], ['c3/c2/c0', 'c3/c2/c1', 'c3/c3', 'c4']);
    assert.equal(m.rowCount(), 14);
    for (let i = 0; i < m.rowCount(); i++) {
      const r = m.rowAt(i)!;
      assert.equal(r.kind === 'entry' && m.rowIndexOf(r.dir, r.index), i, `row ${i}`);
      assert.equal(m.findRow(path(m, i)!), i);
    }
    assert.equal(m.rowAt(10)!.depth, 2);
    assert.ok(m.collapse(m.rowAt(6)!));
    assert.deepEqual(Array.from({ length: m.rowCount() }, (_, i) => path(m, i)), ['c0', 'c1', 'c1/c0', 'c1/c1', 'c1/c2', 'c2', 'c3', 'c4']);
    assert.ok(!m.expandedPaths.has('c3') && !m.expandedPaths.has('c3/c2'), 'collapsing forgets the subtree');
  });

  it('re-expands remembered paths after a reset (a view change) as their pages arrive', () => {
    const serve = fakeServer({ '': 3, c2: 2 });
    const m = new TreeModel({ pageSize: 10 });
    fill(m, serve);
    m.expand(m.rowAt(2)!);
    fill(m, serve);
    assert.equal(m.rowCount(), 5);
    m.reset();
    assert.equal(m.rowCount(), 1);
    fill(m, serve);
    assert.equal(m.rowCount(), 5);
    assert.equal(path(m, 4), 'c2/c1');
  });

  it('pages a 100,000-entry directory: rows are arithmetic, only the pages in view are fetched', () => {
    const serve = fakeServer({ '': 3, c1: 100_000 });
    const m = new TreeModel({ pageSize: 200, maxPages: 50 });
    fill(m, serve);
    m.expand(m.rowAt(1)!);
    const first = fill(m, serve, 0, 60);
    assert.equal(first, 1);
    assert.equal(m.rowCount(), 100_003);
    const n = fill(m, serve, 99_950, 100_002);
    assert.equal(n, 1, 'only the last page is fetched');
    assert.equal(path(m, 100_001), 'c1/c99999');
    assert.equal(path(m, 100_002), 'c2');
    for (let top = 0; top < 100_000; top += 997) {
      fill(m, serve, top, top + 60);
      m.evict(top, top + 60);
      assert.ok(m.loadedPages() <= 50 + 2, `pages kept: ${m.loadedPages()}`);
    }
    m.evict(0, 60);
    assert.equal(path(m, 50_000), '?', 'a far page was evicted');
    fill(m, serve, 50_000, 50_000);
    assert.equal(path(m, 50_000), 'c1/c49998', 'and is fetched again on demand');
  });

  it('expand all opens loaded directories and those that load later, up to a cap', () => {
    const dirs: Record<string, number> = { '': 4 };
    for (let i = 0; i < 4; i++) {
      dirs[`c${i}`] = 3;
      dirs[`c${i}/c0`] = 2;
    }
    const m = new TreeModel({ pageSize: 10, maxExpandAll: 100 });
    const serve = fakeServer(dirs);
    fill(m, serve);
    m.expandEverything();
    fill(m, serve, 0, 200);
    assert.equal(m.rowCount(), 4 + 4 * 3 + 4 * 2);
    m.collapseEverything();
    assert.equal(m.rowCount(), 4);
    assert.equal(m.expandedPaths.size, 0);
  });

  it('drops replies for directories that were collapsed meanwhile', () => {
    const serve = fakeServer({ '': 2, c0: 5 });
    const m = new TreeModel({ pageSize: 10 });
    fill(m, serve);
    m.expand(m.rowAt(0)!);
    const [req] = m.missingPages(0, 10);
    m.collapse(m.rowAt(0)!);
    assert.equal(m.setPage(serve(req!), req!.offset), false);
    assert.equal(m.rowCount(), 2);
  });
});
