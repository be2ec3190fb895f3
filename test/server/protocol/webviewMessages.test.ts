/** The webview ⇄ extension protocol: what each side accepts, and that everything else is dropped. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkResult, parseHostMessage, parseWebviewMessage, type ListParams } from '../../../server/src/protocol/webviewMessages';

const list: ListParams = {
  layer: 3, mode: 'merged', rangeStart: 0, dir: 'usr/lib', offset: 200, limit: 200, sort: 'name', descending: false,
  filter: '*.so', kinds: ['added', 'deleted'], wastedOnly: false, minSize: 0,
};

describe('webview messages', () => {
  it('accepts the typed messages from the page', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'request', id: 1, method: 'list', params: list }), { type: 'request', id: 1, method: 'list', params: list });
    assert.deepEqual(parseWebviewMessage({ type: 'request', id: 2, method: 'readFile', params: { layer: 0, path: 'etc/passwd' } })?.type, 'request');
    assert.deepEqual(parseWebviewMessage({ type: 'request', id: 3, method: 'summary', params: {} })?.type, 'request');
    assert.deepEqual(parseWebviewMessage({ type: 'cancel', id: 3 }), { type: 'cancel', id: 3 });
    const rendered = { type: 'rendered', layer: 7, mode: 'layer', rows: [{ path: 'a/.wh.b', kind: 'deleted', badges: ['whiteout'] }] };
    assert.deepEqual(parseWebviewMessage(rendered), rendered);
  });

  it('drops unknown, malformed and oversized messages from the page', () => {
    const bad: unknown[] = [
      null, 'ready', [], { type: 'exec', command: 'rm -rf /' }, { type: 'request', id: 1, method: 'eval', params: {} },
      { type: 'request', id: -1, method: 'summary', params: {} }, { type: 'request', id: 1.5, method: 'summary', params: {} },
      { type: 'request', id: 1, method: 'list', params: { ...list, mode: 'all' } },
      { type: 'request', id: 1, method: 'list', params: { ...list, limit: 1_000_000 } },
      { type: 'request', id: 1, method: 'list', params: { ...list, kinds: ['added', 'evil'] } },
      { type: 'request', id: 1, method: 'list', params: { ...list, dir: 'x'.repeat(70_000) } },
      { type: 'request', id: 1, method: 'readFile', params: { layer: 0, path: '' } },
      { type: 'request', id: 1, method: 'readFile', params: { layer: '0', path: 'a' } },
      { type: 'cancel', id: 'x' },
      { type: 'rendered', layer: 0, mode: 'layer', rows: Array.from({ length: 201 }, () => ({ path: 'a', kind: 'added', badges: [] })) },
      { type: 'rendered', layer: 0, mode: 'layer', rows: [{ path: 'a', kind: 'added', badges: ['x'.repeat(100)] }] },
    ];
    for (const m of bad) assert.equal(parseWebviewMessage(m), null, JSON.stringify(m)?.slice(0, 80));
  });

  it('accepts host messages and checks reply shapes per method', () => {
    const archive = { path: '/a.tar', format: 'docker-archive', flavor: 'docker-save-legacy', images: [{ layers: [] }], platforms: [], warnings: [] };
    const image = { type: 'image', source: '/a.tar', title: 'a', image: 0, archive, status: 'done', error: null, restore: null };
    assert.equal(parseHostMessage(image)?.type, 'image');
    assert.equal(parseHostMessage({ ...image, image: 1 }), null, 'image index must exist');
    assert.equal(parseHostMessage({ ...image, status: 'weird' }), null);
    assert.deepEqual(parseHostMessage({ type: 'reply', id: 4, ok: false, error: 'no' }), { type: 'reply', id: 4, ok: false, error: 'no' });
    assert.equal(parseHostMessage({ type: 'reply', id: 4, ok: true }), null, 'a success needs a result');
    assert.equal(parseHostMessage({ type: 'selectLayer', layer: 2, mode: 'range', rangeStart: 1, wastedOnly: null, reveal: 'etc/passwd' })?.type, 'selectLayer');
    assert.equal(parseHostMessage({ type: 'selectLayer', layer: 2, mode: 'bogus', rangeStart: null, wastedOnly: null, reveal: null }), null);
    assert.equal(parseHostMessage({ type: 'selectLayer', layer: 2, mode: null, rangeStart: null, wastedOnly: null }), null, 'reveal is required (null for none)');
    const entry = { name: 'a', path: 'a', type: 'file', size: 1, mode: 420, uid: 0, gid: 0, linkTarget: null, kind: 'added', whiteoutName: null, opaque: false, wasted: false, childCount: 0, layerIndex: 0, rawName: false };
    assert.ok(checkResult('list', { dir: '', total: 1, offset: 0, entries: [entry] }));
    assert.ok(!checkResult('list', { dir: '', total: 1, offset: 0, entries: [{ ...entry, kind: 'pwned' }] }));
    assert.ok(!checkResult('list', { dir: '', total: 1, offset: 0, entries: [{ ...entry, name: 42 }] }));
    assert.ok(checkResult('readFile', { path: 'a', size: 3, truncated: false, text: 'abc', layerIndex: 0 }));
    assert.ok(!checkResult('readFile', { path: 'a', size: 3, truncated: false, text: 7 }));
    assert.ok(checkResult('compare', { opened: true, message: null }));
  });
});
