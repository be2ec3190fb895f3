/**
 * The text the analysis libraries see, with pathological parts cut so that every request stays well under a second.
 *
 * Why: dockerfile-ast re-scans an instruction's arguments character by character (building strings one char at a
 * time) many times per parse (9 scans in `parse`, 25 in dockerfile-utils' `validate`), which costs about 0.2 s per
 * MB per scan; a 1 MB line therefore takes 2–5 s in every feature. Lines longer than `maxLineLength` keep their
 * head and tail (the tail keeps a trailing `\` continuation), and past `maxAnalysedChars` whole lines are blanked.
 * The shadow has exactly the same line count, so a position maps to a position by adjusting its character only on cut
 * lines; results map back the same way. Ordinary files (no line over 16 K characters, under 2 MB) are passed through
 * untouched and the mapping is the identity.
 */
import type { Position } from 'vscode-languageserver';

export interface ShadowLimits {
  maxLineLength: number;
  /** Characters kept from the end of a cut line (its continuation marker and closing quote/bracket live there). */
  keepTail: number;
  maxAnalysedChars: number;
  /**
   * Physical lines kept in one continued instruction; later continuation lines are blanked (the line that ends the
   * instruction is kept, so the next instruction still starts where it did). dockerfile-ast re-scans a whole
   * instruction in every feature, so a 10,000-line `RUN` costs seconds per request.
   */
  maxContinuedLines: number;
}

export const DEFAULT_SHADOW_LIMITS: ShadowLimits = { maxLineLength: 16_384, keepTail: 256, maxAnalysedChars: 2_000_000, maxContinuedLines: 1_000 };

interface CutLine {
  /** Length of the original line (without its line break). */
  length: number;
  /** Characters kept from the start. */
  head: number;
  /** Characters kept from the end (0 for a blanked line, whose head is 0 too). */
  tail: number;
}

export class ShadowText {
  /** The text to analyse. */
  readonly text: string;
  /** Cut lines by line number; empty for ordinary documents. */
  private readonly cuts = new Map<number, CutLine>();
  /** First blanked line (past the analysed size), or -1. */
  readonly blankedFrom: number;

  constructor(readonly original: string, limits: ShadowLimits = DEFAULT_SHADOW_LIMITS) {
    let blankedFrom = -1;
    if (original.length <= limits.maxAnalysedChars && !needsCuts(original, limits)) {
      this.text = original;
      this.blankedFrom = -1;
      return;
    }
    const parts: string[] = [];
    const escape = /^(?:[ \t]*#[^\n]*\n)*?[ \t]*#[ \t]*escape[ \t]*=[ \t]*`/i.test(original.slice(0, 4096)) ? 96 : 92;
    let continued = 0; // physical lines so far in the current continued instruction
    let line = 0;
    let start = 0;
    let analysed = 0;
    let changed = false;
    // One linear pass over the text: copy each line (cut if needed) followed by its original line break.
    while (start <= original.length) {
      let end = start;
      while (end < original.length && original.charCodeAt(end) !== 10 && original.charCodeAt(end) !== 13) end++;
      const breakLength = end >= original.length ? 0 : original.charCodeAt(end) === 13 && original.charCodeAt(end + 1) === 10 ? 2 : 1;
      const length = end - start;
      if (blankedFrom === -1 && analysed + length > limits.maxAnalysedChars) blankedFrom = line;
      const continues = endsWithEscape(original, start, end, escape);
      const overlong = continued >= limits.maxContinuedLines && continues;
      continued = continues ? continued + 1 : 0;
      if (blankedFrom !== -1 || overlong) {
        if (length > 0) {
          this.cuts.set(line, { length, head: 0, tail: 0 });
          changed = true;
        }
      } else if (length > limits.maxLineLength) {
        const head = limits.maxLineLength - limits.keepTail;
        this.cuts.set(line, { length, head, tail: limits.keepTail });
        parts.push(original.slice(start, start + head), original.slice(end - limits.keepTail, end));
        analysed += limits.maxLineLength;
        changed = true;
      } else {
        parts.push(original.slice(start, end));
        analysed += length;
      }
      parts.push(original.slice(end, end + breakLength));
      if (breakLength === 0) break;
      start = end + breakLength;
      line++;
    }
    this.text = changed ? parts.join('') : original;
    this.blankedFrom = blankedFrom;
  }

  /** Whether a line of the original was blanked in the shadow (nothing computed on the shadow is about it). */
  isBlanked(line: number): boolean {
    const cut = this.cuts.get(line);
    return cut !== undefined && cut.head === 0 && cut.tail === 0;
  }

  get isIdentity(): boolean {
    return this.cuts.size === 0;
  }

  /** A position in the original document → the shadow (a position inside a cut part goes to the cut point). */
  toShadow(p: Position): Position {
    const cut = this.cuts.get(p.line);
    if (!cut) return p;
    if (p.character <= cut.head) return p;
    const fromEnd = cut.length - p.character;
    if (fromEnd < cut.tail) return { line: p.line, character: cut.head + cut.tail - Math.max(0, fromEnd) };
    return { line: p.line, character: cut.head };
  }

  /** A position in the shadow → the original document. */
  fromShadow(p: Position): Position {
    const cut = this.cuts.get(p.line);
    if (!cut || p.character <= cut.head) return p;
    return { line: p.line, character: Math.min(cut.length, p.character + (cut.length - cut.head - cut.tail)) };
  }

  /** A diagnostic computed on the shadow, with its range in the original document. */
  mapDiagnostic<D extends { line: number; character: number; endLine: number; endCharacter: number }>(d: D): D {
    if (this.isIdentity) return d;
    const start = this.fromShadow({ line: d.line, character: d.character });
    const end = this.fromShadow({ line: d.endLine, character: d.endCharacter });
    return { ...d, character: start.character, endCharacter: end.character };
  }

  /**
   * Maps every `{line, character}` inside a result (ranges, locations, edits, symbols…) back to the original
   * document, in place. Linear in the size of the result.
   */
  mapResult<T>(value: T): T {
    if (this.isIdentity) return value;
    const seen = new Set<object>();
    const visit = (v: unknown): void => {
      if (typeof v !== 'object' || v === null || seen.has(v)) return;
      seen.add(v);
      const o = v as Record<string, unknown>;
      if (typeof o.line === 'number' && typeof o.character === 'number') {
        const mapped = this.fromShadow({ line: o.line, character: o.character });
        o.character = mapped.character;
        return;
      }
      for (const key of Object.keys(o)) visit(o[key]);
    };
    visit(value);
    return value;
  }
}

/**
 * Whether any line must be cut (over-long, or too deep in a continued instruction): this pre-check runs on every
 * edit of every document, so it walks lines with the native `indexOf` instead of copying them as the cutting pass
 * does (about 10× cheaper on a 3,000-line file). Conservative: a text with a lone CR (a line break the `\n` walk
 * does not see) takes the exact pass.
 */
function needsCuts(text: string, limits: ShadowLimits): boolean {
  if (text.length <= limits.maxLineLength) return false;
  if (LONE_CR.test(text)) return true;
  // Counting continued lines for either escape character over-counts, never under-counts: still conservative.
  let continued = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (stop - start > limits.maxLineLength) return true;
    if (endsWithEscape(text, start, stop, 92) || endsWithEscape(text, start, stop, 96)) {
      if (++continued > limits.maxContinuedLines) return true;
    } else continued = 0;
    start = end + 1;
  }
  return false;
}

const LONE_CR = /\r(?!\n)/;

/** Whether text[start, end) ends with the escape character (trailing blanks allowed): the instruction continues. */
function endsWithEscape(text: string, start: number, end: number, escape: number): boolean {
  let i = end - 1;
  while (i >= start && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i--;
  return i >= start && text.charCodeAt(i) === escape;
}
