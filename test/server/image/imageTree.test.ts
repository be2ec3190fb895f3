/**
 * The index's path trie: its child table is an open-addressing hash keyed by (parent, segment) that grows as nodes
 * are added; every path added must stay findable across growths, and absent ones must not be found.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../../../server/src/image/imageTree';
import type { TarHeader } from '../../../server/src/image/tarParser';

function header(name: string, type: TarHeader['type'] = 'file', size = 1): TarHeader {
  return { name: Buffer.from(name), linkName: new Uint8Array(0), type, mode: 0o644, uid: 0, gid: 0, size, dataOffset: 0, xattrs: null };
}

describe('ImageTree path index', () => {
  it('finds every path after the child table has grown many times, in both layers, and nothing else', () => {
    const tree = new ImageTree(2, { maxEntries: 1_000_000, maxPathDepth: 1000 });
    const paths: string[] = [];
    // wide directories (many children of one parent) and deep ones (same segment names under many parents)
    for (let d = 0; d < 60; d++) for (let f = 0; f < 150; f++) paths.push(`usr/d${d}/f${f}`);
    for (let d = 0; d < 40; d++) paths.push(`deep/${Array.from({ length: 30 }, (_, i) => `s${(i + d) % 7}`).join('/')}/leaf`);
    for (const p of paths) tree.addEntry(0, header(p));
    for (const p of paths.slice(0, 500)) tree.addEntry(1, header(p, 'file', 2));
    tree.finishLayer(0);
    tree.finishLayer(1);
    assert.ok(tree.nodeCount > 9000, `${tree.nodeCount} nodes`);
    for (const p of paths) {
      const node = tree.lookup(p);
      assert.ok(node > 0, p);
      assert.equal(tree.nodePath(node), p);
      assert.ok(tree.entryInLayer(node, 0) >= 0, p);
    }
    assert.ok(tree.entryInLayer(tree.lookup(paths[0]!), 1) >= 0);
    assert.equal(tree.entryInLayer(tree.lookup(paths[600]!), 1), -1);
    for (const p of ['usr/d0/f150', 'usr/d60/f0', 'usr/f0', 'deep/s0/leaf', 'nope', 'usr/d1/f1/x']) assert.equal(tree.lookup(p), -1, p);
    // each directory's children are linked once: the sibling list of usr/d7 holds exactly its 150 files
    let n = 0;
    for (let c = tree.nFirstChild.data[tree.lookup('usr/d7')]!; c >= 0; c = tree.nNextSibling.data[c]!) n++;
    assert.equal(n, 150);
  });

  it('places ASCII names (fast path) and any other name (slow path) on the same nodes, with the same checks', () => {
    // One layer mixing both paths in one directory: non-UTF-8 and non-ASCII names between ASCII ones, `./`
    // prefixes, doubled and trailing slashes, an absolute path, a whiteout, an opaque marker, entries below a file.
    const tree = new ImageTree(2, { maxEntries: 1000, maxPathDepth: 70 });
    const entries: Array<[Uint8Array, TarHeader['type']]> = [
      [Buffer.from('./usr/'), 'dir'], [Buffer.from('./usr/share/'), 'dir'], [Buffer.from('./usr/share/a'), 'file'],
      [Buffer.from('usr/share/café'), 'file'], [Buffer.from('./usr//share/b/'), 'dir'], [Buffer.from('usr/share/b/c'), 'file'],
      [Buffer.from('/usr/share/abs'), 'file'], [Buffer.from([...Buffer.from('usr/share/x'), 0xff]), 'file'],
      [Buffer.from('usr/share/b/d'), 'file'], [Buffer.from('usr/.wh.gone'), 'file'], [Buffer.from('usr/share/b/.wh..wh..opq'), 'file'],
      [Buffer.from('usr/share/a/under'), 'file'],
    ];
    for (const [name, type] of entries) tree.addEntry(0, { ...header('', type), name });
    const share = tree.lookup('usr/share');
    assert.ok(share > 0);
    const kids: string[] = [];
    for (let c = tree.nFirstChild.data[share]!; c >= 0; c = tree.nNextSibling.data[c]!) {
      kids.push(tree.nodeName(c));
      assert.ok(tree.entryInLayer(c, 0) >= 0, tree.nodeName(c));
    }
    // one node per name whichever path placed it (usr/share/b by both: `./usr//share/b/` and `usr/share/b/c`)
    assert.deepEqual(kids.sort(), ['a', 'abs', 'b', 'café', 'x\\xff'].sort());
    for (const p of ['usr/share/b/c', 'usr/share/b/d', 'usr/gone']) assert.ok(tree.lookup(p) > 0, p);
    assert.ok(tree.entryInLayer(tree.lookup('usr/share/b'), 0, true) >= 0, 'opaque marker on usr/share/b');
    assert.equal(tree.lookup('usr/share/a/under'), -1, 'below a file: skipped');
    const warnings = tree.layerWarnings[0]!.join('\n');
    assert.match(warnings, /usr\/share\/a\/under: below usr\/share\/a, which this layer made a file; skipped/);
    assert.match(warnings, /\/usr\/share\/abs: absolute paths in this layer/);
    // depth: up to the limit (70 segments) accepted on both sides of the fast path's 64, beyond it refused
    const deep = (d: number) => [...Array.from({ length: d - 1 }, (_, i) => `d${i}`), `f${d}`].join('/');
    for (const d of [63, 64, 65, 70, 71]) tree.addEntry(1, header(deep(d)));
    for (const d of [63, 64, 65, 70]) assert.ok(tree.entryInLayer(tree.lookup(deep(d)), 1) >= 0, `depth ${d}`);
    assert.equal(tree.lookup(deep(71)), -1);
    assert.match(tree.layerWarnings[1]!.join('\n'), /path deeper than 70 levels/);
  });
});
