/**
 * dockerfile-ast 0.7.1's `Instruction.getRawArguments`, re-implemented exactly (same values, same ranges, for every
 * input) without its two costs: it builds each argument's value one character at a time (`escapedArg + char`, a new
 * string per character: megabytes of garbage per parse of a large file, and with the AST live every scavenge has a
 * large survivor set to copy) and converts each argument's start and end offset with `TextDocument.positionAt` (a
 * binary search over all line starts). Here a value is cut with `substring` from runs of contiguous characters (an
 * escape drops its escape character, so a value is one run unless it holds escapes), and positions come from a walk
 * over the line breaks inside the instruction, which only moves forward.
 *
 * The state machine below is the library's, statement for statement, including what looks like accidents and must
 * stay: an escape before `\r` skips the character after the `\r` whatever it is (it assumes `\r\n`), a value keeps
 * the escape before `$` (`\$`), an escape at the end of the instruction ends the scan, and an escaped space before a
 * non-newline can close an argument that started nowhere (found = -1: its range starts one character before the
 * arguments). The differential test (test/server/dockerfile/rawArguments.test.ts) compares this with the unpatched
 * library method on the corpus and on random texts over a hostile alphabet.
 */

/** The fields of a dockerfile-ast `Instruction` the scan reads (they are fixed when the parser creates it). */
export interface RawArgumentsSource {
  document: ScanDocument;
  range: ScanRange;
  instructionRange: ScanRange;
  escapeChar: string;
}
/** The `TextDocument` methods the scan uses (vscode-languageserver-textdocument's). */
export interface ScanDocument {
  getText(): string;
  offsetAt(position: ScanPosition): number;
  positionAt(offset: number): ScanPosition;
}
interface ScanPosition { line: number; character: number }
interface ScanRange { start: ScanPosition; end: ScanPosition }

/** An instruction's raw arguments as plain numbers: argument k is `values[k]`, its range `positions[4k..4k+3]`. */
export interface RawArguments {
  values: string[];
  /** start line, start character, end line, end character of each argument, in order. */
  positions: number[];
}

const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const DOLLAR = 36;
const HASH = 35;

/**
 * `TextDocument.positionAt` for offsets met in increasing order: a cursor over the line breaks (`\n`, `\r\n`, lone
 * `\r`, as `computeLineOffsets` splits them), started at the start of a known line. An offset before the cursor's
 * line goes to the document's own `positionAt`.
 */
export class PositionWalker {
  private scan: number;
  constructor(private readonly text: string, private readonly doc: ScanDocument, private scanLine: number, private lineStart: number) {
    this.scan = lineStart;
  }

  /** The position of the offset last given to `at`. */
  line = 0;
  character = 0;

  /** Sets `line` and `character` to the position of `offset`. */
  at(offset: number): void {
    const text = this.text;
    const length = text.length;
    if (offset > length) offset = length;
    if (offset < this.lineStart) {
      const p = this.doc.positionAt(offset);
      this.line = p.line;
      this.character = p.character;
      return;
    }
    let scan = this.scan;
    while (scan < offset) {
      const c = text.charCodeAt(scan);
      if (c === LF) {
        this.scanLine++;
        this.lineStart = ++scan;
      } else if (c === CR) {
        if (scan + 1 < length && text.charCodeAt(scan + 1) === LF) {
          if (scan + 2 > offset) break; // the offset is the \n of a \r\n: its position is the \r's (below)
          this.scanLine++;
          this.lineStart = scan += 2;
        } else {
          this.scanLine++;
          this.lineStart = ++scan;
        }
      } else {
        scan++;
      }
    }
    this.scan = scan;
    // TextDocument's ensureBeforeEOL: an offset just after line-break characters of its own line moves before them.
    while (offset > this.lineStart && isEol(text.charCodeAt(offset - 1))) offset--;
    this.line = this.scanLine;
    this.character = offset - this.lineStart;
  }
}

function isEol(c: number): boolean {
  return c === CR || c === LF;
}

/**
 * The raw arguments of `instruction`, or undefined when its ranges are not what dockerfile-ast's parser makes (then
 * the caller runs the library's own method).
 */
export function scanRawArguments(instruction: RawArgumentsSource): RawArguments | undefined {
  const doc = instruction.document;
  const text = doc.getText();
  const range = instruction.range;
  const keyword = instruction.instructionRange;
  // The library: content = text of `range`; fullArgs = content.substring(extra), extra = the keyword's length;
  // positions are reported at keyword start + extra + i.
  const lineStartOffset = doc.offsetAt(range.start);
  const lineEndOffset = doc.offsetAt(range.end);
  const keywordStart = doc.offsetAt(keyword.start);
  const extra = doc.offsetAt(keyword.end) - keywordStart;
  if (lineEndOffset < lineStartOffset || extra < 0) return undefined;
  const from = lineStartOffset + Math.min(extra, lineEndOffset - lineStartOffset);
  const n = lineEndOffset - from;
  const base = keywordStart + extra;
  const escape = instruction.escapeChar.length === 1 ? instruction.escapeChar.charCodeAt(0) : -1;

  const startLine = range.start.line;
  const walker = new PositionWalker(text, doc, startLine, doc.offsetAt({ line: startLine, character: 0 }));
  // Filled in shared scratch arrays and copied out at their final size (growing fresh arrays left garbage behind).
  const values = scratchValues;
  const positions = scratchPositions;
  let count = 0;

  // The value being built: `done` (completed runs) + text[runStart, runEnd) (the open run, if runStart !== -1).
  let done = '';
  let runStart = -1;
  let runEnd = -1;
  const append = (s: number, e: number): void => {
    if (runStart !== -1 && runEnd === s) {
      runEnd = e;
      return;
    }
    if (runStart !== -1) done += text.substring(runStart, runEnd);
    runStart = s;
    runEnd = e;
  };
  const emit = (start: number, end: number): void => {
    values[count] = runStart === -1 ? done : done === '' ? text.substring(runStart, runEnd) : done + text.substring(runStart, runEnd);
    const p = 4 * count++;
    walker.at(base + start);
    positions[p] = walker.line;
    positions[p + 1] = walker.character;
    walker.at(base + end);
    positions[p + 2] = walker.line;
    positions[p + 3] = walker.character;
    done = '';
    runStart = -1;
  };

  let start = false;
  let comment = false;
  let found = -1;
  let escapedWhitespaceDetected = false;
  let escaping = false;
  let escapeMarker = -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(from + i);
    if (c === SPACE || c === TAB || c === CR || c === LF) {
      if (escaping) {
        escapedWhitespaceDetected = true;
        if (c === CR || c === LF) {
          escapedWhitespaceDetected = false;
          if (comment) {
            comment = false;
            start = true;
          }
        }
        continue;
      } else if (found !== -1) {
        emit(found, escapeMarker === -1 ? i : escapeMarker);
        escapeMarker = -1;
        found = -1;
      }
    } else if (c === escape) {
      const next = i + 1 < n ? text.charCodeAt(from + i + 1) : -1;
      if (next === SPACE || next === TAB) {
        whitespaceCheck: for (let j = i + 2; j < n; j++) {
          const d = text.charCodeAt(from + j);
          switch (d) {
            case SPACE:
            case TAB:
              continue;
            case CR:
            case LF:
              if (d === CR) j++; // the library skips one more character after a \r, whatever it is
              comment = false;
              escaping = true;
              start = true;
              if (found !== -1) escapeMarker = i;
              i = j;
              break whitespaceCheck;
            default:
              escapeMarker = i;
              if (found === -1) i = j - 1;
              break whitespaceCheck;
          }
        }
      } else if (next === CR) {
        comment = false;
        escaping = true;
        start = true;
        if (found !== -1 && escapeMarker === -1) escapeMarker = i;
        i += 2;
      } else if (next === LF) {
        comment = false;
        escaping = true;
        start = true;
        if (found !== -1 && escapeMarker === -1) escapeMarker = i;
        i++;
      } else {
        if (escapedWhitespaceDetected && escapeMarker !== -1) {
          emit(found, escapeMarker);
          found = -1;
        }
        escapeMarker = -1;
        escapedWhitespaceDetected = false;
        escaping = false;
        if (next === DOLLAR) append(from + i, from + i + 2);
        else if (next === -1) break; // an escape at the end: the scan stops
        else append(from + i + 1, from + i + 2);
        if (found === -1) found = i;
        i++;
      }
    } else if (!comment) {
      if (start && c === HASH) {
        comment = true;
      } else {
        if (escapedWhitespaceDetected && escapeMarker !== -1) {
          emit(found, escapeMarker);
          found = -1;
        }
        escapedWhitespaceDetected = false;
        escaping = false;
        escapeMarker = -1;
        append(from + i, from + i + 1);
        if (found === -1) found = i;
      }
      start = false;
    }
  }
  if (found !== -1) emit(found, escapeMarker === -1 ? n : escapeMarker);
  return { values: values.slice(0, count), positions: positions.slice(0, 4 * count) };
}

const scratchValues: string[] = [];
const scratchPositions: number[] = [];
