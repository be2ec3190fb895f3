/**
 * A Dockerfile split into instructions exactly as BuildKit's parser (frontend/dockerfile/parser) does it: the same
 * directive handling, comment attachment (`PrevComment`), continuation joining, empty-continuation detection and
 * heredoc bodies. BuildKit's check semantics depend on these details (which comment a `# check=skip=` applies to,
 * which line a warning lands on), so the rules run on this scan rather than on a general-purpose AST.
 * One linear pass; every rule shares the result. Lines are 0-based.
 */

export interface ScanFlag { name: string; value: string | null; raw: string }

export interface ScanHeredoc {
  name: string;
  chomp: boolean;
  /** Whether the body is expanded (the delimiter was not quoted). */
  expand: boolean;
  content: string;
  /** First body line and the terminator line. */
  startLine: number;
  endLine: number;
}

export interface ScanInstruction {
  /** The keyword as written (`From`, `copy`). */
  keyword: string;
  /** Upper-case keyword. */
  upper: string;
  startLine: number;
  /** Last line of the instruction, heredoc bodies included. */
  endLine: number;
  /** Last line of the instruction text itself (before heredoc bodies). */
  textEndLine: number;
  /** Column of the keyword on startLine. */
  column: number;
  /** The joined instruction line (continuations removed, comment lines dropped). */
  line: string;
  flags: ScanFlag[];
  /** Text after the keyword and flags. */
  rest: string;
  /** Comment lines directly before the instruction (`#` stripped, trimmed), as BuildKit attaches them. */
  prevComments: string[];
  heredocs: ScanHeredoc[];
  /** Physical lines of the instruction text that were empty continuation lines. */
  hasEmptyContinuation: boolean;
}

export interface ScanDirective { name: string; value: string; line: number }

export interface DockerfileScan {
  text: string;
  /** Physical lines without their line terminators. */
  lines: string[];
  escape: string;
  directives: ScanDirective[];
  instructions: ScanInstruction[];
}

/**
 * `compute(ins, escape, lines)`, kept per scan instruction. Exact because scan results are never mutated and the
 * incremental scan hands unchanged instructions back as the same objects, so work that depends on one instruction alone
 * is not redone on every keystroke elsewhere in the file; the escape character is part of the key. `lines` (the scan's
 * lines, for work that reads the instruction's own lines) is not: an instruction object is reused only where its lines
 * are unchanged, and one that moved is a new object. Callers must not change what they get.
 */
export function perInstruction<T>(compute: (ins: ScanInstruction, escape: string, lines: readonly string[]) => T):
  (ins: ScanInstruction, escape: string, lines?: readonly string[]) => T {
  const kept = new WeakMap<ScanInstruction, { escape: string; value: T }>();
  return (ins, escape, lines = NO_LINES) => {
    const hit = kept.get(ins);
    if (hit !== undefined && hit.escape === escape) return hit.value;
    const value = compute(ins, escape, lines);
    kept.set(ins, { escape, value });
    return value;
  };
}
const NO_LINES: readonly string[] = [];

const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_CMDS = new Set(['add', 'copy', 'run']);

/**
 * Lines as LSP and dockerfile-ast count them: `\n`, `\r\n` and a lone `\r` all end a line. Every rule's line number
 * is an index into these lines, so this one split keeps all ranges on the lines the editor (and the CLI) show.
 * BuildKit's scanner breaks on `\n` only; a lone `\r` (old Mac line ends) is the one place we follow the editor.
 */
export function splitLines(text: string): string[] {
  // (Most texts have no CR at all; a plain split is several times cheaper than the regex one, on every keystroke.)
  return text.indexOf('\r') < 0 ? text.split('\n') : text.split(/\r\n|\r|\n/);
}

/** Parses one directive line the way BuildKit's DirectiveParser does (`comment` = the prefix, `#` or ``). */
export function parseDirectiveLine(line: string, prefix: string): { name: string; value: string } | null {
  if (!line.startsWith(prefix)) return null;
  const m = DIRECTIVE_RE.exec(line.slice(prefix.length).replace(/^\s+/, ''));
  if (!m) return null;
  const name = m[1].toLowerCase();
  if (!VALID_DIRECTIVES.has(name)) return null;
  return { name, value: m[2] };
}

/** `/^\s*#/.test(line)`, without the regex (this runs on every line of every re-scanned instruction). */
function isCommentLine(line: string): boolean {
  let i = 0;
  while (i < line.length && isRegexSpace(line.charCodeAt(i))) i++;
  return line.charCodeAt(i) === HASH;
}

/** `line.trim() === ''` without the copy. */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (!isRegexSpace(line.charCodeAt(i))) return false;
  return true;
}

/**
 * Where the escape that continues `line` is, or -1: BuildKit's line-continuation regex, `([^E])E[ \t]*$|^E[ \t]*$`
 * for the escape E, matched by hand — the escape is the last character but spaces and tabs, and the character before
 * it (if any) is not an escape. The text the regex's replacement (`$1`) leaves is `line.slice(0, index)`.
 */
export function continuationAt(line: string, escape: number): number {
  let j = line.length;
  while (j > 0) {
    const c = line.charCodeAt(j - 1);
    if (c !== 32 && c !== 9) break;
    j--;
  }
  if (j === 0 || line.charCodeAt(j - 1) !== escape) return -1;
  if (j >= 2 && line.charCodeAt(j - 2) === escape) return -1;
  return j - 1;
}

/** `lfLines`: the text split at LF, when the caller has it (a text without CR or byte-order mark). */
export function scanDockerfile(text: string, lfLines?: string[]): DockerfileScan {
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    lfLines = undefined;
  }
  const lines = lfLines ?? splitLines(text);
  const cursor = newCursor();
  const instructions: ScanInstruction[] = [];
  scanFrom(lines, effectiveLineCount(lines), 0, cursor, instructions);
  return { text, lines, escape: cursor.escape, directives: cursor.directives, instructions };
}

/** A trailing newline gives one empty last "line" that BuildKit's scanner never sees. */
export function effectiveLineCount(lines: string[]): number {
  return lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
}

/**
 * The scanner's state between instructions. After an instruction it is only the escape character and the
 * directives: comments start afresh, and directives are read only until the first line that is not one.
 */
export interface ScanCursor {
  escape: string;
  directives: ScanDirective[];
  seen: Set<string>;
  directivesDone: boolean;
  /** The line that ended directive parsing (the first that is not a new directive); -1 while still reading them. */
  directivesEnd: number;
}

export function newCursor(): ScanCursor {
  return { escape: '\\', directives: [], seen: new Set(), directivesDone: false, directivesEnd: -1 };
}

/**
 * Scans `lines[from..n)` into `instructions`, starting between instructions in state `cursor` (updated). `stop` is
 * asked after each instruction with the line after it; true ends the scan there (the incremental scanner stops once
 * the rest of the text is known to scan as before: incrementalScan.ts).
 */
export function scanFrom(lines: string[], n: number, from: number, cursor: ScanCursor, instructions: ScanInstruction[],
  stop?: (nextLine: number) => boolean): void {
  let esc = cursor.escape.charCodeAt(0);
  let comments: string[] = [];

  const possibleDirective = (raw: string, lineNo: number): boolean => {
    if (cursor.directivesDone) return false;
    const d = parseDirectiveLine(raw, '#');
    if (!d || cursor.seen.has(d.name)) {
      cursor.directivesDone = true;
      cursor.directivesEnd = lineNo;
      return false;
    }
    cursor.seen.add(d.name);
    cursor.directives.push({ name: d.name, value: d.value, line: lineNo });
    if (d.name === 'escape' && (d.value === '`' || d.value === '\\')) {
      cursor.escape = d.value;
      esc = cursor.escape.charCodeAt(0);
    }
    return true;
  };

  let i = from;
  while (i < n) {
    const raw = lines[i];
    if (isCommentLine(raw)) {
      const c = raw.slice(1).trim();
      if (c === '') comments = [];
      else comments.push(c);
    }
    // (trimStart removes exactly what /^\s+/ matches.)
    const stripped = raw.trimStart();
    if (possibleDirective(stripped, i)) comments.pop();
    const startLine = i;
    i++;
    let body = isCommentLine(stripped) ? '' : stripped;
    const k = continuationAt(body, esc);
    let isEnd = k < 0;
    if (!isEnd) body = body.slice(0, k);
    if (isEnd && body.length === 0) continue;
    let joined = body;
    let hasEmptyContinuation = false;
    while (!isEnd && i < n) {
      const next = lines[i];
      possibleDirective(next, i);
      i++;
      if (isCommentLine(next)) continue;
      if (isBlank(next)) { hasEmptyContinuation = true; continue; }
      const c = continuationAt(next, esc);
      isEnd = c < 0;
      joined += isEnd ? next : next.slice(0, c);
    }
    const textEndLine = i - 1;
    const trimmedLine = joined.trim();
    const ws = /^(\S+)(\s+|$)/.exec(trimmedLine);
    const keyword = ws ? ws[1] : trimmedLine;
    const afterKeyword = trimmedLine.slice(keyword.length).replace(/^\s+/, '');
    const { flags, rest } = extractFlags(afterKeyword);
    const ins: ScanInstruction = {
      keyword,
      upper: keyword.toUpperCase(),
      startLine,
      endLine: textEndLine,
      textEndLine,
      column: raw.length - stripped.length,
      line: trimmedLine,
      flags,
      rest,
      prevComments: comments,
      heredocs: [],
      hasEmptyContinuation,
    };
    const lower = keyword.toLowerCase();
    const canHeredoc = HEREDOC_CMDS.has(lower) || (lower === 'onbuild' && HEREDOC_CMDS.has(rest.split(/\s+/)[0]?.toLowerCase() ?? ''));
    if (canHeredoc && trimmedLine.includes('<<')) {
      for (const h of heredocsFromLine(trimmedLine)) {
        const bodyStart = i;
        let content = '';
        let terminated = false;
        while (i < n) {
          const l = lines[i];
          i++;
          const candidate = h.chomp ? l.replace(/^\t+/, '') : l;
          if (candidate === h.name) { terminated = true; break; }
          content += l + '\n';
        }
        ins.heredocs.push({ name: h.name, chomp: h.chomp, expand: h.expand, content, startLine: bodyStart, endLine: terminated ? i - 1 : Math.max(bodyStart, i - 1) });
        if (!terminated) break;
      }
      ins.endLine = Math.max(textEndLine, i - 1);
    }
    instructions.push(ins);
    comments = [];
    if (stop?.(i)) return;
  }
}

/** BuildKit's extractBuilderFlags: leading `--name[=value]` words, quote-aware, stopping at `--` or the first other word. */
export function extractFlags(s: string): { flags: ScanFlag[]; rest: string } {
  const flags: ScanFlag[] = [];
  let pos = 0;
  while (pos < s.length) {
    while (pos < s.length && /\s/.test(s[pos])) pos++;
    if (!s.startsWith('--', pos)) break;
    let end = pos;
    let quote = '';
    while (end < s.length) {
      const c = s[end];
      if (quote) { if (c === quote) quote = ''; }
      else if (c === '"' || c === "'") quote = c;
      else if (/\s/.test(c)) break;
      end++;
    }
    const raw = s.slice(pos, end);
    if (raw === '--') { pos = end; break; }
    const body = raw.slice(2);
    const eq = body.indexOf('=');
    const unq = (v: string) => v.replace(/^"(.*)"$/s, '$1').replace(/^'(.*)'$/s, '$1');
    flags.push(eq < 0 ? { name: body, value: null, raw } : { name: body.slice(0, eq), value: unq(body.slice(eq + 1)), raw });
    pos = end;
  }
  return { flags, rest: s.slice(pos).replace(/^\s+/, '') };
}

/** Heredoc delimiters on an instruction line (`<<EOF`, `<<-"EOT"`, `3<<X`). */
export function heredocsFromLine(line: string): { name: string; chomp: boolean; expand: boolean }[] {
  const out: { name: string; chomp: boolean; expand: boolean }[] = [];
  for (const word of parseWords(line, '\\')) {
    const m = /^(\d*)<<(-?)\s*([^<]*)$/.exec(word);
    if (!m || !m[3]) continue;
    const rawWord = m[3];
    const name = rawWord.replace(/["']/g, '');
    if (!name || /\s/.test(name)) continue;
    out.push({ name, chomp: m[2] === '-', expand: !/["']/.test(rawWord) });
  }
  return out;
}

/**
 * BuildKit's parseWords: whitespace-separated words, quotes kept, escapes kept. A word keeps every character from its
 * first to its last (only an escape at the very end of `rest` is dropped, and it ends the text), so each word is one
 * `substring` of `rest` rather than a string built a character at a time.
 */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const esc = escape.length === 1 ? escape.charCodeAt(0) : -1;
  let start = -1; // the current word's first character, -1 between words
  let end = -1; // one past its last character so far
  let quote = 0;
  let blankOK = false;
  for (let pos = 0; pos < rest.length; pos++) {
    const c = rest.charCodeAt(pos);
    if (start === -1) {
      if (isRegexSpace(c)) continue;
      start = end = pos;
    }
    if (quote !== 0) {
      if (c === quote) quote = 0;
      else if (c === esc && quote !== SINGLE_QUOTE) {
        if (pos + 1 === rest.length) continue;
        end = ++pos + 1;
        continue;
      }
      end = pos + 1;
      continue;
    }
    if (isRegexSpace(c)) {
      if (blankOK || end > start) words.push(rest.substring(start, end));
      start = -1;
      blankOK = false;
      continue;
    }
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) { quote = c; blankOK = true; }
    if (c === esc) {
      if (pos + 1 === rest.length) continue;
      end = ++pos + 1;
      continue;
    }
    end = pos + 1;
  }
  if (start !== -1 && (blankOK || end > start)) words.push(rest.substring(start, end));
  return words;
}

const HASH = 35;
const SINGLE_QUOTE = 39;
const DOUBLE_QUOTE = 34;
/** `/\s/.test(String.fromCharCode(c))` without the string. */
function isRegexSpace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return /\s/.test(String.fromCharCode(c));
}

/** The exec (JSON array of strings) form, or null for the shell form. */
export function parseJsonArgs(rest: string): string[] | null {
  const t = rest.trim();
  if (!t.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch { /* shell form */ }
  return null;
}
