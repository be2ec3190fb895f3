/**
 * A small recursive-descent parser for the POSIX shell command language (XCU 2.10 grammar), enough to list the
 * simple commands of a RUN script with their words, pipelines and subshells: quoting (`'…'`, `"…"`, `\`), line
 * continuations, comments, expansions (`$x`, `${…}`, `$(…)`, `` `…` ``, `$((…))`), redirections and heredoc bodies,
 * `&&`/`||`/`;`/`&`/`|`, `( … )`, `{ … }`, if/for/while/until/case, function definitions, and bash's `[[ … ]]`.
 *
 * Why not mvdan-sh (mvdan/sh compiled with GopherJS)? It parses correctly but every property read on its AST
 * externalises Go values: walking one short RUN costs milliseconds, more than parsing the whole Dockerfile.
 * mvdan-sh stays the oracle: test/server/rules/shellParser.test.ts checks this parser against it on the corpus.
 */

export interface ShWord {
  /** Quotes removed, escapes resolved; expansions kept as written (`$HOME`, `$(…)`). */
  value: string;
  line: number;
  col: number;
}

export interface ShCommand {
  words: ShWord[];
  assigns: string[];
  pipeIndex: number;
  pipeLength: number;
  /** First words of the commands before this one in its pipeline. */
  pipedFrom: string[];
  inSubshell: boolean;
}

export interface ShParseResult {
  commands: ShCommand[];
  hasPipe: boolean;
  firstPipeLine: number;
}

export class ShellSyntaxError extends Error {}

type Tok =
  | { kind: 'word'; value: string; raw: string; line: number; col: number; quoted: boolean }
  | { kind: 'op'; value: string; line: number; col: number }
  | { kind: 'nl'; line: number; col: number }
  | { kind: 'eof'; line: number; col: number };

const OPS = ['&&', '||', ';;&', ';;', ';&', '|&', '<<<', '<<-', '<<', '>>', '<&', '>&', '<>', '>|', '&>>', '&>', '&', '|', ';', '(', ')', '<', '>'];
const OP_START = new Set(['&', '|', ';', '(', ')', '<', '>']);
const NO_OPS: string[] = [];
const META = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', '{', '}', '!', 'function']);
const STOP_WORDS = new Set(['then', 'else', 'elif', 'fi', 'do', 'done', 'esac', '}']);

/** Not a word's end (META, `\r`) nor the start of an escape, quote or expansion. */
function isPlainWordChar(c: number): boolean {
  switch (c) {
    case 32: case 9: case 10: case 59: case 38: case 124: case 40: case 41: case 60: case 62: // META
    case 13: case 92: case 39: case 34: case 36: case 96: // \r \\ ' " $ `
      return false;
    default:
      return true;
  }
}

class Lexer {
  private pos = 0;
  private line = 0;
  private col = 0;
  private pendingHeredocs: { delim: string; strip: boolean }[] = [];
  /** Command substitutions met while lexing (`$(…)`, `` `…` ``): their text and where it starts. */
  readonly substitutions: { text: string; line: number; col: number }[] = [];

  constructor(private readonly src: string) {}

  private peekc(o = 0): string { return this.src[this.pos + o] ?? ''; }
  private advance(n = 1): void {
    for (let i = 0; i < n; i++) {
      if (this.src[this.pos] === '\n') { this.line++; this.col = 0; } else this.col++;
      this.pos++;
    }
  }

  /** Skips blanks, comments and line continuations. */
  private skipBlanks(): void {
    for (;;) {
      const c = this.peekc();
      if (c === ' ' || c === '\t' || c === '\r') { this.advance(); continue; }
      if (c === '\\' && this.peekc(1) === '\n') { this.advance(2); continue; }
      if (c === '\\' && this.peekc(1) === '\r' && this.peekc(2) === '\n') { this.advance(3); continue; }
      if (c === '#') { while (this.pos < this.src.length && this.peekc() !== '\n') this.advance(); continue; }
      return;
    }
  }

  next(): Tok {
    this.skipBlanks();
    const line = this.line;
    const col = this.col;
    if (this.pos >= this.src.length) return { kind: 'eof', line, col };
    const c = this.peekc();
    if (c === '\n') {
      this.advance();
      this.readHeredocBodies();
      return { kind: 'nl', line, col };
    }
    for (const op of OP_START.has(c) ? OPS : NO_OPS) {
      if (this.src.startsWith(op, this.pos)) {
        this.advance(op.length);
        if (op === '<<' || op === '<<-') {
          this.skipBlanks();
          const w = this.readWord();
          this.pendingHeredocs.push({ delim: w.value, strip: op === '<<-' });
          return { kind: 'op', value: op + '\u0000' + w.value, line, col };
        }
        return { kind: 'op', value: op, line, col };
      }
    }
    const w = this.readWord();
    // An IO number: digits directly followed by a redirection operator.
    if (/^\d+$/.test(w.raw) && (this.peekc() === '<' || this.peekc() === '>')) return this.next();
    return { kind: 'word', value: w.value, raw: w.raw, line, col, quoted: w.quoted };
  }

  private readHeredocBodies(): void {
    while (this.pendingHeredocs.length > 0) {
      const h = this.pendingHeredocs.shift()!;
      for (;;) {
        if (this.pos >= this.src.length) return;
        const end = this.src.indexOf('\n', this.pos);
        const lineText = this.src.slice(this.pos, end < 0 ? this.src.length : end).replace(/\r$/, '');
        this.advance((end < 0 ? this.src.length : end + 1) - this.pos);
        if ((h.strip ? lineText.replace(/^\t+/, '') : lineText) === h.delim) break;
      }
    }
  }

  private readWord(): { value: string; raw: string; quoted: boolean } {
    const start = this.pos;
    let value = '';
    let quoted = false;
    while (this.pos < this.src.length) {
      const c = this.peekc();
      if (META.has(c) || c === '\r') break;
      if (c === '\\') {
        const n = this.peekc(1);
        if (n === '\n') { this.advance(2); continue; }
        if (n === '') { this.advance(); break; }
        value += n;
        quoted = true;
        this.advance(2);
        continue;
      }
      if (c === "'") {
        quoted = true;
        this.advance();
        const end = this.src.indexOf("'", this.pos);
        if (end < 0) throw new ShellSyntaxError('unterminated single quote');
        value += this.src.slice(this.pos, end);
        this.advance(end + 1 - this.pos);
        continue;
      }
      if (c === '"') {
        quoted = true;
        this.advance();
        value += this.readDoubleQuoted();
        continue;
      }
      if (c === '$' || c === '`') { value += this.readExpansion(); continue; }
      // A run of plain characters, copied with one slice; none is a newline, so only the column moves.
      let end = this.pos + 1;
      while (end < this.src.length && isPlainWordChar(this.src.charCodeAt(end))) end++;
      value += this.src.slice(this.pos, end);
      this.col += end - this.pos;
      this.pos = end;
    }
    return { value, raw: this.src.slice(start, this.pos), quoted };
  }

  private readDoubleQuoted(): string {
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length) throw new ShellSyntaxError('unterminated double quote');
      const c = this.peekc();
      if (c === '"') { this.advance(); return out; }
      if (c === '\\') {
        const n = this.peekc(1);
        if (n === '\n') { this.advance(2); continue; }
        if (n === '$' || n === '`' || n === '"' || n === '\\') { out += n; this.advance(2); continue; }
        out += c;
        this.advance();
        continue;
      }
      if (c === '$' || c === '`') { out += this.readExpansion(); continue; }
      out += c;
      this.advance();
    }
  }

  /** `$name`, `${…}`, `$(…)`, `$((…))`, `` `…` ``: returned as written. */
  private readExpansion(): string {
    const start = this.pos;
    const c = this.peekc();
    if (c === '`') {
      this.advance();
      const line = this.line;
      const col = this.col;
      while (this.pos < this.src.length && this.peekc() !== '`') this.advance(this.peekc() === '\\' ? 2 : 1);
      if (this.pos >= this.src.length) throw new ShellSyntaxError('unterminated backquote');
      this.substitutions.push({ text: this.src.slice(start + 1, this.pos).replace(/\\([`$\\])/g, '$1'), line, col });
      this.advance();
      return this.src.slice(start, this.pos);
    }
    this.advance(); // $
    const n = this.peekc();
    if (n === '{') { this.skipBalanced('{', '}'); return this.src.slice(start, this.pos); }
    if (n === '(') {
      const arithmetic = this.peekc(1) === '(';
      const line = this.line;
      const col = this.col + 1;
      this.skipBalanced('(', ')');
      if (!arithmetic) this.substitutions.push({ text: this.src.slice(start + 2, this.pos - 1), line, col });
      return this.src.slice(start, this.pos);
    }
    if (/[A-Za-z_]/.test(n)) { while (/[A-Za-z0-9_]/.test(this.peekc())) this.advance(); return this.src.slice(start, this.pos); }
    if (/[0-9@*#?$!-]/.test(n)) { this.advance(); return this.src.slice(start, this.pos); }
    return '$';
  }

  /** From an opening bracket to its match, honouring quotes, escapes and nested expansions. */
  private skipBalanced(open: string, close: string): void {
    let depth = 0;
    while (this.pos < this.src.length) {
      const c = this.peekc();
      if (c === '\\') { this.advance(2); continue; }
      if (c === "'" && open === '(') {
        const end = this.src.indexOf("'", this.pos + 1);
        if (end < 0) throw new ShellSyntaxError('unterminated single quote');
        this.advance(end + 1 - this.pos);
        continue;
      }
      if (c === '"') { this.advance(); this.readDoubleQuoted(); continue; }
      if (c === '`') { this.readExpansion(); continue; }
      if (c === '$' && (this.peekc(1) === '(' || this.peekc(1) === '{')) { this.advance(); this.skipBalanced(this.peekc(), this.peekc() === '(' ? ')' : '}'); continue; }
      if (c === '#' && open === '(' && /[\s;(]/.test(this.src[this.pos - 1] ?? ' ')) {
        while (this.pos < this.src.length && this.peekc() !== '\n') this.advance();
        continue;
      }
      if (c === open) depth++;
      else if (c === close) {
        depth--;
        if (depth === 0) { this.advance(); return; }
      }
      this.advance();
    }
    throw new ShellSyntaxError(`unterminated ${open}`);
  }
}

class Parser {
  private tok: Tok;
  readonly out: ShParseResult = { commands: [], hasPipe: false, firstPipeLine: -1 };

  constructor(private readonly lex: Lexer) {
    this.tok = lex.next();
  }

  private advance(): Tok { const t = this.tok; this.tok = this.lex.next(); return t; }
  /** The current token, unnarrowed (advance() changes it behind TypeScript's back). */
  private cur(): Tok { return this.tok; }
  private isOp(v: string): boolean { return this.tok.kind === 'op' && this.tok.value === v; }
  private isWord(v: string): boolean { return this.tok.kind === 'word' && !this.tok.quoted && this.tok.value === v; }
  private skipNewlines(): void { while (this.tok.kind === 'nl') this.advance(); }
  private expectWord(v: string): void {
    if (!this.isWord(v)) throw new ShellSyntaxError(`expected ${v} at ${this.tok.line + 1}:${this.tok.col + 1}`);
    this.advance();
  }

  parseScript(): void {
    this.parseList(false, new Set());
    if (this.tok.kind !== 'eof') throw new ShellSyntaxError(`unexpected ${this.describe()} at ${this.tok.line + 1}:${this.tok.col + 1}`);
  }

  private describe(): string {
    return this.tok.kind === 'word' ? `"${this.tok.value}"` : this.tok.kind === 'op' ? `"${this.tok.value.split('\u0000')[0]}"` : this.tok.kind;
  }

  /** A list of and-or lists separated by `;`, `&` or newlines, until a stop word, `)` or EOF. */
  private parseList(inSubshell: boolean, stops: Set<string>): void {
    for (;;) {
      this.skipNewlines();
      if (this.tok.kind === 'eof' || this.isOp(')') || this.isOp(';;') || this.isOp(';&') || this.isOp(';;&')) return;
      if (this.tok.kind === 'word' && !this.tok.quoted && (STOP_WORDS.has(this.tok.value) || stops.has(this.tok.value))) return;
      this.parseAndOr(inSubshell);
      if (this.isOp(';') || this.isOp('&')) { this.advance(); continue; }
      if (this.tok.kind === 'nl') continue;
      return;
    }
  }

  private parseAndOr(inSubshell: boolean): void {
    this.parsePipeline(inSubshell);
    while (this.isOp('&&') || this.isOp('||')) {
      this.advance();
      this.skipNewlines();
      this.parsePipeline(inSubshell);
    }
  }

  private parsePipeline(inSubshell: boolean): void {
    if (this.isWord('!')) this.advance();
    const line = this.tok.line;
    const parts: ShCommand[][] = [];
    const startCount = this.out.commands.length;
    const collect = () => {
      const before = this.out.commands.length;
      this.parseCommand(inSubshell);
      parts.push(this.out.commands.slice(before));
    };
    collect();
    while (this.isOp('|') || this.isOp('|&')) {
      this.advance();
      this.skipNewlines();
      collect();
    }
    if (parts.length > 1) {
      if (!this.out.hasPipe) this.out.firstPipeLine = line;
      this.out.hasPipe = true;
      const names = parts.map((p) => p[0]?.words[0]?.value ?? '');
      parts.forEach((cmds, i) => {
        for (const c of cmds) { c.pipeIndex = i; c.pipeLength = parts.length; c.pipedFrom = names.slice(0, i); }
      });
    }
    void startCount;
  }

  private parseCommand(inSubshell: boolean): void {
    const t = this.tok;
    if (t.kind === 'op' && t.value === '(') {
      this.advance();
      if (this.isOp('(')) throw new ShellSyntaxError('arithmetic command (( )) is not supported');
      this.parseList(true, new Set());
      if (!this.isOp(')')) throw new ShellSyntaxError(`expected ) at ${this.tok.line + 1}:${this.tok.col + 1}`);
      this.advance();
      this.parseRedirects();
      return;
    }
    if (t.kind === 'word' && !t.quoted) {
      switch (t.value) {
        case '{': this.advance(); this.parseList(inSubshell, new Set()); this.expectWord('}'); this.parseRedirects(); return;
        case 'if': {
          this.advance();
          this.parseList(inSubshell, new Set()); this.expectWord('then'); this.parseList(inSubshell, new Set());
          while (this.isWord('elif')) { this.advance(); this.parseList(inSubshell, new Set()); this.expectWord('then'); this.parseList(inSubshell, new Set()); }
          if (this.isWord('else')) { this.advance(); this.parseList(inSubshell, new Set()); }
          this.expectWord('fi');
          this.parseRedirects();
          return;
        }
        case 'while': case 'until':
          this.advance(); this.parseList(inSubshell, new Set()); this.expectWord('do'); this.parseList(inSubshell, new Set()); this.expectWord('done'); this.parseRedirects();
          return;
        case 'for': {
          this.advance();
          if (this.tok.kind !== 'word') throw new ShellSyntaxError('expected a name after for');
          this.advance();
          this.skipNewlines();
          if (this.isWord('in')) { this.advance(); while (this.tok.kind === 'word') this.advance(); }
          if (this.isOp(';')) this.advance();
          this.skipNewlines();
          this.expectWord('do'); this.parseList(inSubshell, new Set()); this.expectWord('done'); this.parseRedirects();
          return;
        }
        case 'case': {
          this.advance();
          if (this.tok.kind !== 'word') throw new ShellSyntaxError('expected a word after case');
          this.advance();
          this.skipNewlines();
          this.expectWord('in');
          for (;;) {
            this.skipNewlines();
            if (this.isWord('esac')) { this.advance(); break; }
            if (this.isOp('(')) this.advance();
            // Pattern words separated by `|`, up to `)`.
            while (!this.isOp(')')) {
              if (this.cur().kind === 'eof') throw new ShellSyntaxError('unterminated case pattern');
              this.advance();
            }
            this.advance();
            this.parseList(inSubshell, new Set(['esac']));
            if (this.isOp(';;') || this.isOp(';&') || this.isOp(';;&')) this.advance();
          }
          this.parseRedirects();
          return;
        }
        case 'function': {
          this.advance();
          this.advance(); // name
          if (this.isOp('(')) { this.advance(); if (!this.isOp(')')) throw new ShellSyntaxError('expected )'); this.advance(); }
          this.skipNewlines();
          this.parseCommand(inSubshell);
          return;
        }
        case '[[': {
          const words: ShWord[] = [];
          while (!(this.tok.kind === 'word' && this.tok.value === ']]')) {
            if (this.tok.kind === 'eof') throw new ShellSyntaxError('unterminated [[');
            const w = this.advance();
            if (w.kind === 'word') words.push({ value: w.value, line: w.line, col: w.col });
          }
          words.push({ value: ']]', line: this.tok.line, col: this.tok.col });
          this.advance();
          this.out.commands.push({ words, assigns: [], pipeIndex: 0, pipeLength: 1, pipedFrom: [], inSubshell });
          this.parseRedirects();
          return;
        }
        default:
          break;
      }
    }
    this.parseSimple(inSubshell);
  }

  private parseRedirects(): void {
    while (this.tok.kind === 'op' && isRedirect(this.tok.value)) {
      const op = this.advance();
      if (op.kind === 'op' && !op.value.includes('\u0000')) {
        if (this.cur().kind !== 'word') throw new ShellSyntaxError('expected a redirection target');
        this.advance();
      }
    }
  }

  private parseSimple(inSubshell: boolean): void {
    const words: ShWord[] = [];
    const assigns: string[] = [];
    for (;;) {
      const t = this.tok;
      if (t.kind === 'op' && isRedirect(t.value)) { this.parseRedirects(); continue; }
      if (t.kind !== 'word') break;
      if (words.length === 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(t.raw)) { assigns.push(t.value); this.advance(); continue; }
      // A function definition `name() compound`.
      if (words.length === 0 && assigns.length === 0 && !t.quoted && !RESERVED.has(t.value)) {
        this.advance();
        if (this.isOp('(')) {
          this.advance();
          if (!this.isOp(')')) throw new ShellSyntaxError('expected ) in function definition');
          this.advance();
          this.skipNewlines();
          this.parseCommand(inSubshell);
          return;
        }
        words.push({ value: t.value, line: t.line, col: t.col });
        continue;
      }
      words.push({ value: t.value, line: t.line, col: t.col });
      this.advance();
    }
    if (words.length === 0 && assigns.length === 0) {
      throw new ShellSyntaxError(`unexpected ${this.describe()} at ${this.tok.line + 1}:${this.tok.col + 1}`);
    }
    if (words.length > 0) this.out.commands.push({ words, assigns, pipeIndex: 0, pipeLength: 1, pipedFrom: [], inSubshell });
  }
}

function isRedirect(op: string): boolean {
  return /^(<<<|<<-?\u0000|>>|<&|>&|<>|>\||&>>|&>|<|>)/.test(op);
}

/** Parses a script; throws ShellSyntaxError on input the grammar does not accept. */
export function parseShellScript(src: string, depth = 0): ShParseResult {
  const lexer = new Lexer(src);
  const p = new Parser(lexer);
  p.parseScript();
  // Commands inside command substitutions run too (`v="$(apt-mark showmanual)"`): parse them in place, nested
  // ones included, and keep source order.
  if (depth < 8 && lexer.substitutions.length > 0) {
    for (const sub of lexer.substitutions) {
      let inner: ShParseResult;
      try { inner = parseShellScript(sub.text, depth + 1); } catch { continue; }
      for (const c of inner.commands) {
        for (const w of c.words) { if (w.line === 0) w.col += sub.col; w.line += sub.line; }
        c.inSubshell = true;
        p.out.commands.push(c);
      }
    }
    p.out.commands.sort((a, b) => a.words[0].line - b.words[0].line || a.words[0].col - b.words[0].col);
  }
  return p.out;
}
