import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DirectoryEntry } from '../../server/src/image/imageModel';
import { entryTooltip, formatMode, formatSize, parseSize, shortCommand } from '../../webview/src/format';

describe('explorer formatting', () => {
  it('formats and parses sizes', () => {
    assert.equal(formatSize(0), '0 B');
    assert.equal(formatSize(999), '999 B');
    assert.equal(formatSize(1500), '1.5 kB');
    assert.equal(formatSize(32025), '32 kB');
    assert.equal(formatSize(1_220_598), '1.2 MB');
    assert.equal(parseSize('100kB'), 100_000);
    assert.equal(parseSize('1.5 MiB'), 1_572_864);
    assert.equal(parseSize('2048'), 2048);
    assert.equal(parseSize('1 GB'), 1e9);
    assert.equal(parseSize('lots'), null);
    assert.equal(parseSize('5 XB'), null);
  });

  it('formats modes like ls', () => {
    assert.equal(formatMode(0o755, 'dir'), 'drwxr-xr-x');
    assert.equal(formatMode(0o4755, 'file'), '-rwsr-xr-x');
    assert.equal(formatMode(0o1777, 'dir'), 'drwxrwxrwt');
    assert.equal(formatMode(0o2644, 'file'), '-rw-r-Sr--');
    assert.equal(formatMode(0o777, 'symlink'), 'lrwxrwxrwx');
  });

  it('shortens history commands from the classic builder and BuildKit', () => {
    assert.equal(shortCommand('/bin/sh -c #(nop)  CMD ["sh"]'), 'CMD ["sh"]');
    assert.equal(shortCommand('/bin/sh -c apt-get update'), 'RUN apt-get update');
    assert.equal(shortCommand('|2 A=1 B=2 /bin/sh -c make'), 'RUN make');
    assert.equal(shortCommand('RUN ' + 'x'.repeat(300), 20), 'RUN xxxxxxxxxxxxxxx…');
  });

  it('names the whiteout entry and the opaque marker in tooltips', () => {
    const e: DirectoryEntry = {
      name: 'somefile3.txt', path: 'root/example/somefile3.txt', type: 'file', size: 6405, mode: 0o644, uid: 0, gid: 0,
      linkTarget: null, kind: 'deleted', whiteoutName: '.wh.somefile3.txt', opaque: false, wasted: true, childCount: 0, layerIndex: 7, rawName: false,
    };
    assert.match(entryTooltip(e), /whiteout: deleted by \.wh\.somefile3\.txt in layer 7/);
    assert.match(entryTooltip(e), /-rw-r--r--  0:0  6.4 kB/);
    assert.match(entryTooltip({ ...e, kind: 'opaque', type: 'dir', opaque: true }), /opaque directory/);
    assert.match(entryTooltip({ ...e, kind: 'added', type: 'symlink', linkTarget: '../x' }), /symlink to \.\.\/x/);
  });
});
