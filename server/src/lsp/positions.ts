import type { Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';

/** Clamps a range into the document, so no client ever receives a position past its end. */
export function clampRange(range: Range, doc: TextDocument): Range {
  const start = doc.positionAt(doc.offsetAt(range.start));
  const end = doc.positionAt(Math.max(doc.offsetAt(range.start), doc.offsetAt(range.end)));
  return { start, end };
}
