/**
 * `TreeViews.visibleAt` (one node's visibility in a merged view, walked down its path) must agree with the whole
 * merged view it stands in for, for every node after every layer: whiteouts, opaque directories, a file replacing
 * a directory and a directory replaced by a symlink, deletion of whole directories, whiteouts of absent paths.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../../../server/src/image/imageTree';
import type { TarHeader } from '../../../server/src/image/tarParser';
import { TreeViews } from '../../../server/src/image/treeViews';

function header(name: string, type: TarHeader['type']): TarHeader {
  return { name: Buffer.from(name), linkName: type === 'symlink' ? Buffer.from('x') : new Uint8Array(0), type, mode: 0o644, uid: 0, gid: 0, size: 3, dataOffset: 0, xattrs: null };
}

describe('TreeViews.visibleAt', () => {
  it('agrees with merged(n).vis for every node and every n', () => {
    const layers: Array<Array<[string, TarHeader['type']]>> = [
      [['a/', 'dir'], ['a/b/', 'dir'], ['a/b/f', 'file'], ['a/c', 'file'], ['d/', 'dir'], ['d/e/', 'dir'], ['d/e/g', 'file'], ['h/', 'dir'], ['h/i', 'file']],
      [['a/b/.wh.f', 'file'], ['a/.wh.c', 'file'], ['d/.wh..wh..opq', 'file'], ['d/n', 'file'], ['h', 'symlink'], ['.wh.nothing', 'file']],
      [['a/b', 'file'], ['d/e/', 'dir'], ['d/e/k', 'file'], ['.wh.h', 'file'], ['h/', 'dir'], ['h/j', 'file']],
      [['.wh.a', 'file'], ['a/', 'dir'], ['a/z', 'file'], ['d/.wh.n', 'file']],
    ];
    const tree = new ImageTree(layers.length, { maxEntries: 1000, maxPathDepth: 100 });
    layers.forEach((entries, l) => {
      for (const [name, type] of entries) tree.addEntry(l, header(name, type));
      tree.finishLayer(l);
    });
    const views = new TreeViews(tree);
    let visible = 0;
    let hidden = 0;
    for (let n = -1; n < layers.length; n++) {
      const vis = views.merged(n).vis;
      for (let node = 0; node < tree.nodeCount; node++) {
        assert.equal(views.visibleAt(n, node), vis[node], `${tree.nodePath(node) || '/'} after layer ${n}`);
        if (vis[node]! >= 0) visible++;
        else hidden++;
      }
    }
    // both outcomes are exercised (a comparison of two always-hidden answers would prove nothing)
    assert.ok(visible > 20 && hidden > 20, `${visible} visible, ${hidden} hidden`);
  });
});
