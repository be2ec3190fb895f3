/**
 * Random Dockerfile edits for the incremental analyses' differential tests (incrementalChecker.test.ts,
 * incrementalScan.test.ts): characters and lines inserted/deleted, snippets that open heredocs, continuations,
 * `# escape=` directives, `${…}`, JSON exec form and variables; and snippets typed one character at a time.
 */
import { linesWithTerminators } from '../../server/src/rules/incrementalSyntax';

export const CHARS = [' ', ' ', '\\', '\n', '#', '$', '{', '}', '"', "'", '[', ']', ',', '<', '-', '=', 'a', 'E', 'O', 'F', '`', ':', '\t', '/', 'x'];
export const SNIPPETS = [
  '\\\n', ' \\\n  ', '<<EOF\n', '\nEOF\n', '<<-EOT\n\techo\n\tEOT\n', '# escape=`\n', '# escape=\\\n', '#escape=`\n\n', '${A:-b}', '${',
  '["sh", "-c", "echo hi"]', '["a",', '\nRUN echo hi\n', '\nRUN <<EOF\necho hi\nEOF\n', '\nFROM alpine AS x\n', '\nFROM $BASE\n',
  '\nARG A=1\n', '\nARG BASE=alpine\n', '\nENV P=80\n', '\nENV P abc\n', '\nEXPOSE $P\n', '\nEXPOSE 80/xyz $P\n', '# dockerfile-utils: ignore\n',
  '\nONBUILD EXPOSE $P\n', '\nONBUILD FROM x\n', '\nHEALTHCHECK CMD x\n', '\nSTOPSIGNAL $S\n', '\nCMD ["a"]\n', '\nfrom x as X\n',
  '\nCOPY <<EOF /a\nhi\nEOF\n', '\nRUN \\\n\\#h\n', '\n\n', '\r', '\ufeff', '# syntax=docker/dockerfile:1\n', '\n  # comment\n', '\\\n\n',
];
export const TYPED = ['RUN cat <<EOF\nhello $A\nEOF\n', 'RUN apt-get update && \\\n  apt-get install -y curl\n', '# escape=`\n', 'EXPOSE ${PORT:-80}/tcp\n',
  'CMD ["node", "server.js"]\n', 'FROM $BASE AS build\n', 'ENV A=1 B="x y"\n'];

export type Edit = { at: number; remove: number; insert: string };

export function randomEdit(text: string, r: () => number, eol: string): Edit {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const at = r() < 0.08 ? 0 : Math.floor(r() * (text.length + 1));
  const fixEol = (s: string) => (eol === '\r\n' ? s.replace(/\r?\n/g, '\r\n') : s);
  const kind = r();
  if (kind < 0.35) return { at, remove: 0, insert: fixEol(pick(CHARS)) };
  if (kind < 0.55) return { at, remove: Math.min(text.length - at, 1 + Math.floor(r() * 3)), insert: '' };
  if (kind < 0.8) return { at, remove: 0, insert: fixEol(pick(SNIPPETS)) };
  // Whole lines: delete, duplicate or move one.
  const lines = linesWithTerminators(text);
  const li = Math.floor(r() * lines.length);
  const start = lines.slice(0, li).join('').length;
  if (kind < 0.9) return { at: start, remove: lines[li].length, insert: '' };
  return { at: start, remove: 0, insert: lines[Math.floor(r() * lines.length)] };
}

export function apply(text: string, e: Edit): string {
  return text.slice(0, e.at) + e.insert + text.slice(e.at + e.remove);
}


/**
 * The texts seen while `snippet` is typed into `text` one character at a time at a line start (at the very top for
 * a directive; the line is chosen by `r`), then deleted again from its end: each with a label naming the step.
 */
export function* typeAndDelete(text: string, snippet: string, r: () => number): Generator<{ text: string; what: string }> {
  const lines = linesWithTerminators(text);
  let at = snippet.startsWith('#') ? 0 : lines.slice(0, Math.floor(r() * lines.length)).join('').length;
  for (const ch of snippet) {
    text = text.slice(0, at) + ch + text.slice(at);
    at += ch.length;
    yield { text, what: `typing ${JSON.stringify(snippet)} at ${at}` };
  }
  for (let k = 0; k < snippet.length; k++) {
    text = text.slice(0, at - 1) + text.slice(at);
    at--;
    yield { text, what: `deleting ${JSON.stringify(snippet)} at ${at}` };
  }
}
