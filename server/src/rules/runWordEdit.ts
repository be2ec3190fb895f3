/**
 * When typing inside a shell-form RUN's script cannot change what dockerfile-ast and dockerfile-utils make of it.
 *
 * Most keystrokes in a Dockerfile land in a RUN script, and re-parsing and re-validating a long RUN (the median corpus
 * file is one 43-line PowerShell RUN) costs about half a parse of the whole file. For a RUN, dockerfile-utils 0.16's
 * `validateInstruction` reports only: an unknown keyword or its casing (the keyword), empty continuation lines (which
 * lines are blank, JavaScript's `trim`), JSON written with single quotes (only when the first argument starts with
 * `[`), and nothing from `checkArguments`, `checkVariables` or the flags (see syntaxValidation.ts). dockerfile-ast's
 * item (where the instruction ends, which lines are comments, the heredocs) depends on line continuations, comment
 * lines, `<<` and, through `Run.getFlags`, on which words start with or hold `--`.
 *
 * `keepsRunItem` answers whether one line of such an item, edited, keeps all of that. It does when:
 * - the characters removed and added are letters, digits and `_`;
 * - they follow a letter, digit or `_` (inside or at the end of a word), or a space or tab with the word going on
 *   after them, not into a `-` (at a word's start: no word made or removed, none made a flag or not one);
 * - the edit lies after the first argument's first character (the keyword, the flags and that character stay);
 * - the line is blank in neither text and ends the same way, continued or not (after a letter, both lines hold that
 *   letter and each ends in the part they share or in a letter; at a word's start, something not blank follows in
 *   the part they share — also to JavaScript's `trim`, which dockerfile-utils' blank-line check uses);
 * - it is a comment line in neither text (`#` after nothing but blanks and escape characters);
 * - it has no escape character followed by a space or tab in mid-line (dockerfile-ast skips the character after such
 *   a pair, which can keep a continuation open).
 * The item itself must hold no `<` (no heredoc) and its first argument must not start with `[`. Then the item's end,
 * comment lines, heredocs, facts and problems (relative to its first line) are those of the old text: the incremental
 * validator swaps the line in without parsing. test/server/rules/runWordEdit.test.ts compares every such answer, and
 * the validator's items, with a fresh validation.
 */

/** Where a shell-form RUN's arguments start (relative to the item's first line), kept in the item's facts. */
export interface RunBody {
  line: number;
  character: number;
}

/**
 * Whether the item's `rel`-th line, `oldLine` in the old text and `newLine` in the new (the same terminator or none),
 * is an edit that keeps the RUN item as it was (see above). `body`: where the item's arguments start; `escape`: the
 * document's escape character.
 */
export function keepsRunItem(oldLine: string, newLine: string, rel: number, body: RunBody, escape: string): boolean {
  const shortest = Math.min(oldLine.length, newLine.length);
  let a = 0;
  while (a < shortest && oldLine.charCodeAt(a) === newLine.charCodeAt(a)) a++;
  let b = 0;
  while (b < shortest - a && oldLine.charCodeAt(oldLine.length - 1 - b) === newLine.charCodeAt(newLine.length - 1 - b)) b++;
  // The edit lies after the first argument's first character.
  if (rel < body.line || (rel === body.line && a <= body.character)) return false;
  if (a === 0 || !isWordRun(oldLine, a, oldLine.length - b) || !isWordRun(newLine, a, newLine.length - b)) return false;
  const left = oldLine.charCodeAt(a - 1);
  if (!isWordChar(left)) {
    if (left !== SPACE && left !== TAB) return false;
    // At a word's start: the word goes on after the edit (no word made or removed), with a character that cannot make
    // it a flag (`Run.getFlags`), and the line has something that is not blank after the edit, in the part both share.
    // (b > 0 first: a read past the end would cost the optimised code of this function a deoptimisation.)
    if (b === 0) return false;
    const right = newLine.charCodeAt(newLine.length - b);
    if (isSeparator(right) || right === DASH) return false;
    if (newLine.slice(newLine.length - b).trim() === '') return false;
  }
  // (After a letter: both lines hold it, and each ends either in the shared part or in a letter, not continued.)
  return !isCommentLine(oldLine, escape) && !isCommentLine(newLine, escape) && !hasInnerEscapeSpace(oldLine, escape) && !hasInnerEscapeSpace(newLine, escape);
}

/** Whether a RUN item's text can take `keepsRunItem` edits at all: no heredoc opener. */
export function runItemTextQualifies(text: string): boolean {
  return text.indexOf('<') < 0;
}

const SPACE = 32;
const TAB = 9;
const DASH = 45;

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isSeparator(c: number): boolean {
  return c === SPACE || c === TAB || c === 10 || c === 13;
}

function isWordRun(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isWordChar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * A comment line inside an instruction, as dockerfile-ast reads one after a line continuation: `#` after spaces, tabs
 * and escape characters only (an escape character before `#` leaves the continuation's state as it was).
 */
function isCommentLine(line: string, escape: string): boolean {
  const e = escape.charCodeAt(0);
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== SPACE && c !== TAB && c !== e) return c === 35;
  }
  return false;
}

/** An escape character followed by a space or tab and then more than whitespace on the line. */
function hasInnerEscapeSpace(line: string, escape: string): boolean {
  for (let i = line.indexOf(escape); i >= 0 && i + 1 < line.length; i = line.indexOf(escape, i + 1)) {
    const next = line.charCodeAt(i + 1);
    if ((next === SPACE || next === TAB) && line.slice(i + 1).trim() !== '') return true;
  }
  return false;
}
