import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ContextIndex } from '../../../server/src/cache/contextIndex';
import { EntryTable } from '../../../server/src/cache/entryTable';
import { PathOrder } from '../../../server/src/cache/pathOrder';
import { selectSorted } from '../../../server/src/cache/selectSources';
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
    // The path order lists every entry once, sorted as the path strings sort; pathOf does not depend on the dir cache.
    const order = PathOrder.build(t);
    assert.deepEqual(Array.from(order.ids, (i) => t.pathOf(i)), [...dirs, ...files].sort());
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
    assert.equal(PathOrder.build(t).position(a), -1);
    assert.deepEqual(Array.from(PathOrder.build(t).ids, (i) => t.pathOf(i)), ['d', 'd/a', 'd/b']);
  });
});

describe('PathOrder (path order without path strings)', () => {
  it('equals the sort of the full path strings, for names around "/" in code-unit order', () => {
    // Names with characters just below and above '/' (0x2F), prefixes of each other, non-ASCII and astral ones: the
    // cases where sorting names per directory (as bytes) and sorting full path strings could disagree.
    // '😀' (above U+FFFF) sorts before 'ｱ' (U+FF71) and '\uFFFD' as UTF-16 strings, after them as UTF-8 bytes.
    const alphabet = ['a', 'a-b', 'a.b', 'a!', 'a0', 'A', 'é', '日', '😀', 'ｱ', '\uFFFD', 'ab', ' ', '.', 'z', 'a b'];
    let seed = 7;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    for (let round = 0; round < 40; round++) {
      const t = new EntryTable();
      t.add('', -1, '', 2);
      const dirs = [''];
      const all: string[] = [];
      const seen = new Set<string>(['']);
      for (let k = 0; k < 200; k++) {
        const parent = dirs[rnd(dirs.length)]!;
        const rel = (parent ? parent + '/' : '') + alphabet[rnd(alphabet.length)]! + (rnd(3) === 0 ? alphabet[rnd(alphabet.length)]! : '');
        if (seen.has(rel)) continue;
        seen.add(rel);
        const isDir = rnd(3) === 0;
        addPath(t, rel, isDir ? 2 : 1);
        if (isDir) dirs.push(rel);
        all.push(rel);
      }
      const order = PathOrder.build(t);
      const got = Array.from(order.ids, (i) => t.pathOf(i));
      assert.deepEqual(got, [...all].sort(), `round ${round}`);
      if (round === 0) {
        // Fixed case for the UTF-16 inversion: in one directory, both ways round.
        for (const names of [['😀', 'ｱ', '\uFFFD', 'z'], ['ｱ', 'z', '😀']]) {
          const u = new EntryTable();
          u.add('', -1, '', 2);
          for (const nm of names) addPath(u, nm);
          assert.deepEqual(Array.from(PathOrder.build(u).ids, (i) => u.pathOf(i)), [...names].sort());
        }
      }
      // A directory's range holds exactly the paths below it.
      for (const d of dirs.slice(1)) {
        const [lo, hi] = order.range(t.lookup(d));
        assert.deepEqual(got.slice(lo, hi), got.filter((p) => p.startsWith(d + '/')), d);
      }
    }
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

describe('ContextIndex selection and digests without path strings', () => {
  const files: Record<string, string | { content?: string; mode?: number; link?: string; type?: 'dir' }> = {
    'Dockerfile': 'FROM b\n', 'a': 'x', 'a-b': 'y', 'a.b/c': 'z', 'a/x.txt': '1', 'a/y.json': '2', 'a/sub/deep.json': '3',
    'ünï/日本.txt': 'u', 'ünï/😀.json': 'e', 'bin/run': { content: '#!/bin/sh', mode: 0o4755 }, 'lnk': { link: 'ünï/日本.txt' },
    'empty': { type: 'dir' }, 'm/0': { content: '', mode: 0 },
  };
  const sources = [['.'], ['a'], ['a/'], ['a*'], ['*/*.json'], ['ünï', 'bin/run'], ['?'], ['a/*/deep.json'], ['nope', 'a/x.txt'], ['lnk', 'empty', 'm']];

  it('selects what selectSorted selects over the sorted path strings', async () => {
    const idx = new ContextIndex(new MemoryContext(files).fs());
    await idx.scan();
    const sorted = idx.paths();
    assert.deepEqual(sorted, [...sorted].sort());
    for (const src of sources) {
      const want = selectSorted(sorted, (k) => idx.get(sorted[k]!)!.type === 'dir', src);
      const got = idx.select(src);
      assert.deepEqual(got.paths, want.positions.map((k) => sorted[k]), JSON.stringify(src));
      assert.deepEqual(got.missing, want.missing, JSON.stringify(src));
    }
  });

  it('digests the same bytes as the lines path NUL key LF built as strings (earlier build records stay comparable)', async () => {
    const idx = new ContextIndex(new MemoryContext(files).fs());
    await idx.scan();
    for (const src of sources) {
      const sel = await idx.digestSelection(src);
      const lines = idx.select(src).paths.map((p) => [p, idx.entryKey(p)] as const).filter(([, k]) => k !== null).map(([p, k]) => `${p}\0${k}\n`);
      assert.equal(sel.digest, createHash('sha256').update(lines.join('')).digest('hex'), JSON.stringify(src));
      assert.equal(sel.count, lines.length);
    }
    assert.equal(idx.entryKey('bin/run')?.slice(0, 10), 'file:4755:');
    assert.equal(idx.entryKey('m/0')?.slice(0, 7), 'file:0:');
    assert.match(idx.entryKey('lnk')!, /^symlink:\d+:ünï\/日本\.txt$/);
  });
});
