/**
 * Checks that every `{line, character}` in an LSP result lies inside the document (LSP positions are UTF-16 offsets;
 * a position may sit at the end of a line, never past it, and never on a line past the last).
 */
export function lineLengths(text: string): number[] {
  const lengths: number[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : -1;
    if (c === 10 || c === 13 || c === -1) {
      lengths.push(i - start);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
  }
  return lengths;
}

/** The first position outside the document found in `value` (walks any JSON), or undefined. */
export function positionOutside(value: unknown, text: string, lengths = lineLengths(text)): string | undefined {
  let found: string | undefined;
  const visit = (v: unknown, path: string): void => {
    if (found || typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (typeof o.line === 'number' && typeof o.character === 'number') {
      if (o.line < 0 || o.line >= lengths.length || o.character < 0 || o.character > lengths[o.line]) {
        found = `${path} = ${o.line}:${o.character} (document has ${lengths.length} lines, that line ${lengths[o.line] ?? 'none'} chars)`;
      }
      return;
    }
    for (const k of Object.keys(o)) visit(o[k], `${path}.${k}`);
  };
  visit(value, '$');
  return found;
}

/** The first semantic token (relative encoding) that leaves its line, or undefined. */
export function semanticTokenOutside(data: number[], text: string, lengths = lineLengths(text)): string | undefined {
  let line = 0;
  let char = 0;
  for (let i = 0; i < data.length; i += 5) {
    line += data[i];
    char = data[i] === 0 ? char + data[i + 1] : data[i + 1];
    const len = data[i + 2];
    if (line >= lengths.length || char + len > lengths[line] || len <= 0) return `token ${i / 5} at ${line}:${char} length ${len}`;
  }
  return undefined;
}
