/**
 * `scanDockerfile` for one document as it is edited: the same result after every edit, re-scanning only from the
 * instruction an edit touched to the first instruction end after which the rest of the text is unchanged.
 *
 * Why this is exact: between instructions the scanner's state is only the escape character and the directives
 * (comments start afresh after each instruction, and directives are read only up to the first line that is not
 * one; dockerfileScan.ts `ScanCursor`). An instruction's result depends on its own lines, the comment lines right
 * before it and that state. So:
 * - an earlier instruction that ends before the first changed line scans as before — except the last one, which
 *   may have ended only because the text did (an open continuation or heredoc that new lines would extend);
 * - once the re-scan ends an instruction at a line after which the new text equals the old text's tail, and the old
 *   scan ended an instruction at the same place in that tail, everything after scans as before, shifted by the
 *   number of lines the edit added or removed.
 * An edit at or before the line that ended the directives re-scans from the top with fresh directives (they can
 * change the escape character), and still stops where the rest is unchanged and scanned with the same escape
 * character (a comment typed on the first line re-scans the first instruction).
 * test/server/rules/incrementalScan.test.ts compares with a full scan after random edits.
 */
import {
  effectiveLineCount, newCursor, scanFrom, splitLines,
  type DockerfileScan, type ScanCursor, type ScanInstruction,
} from './dockerfileScan';

interface Previous {
  scan: DockerfileScan;
  directivesDone: boolean;
  directivesEnd: number;
  seen: Set<string>;
}

export class IncrementalScanner {
  private prev: Previous | null = null;
  /** What the last scan did: instructions re-scanned, and reused from before / after the edit (tests, benchmark). */
  lastRun = { full: true, rescanned: 0, reusedBefore: 0, reusedAfter: 0 };

  /** `lfLines`: the text split at LF, when the caller has it (a text without CR or byte-order mark). */
  scan(text: string, lfLines?: string[]): DockerfileScan {
    if (text.charCodeAt(0) === 0xfeff) {
      text = text.slice(1);
      lfLines = undefined;
    }
    const prev = this.prev;
    if (prev && prev.scan.text === text) {
      this.lastRun = { full: false, rescanned: 0, reusedBefore: prev.scan.instructions.length, reusedAfter: 0 };
      return prev.scan;
    }
    const lines = lfLines ?? splitLines(text);
    const n = effectiveLineCount(lines);
    const instructions: ScanInstruction[] = [];
    let cursor = newCursor();
    let from = 0;
    let reusedBefore = 0;
    let tail: ScanInstruction[] = [];

    const old = prev?.scan;
    if (old && prev!.directivesDone) {
      const oldLines = old.lines;
      const common = Math.min(lines.length, oldLines.length);
      let a = 0;
      while (a < common && lines[a] === oldLines[a]) a++;
      let b = 0;
      while (b < common - a && lines[lines.length - 1 - b] === oldLines[oldLines.length - 1 - b]) b++;
      const olds = old.instructions;
      // An edit at or before the line that ended the directives: from the top, with fresh directives.
      if (a > prev!.directivesEnd) {
        while (reusedBefore < olds.length - 1 && olds[reusedBefore]!.endLine < Math.min(a, n)) reusedBefore++;
        if (reusedBefore > 0) {
          for (let k = 0; k < reusedBefore; k++) instructions.push(olds[k]!);
          from = olds[reusedBefore - 1]!.endLine + 1;
          cursor = resumeCursor(old, prev!);
        }
      }
      const delta = lines.length - oldLines.length;
      const tailStart = lines.length - b; // first line of the unchanged tail
      // Past the directives, an instruction depends on its own lines, the comments right before it and the escape
      // character only (every old instruction was scanned past them too: its first line ended them at the latest).
      const stop = (next: number): boolean => {
        if (next < tailStart || next >= n || !cursor.directivesDone || cursor.escape !== old.escape) return false;
        const m = instructionEndingAt(olds, next - 1 - delta);
        if (m < 0) return false;
        tail = olds.slice(m + 1).map((ins) => shifted(ins, delta));
        return true;
      };
      scanFrom(lines, n, from, cursor, instructions, stop);
      const rescanned = instructions.length - reusedBefore;
      instructions.push(...tail);
      this.lastRun = { full: false, rescanned, reusedBefore, reusedAfter: tail.length };
      return this.remember({ text, lines, escape: cursor.escape, directives: cursor.directives, instructions }, cursor);
    }
    scanFrom(lines, n, 0, cursor, instructions);
    this.lastRun = { full: true, rescanned: instructions.length, reusedBefore: 0, reusedAfter: 0 };
    return this.remember({ text, lines, escape: cursor.escape, directives: cursor.directives, instructions }, cursor);
  }

  private remember(scan: DockerfileScan, cursor: ScanCursor): DockerfileScan {
    this.prev = { scan, directivesDone: cursor.directivesDone, directivesEnd: cursor.directivesEnd, seen: cursor.seen };
    return scan;
  }
}

/** The state after the old scan's directives: a copy, so the new scan's updates leave the old result alone. */
function resumeCursor(old: DockerfileScan, prev: Previous): ScanCursor {
  return { escape: old.escape, directives: [...old.directives], seen: new Set(prev.seen), directivesDone: true, directivesEnd: prev.directivesEnd };
}

/** Index of the instruction whose last line is `line` (instructions are in line order), or -1. */
function instructionEndingAt(instructions: ScanInstruction[], line: number): number {
  let lo = 0;
  let hi = instructions.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const end = instructions[mid]!.endLine;
    if (end === line) return mid;
    if (end < line) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The same instruction `delta` lines further down (itself when nothing moved: results are never mutated). Written out
 * field by field in the scanner's order, not spread: every instruction then has the shape the scanner gives it, and
 * the rules' optimised code, which sees both, is not thrown away for a new shape.
 */
function shifted(ins: ScanInstruction, delta: number): ScanInstruction {
  if (delta === 0) return ins;
  return {
    keyword: ins.keyword,
    upper: ins.upper,
    startLine: ins.startLine + delta,
    endLine: ins.endLine + delta,
    textEndLine: ins.textEndLine + delta,
    column: ins.column,
    line: ins.line,
    flags: ins.flags,
    rest: ins.rest,
    prevComments: ins.prevComments,
    heredocs: ins.heredocs.map((h) => ({ name: h.name, chomp: h.chomp, expand: h.expand, content: h.content, startLine: h.startLine + delta, endLine: h.endLine + delta })),
    hasEmptyContinuation: ins.hasEmptyContinuation,
  };
}
