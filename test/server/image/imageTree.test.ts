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
});
