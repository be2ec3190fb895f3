import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { pageRows, revealRow, visibleWindow } from '../../webview/src/virtualWindow';

describe('virtual window arithmetic', () => {
  it('renders the visible rows plus a margin, clamped to the list', () => {
    assert.deepEqual(visibleWindow(0, 220, 22, 1000, 5), { first: 0, last: 16 });
    assert.deepEqual(visibleWindow(22 * 500, 220, 22, 1000, 5), { first: 495, last: 516 });
    assert.deepEqual(visibleWindow(22 * 995, 220, 22, 1000, 5), { first: 990, last: 999 });
    assert.deepEqual(visibleWindow(0, 220, 22, 0, 5), { first: 0, last: -1 });
    // A scrollTop past the end (list shrank) still yields rows at the end.
    assert.deepEqual(visibleWindow(22 * 5000, 220, 22, 10, 2), { first: 7, last: 9 });
  });

  it('keeps the DOM bounded for any list size', () => {
    for (const n of [10, 1_000, 100_000, 1_000_000]) {
      const w = visibleWindow(22 * Math.floor(n / 2), 800, 22, n, 20);
      assert.ok(w.last - w.first + 1 <= Math.ceil(800 / 22) + 1 + 2 * 20 + 1, `${n}: ${JSON.stringify(w)}`);
    }
  });

  it('scrolls as little as possible to reveal a row', () => {
    assert.equal(revealRow(10, 0, 220, 22), 22);
    assert.equal(revealRow(5, 0, 220, 22), 0);
    assert.equal(revealRow(2, 200, 220, 22), 44);
    assert.equal(pageRows(220, 22), 9);
    assert.equal(pageRows(10, 22), 1);
  });
});
