import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContextIndex } from '../../../server/src/cache/contextIndex';
import { EntryTable } from '../../../server/src/cache/entryTable';
import { MemoryContext } from './memoryContextFs';

/** Adds `rel` under its parent (which must be in the table), as the walk does. */
function addPath(t: EntryTable, rel: string, type = 1): number {
  const slash = rel.lastIndexOf('/');
  const parent = t.lookup(slash < 0 ? '' : rel.slice(0, slash));
  assert.ok(parent >= 0, `parent of ${rel}`);
  return t.add(rel, parent, rel.slice(slash + 1), type);
}

describe('EntryTable (paths as parent + name, lookups through a hash table)', () => {
  it('finds every path by name across growth and rehashing, non-ASCII names included', () => {
    const t = new EntryTable();
    t.add('', -1, '', 2);
    const dirs = ['src', 'src/ünïcödé', 'src/日本', 'a b', 'a b/c'];
    for (const d of dirs) addPath(t, d, 2);
    const files: string[] = [];
    for (let i = 0; i < 5000; i++) files.push(`${dirs[i % dirs.length]}/f${i}${i % 7 === 0 ? '-é' : ''}.txt`);
    const ids = files.map((f) => addPath(t, f));
    for (let k = 0; k < files.length; k += 97) {
      assert.equal(t.lookup(files[k]!), ids[k]);
      assert.equal(t.pathOf(ids[k]!), files[k]);
    }
    assert.equal(t.lookup('src/f0.txt/x'), -1);
    assert.equal(t.lookup('src/f'), -1);
    assert.equal(t.lookup(''), 0);
    assert.equal(t.live, 1 + dirs.length + files.length);
    // The scratch path list agrees with pathOf, and pathOf does not depend on it.
    const all = t.allPaths();
    for (let k = 0; k < files.length; k += 131) assert.equal(all[ids[k]!], files[k]);
    t.dropScratch();
    t.trim();
    for (let k = 1; k < files.length; k += 113) assert.equal(t.pathOf(ids[k]!), files[k]);
  });

  it('a removed path is not found; added again it gets a new entry that is', () => {
    const t = new EntryTable();
    t.add('', -1, '', 2);
    addPath(t, 'd', 2);
    const a = addPath(t, 'd/a');
    const b = addPath(t, 'd/b');
    t.remove(a);
    assert.equal(t.lookup('d/a'), -1);
    assert.equal(t.lookup('d/b'), b, 'a path probed past the removed slot is still found');
    assert.equal(t.live, 3);
    const a2 = addPath(t, 'd/a');
    assert.notEqual(a2, a);
    assert.equal(t.lookup('d/a'), a2);
    assert.equal(t.allPaths()[a], undefined);
  });
});

describe('ContextIndex without its path strings (idle)', () => {
  it('gives the same digests, lookups and incremental result after releaseScratch', async () => {
    const files: Record<string, string> = { 'Dockerfile': 'FROM b\n' };
    for (let i = 0; i < 300; i++) files[`src/p${i % 3}/f${i}.txt`] = `c${i}`;
    const ctx = new MemoryContext(files);
    const idx = new ContextIndex(ctx.fs());
    await idx.scan();
    const before = await idx.digestSelection(['src']);
    const fresh = new ContextIndex(ctx.fs());
    await fresh.scan();
    fresh.releaseScratch();
    assert.deepEqual(await fresh.digestSelection(['src']), before);
    idx.releaseScratch();
    assert.equal(idx.entryKey('src/p1/f1.txt'), fresh.entryKey('src/p1/f1.txt'));
    assert.match(idx.entryKey('src/p1/f1.txt')!, /^file:644:[0-9a-f]{64}$/);
    // A new file under an existing dir, then an edit: both found after the strings were dropped.
    ctx.set('src/p1/new.txt', 'n');
    assert.equal(await idx.refresh(['src/p1/new.txt']), true);
    idx.releaseScratch();
    ctx.set('src/p0/f0.txt', { content: 'edited', mtimeMs: Date.now() + 1000 });
    assert.equal(await idx.refresh(['src/p0/f0.txt']), true);
    idx.releaseScratch();
    const after = await idx.digestSelection(['src']);
    const rebuilt = new ContextIndex(ctx.fs());
    await rebuilt.scan();
    assert.deepEqual(after, await rebuilt.digestSelection(['src']));
    assert.notEqual(after.digest, before.digest);
    assert.equal(after.count, before.count + 1);
    // A deleted dir goes with everything below it.
    ctx.delete('src/p2');
    assert.equal(await idx.refresh(['src/p2']), true);
    assert.equal(idx.get('src/p2/f2.txt'), undefined);
    assert.deepEqual(idx.select(['src']).paths.filter((p) => p.startsWith('src/p2')), []);
  });
});
