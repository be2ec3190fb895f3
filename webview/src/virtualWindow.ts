/**
 * Virtual-scrolling arithmetic: which rows to put in the DOM for a scroll position (the visible ones plus a margin),
 * and where to scroll to reveal a row. Pure; unit-tested in Node.
 */

export interface RowWindow {
  /** First and last row index to render (inclusive); last < first when there is nothing to render. */
  first: number;
  last: number;
}

export function visibleWindow(scrollTop: number, viewportHeight: number, rowHeight: number, rowCount: number, margin: number): RowWindow {
  if (rowCount <= 0 || rowHeight <= 0) return { first: 0, last: -1 };
  const top = Math.max(0, Math.floor(scrollTop / rowHeight));
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const first = Math.max(0, Math.min(top, rowCount - 1) - margin);
  const last = Math.min(rowCount - 1, top + shown + margin);
  return { first, last };
}

/** The scrollTop that brings `row` fully into view while moving as little as possible. */
export function revealRow(row: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const top = row * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}

/** Rows moved by PageUp/PageDown. */
export function pageRows(viewportHeight: number, rowHeight: number): number {
  return Math.max(1, Math.floor(viewportHeight / rowHeight) - 1);
}
