/**
 * Semantic tokens for a Dockerfile in one linear pass over the text, with dockerfile-language-service's legend.
 *
 * Why our own: dockerfile-language-service's producer is quadratic in the variables of one instruction (2,000 `$A`
 * take seconds) and in the lines of one continued instruction (a 10,000-line `RUN` never finishes), and editors ask
 * for tokens after every edit. This lexer looks at each character a bounded number of times, so a 3,000-line file
 * takes a few milliseconds. Multi-line constructs are emitted per line (clients need not support multi-line tokens).
 */
import { SemanticTokenModifiers, SemanticTokenTypes } from 'vscode-languageserver';

export const SEMANTIC_TOKENS_LEGEND = {
  tokenTypes: [
    SemanticTokenTypes.keyword, SemanticTokenTypes.comment, SemanticTokenTypes.parameter, SemanticTokenTypes.property,
    SemanticTokenTypes.namespace, SemanticTokenTypes.class, SemanticTokenTypes.macro, SemanticTokenTypes.string,
    SemanticTokenTypes.variable, SemanticTokenTypes.operator, SemanticTokenTypes.modifier,
  ] as string[],
  tokenModifiers: [SemanticTokenModifiers.declaration, SemanticTokenModifiers.definition, SemanticTokenModifiers.deprecated] as string[],
};

const enum T { keyword, comment, parameter, property, namespace, class_, macro, string, variable, operator, modifier }
const DECLARATION = 1;
const DEPRECATED = 4;

const INSTRUCTIONS = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD',
  'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);
const HEREDOC_INSTRUCTIONS = new Set(['RUN', 'COPY', 'ADD']);
const DIRECTIVE = /^(\s*#\s*)([A-Za-z][A-Za-z0-9_-]*)(\s*)=(\s*)(.*?)\s*$/;

/** Builds the relative encoding (deltaLine, deltaStart, length, type, modifiers) while tokens arrive in order. */
class TokenSink {
  /** A growable Uint32Array: appending to a plain array of this size costs far more (GC copies of a boxed store). */
  private buf = new Uint32Array(1024);
  private size = 0;
  private lastLine = 0;
  private lastChar = 0;

  push(line: number, char: number, length: number, type: T, modifiers = 0): void {
    if (length <= 0) return;
    const deltaLine = line - this.lastLine;
    if (deltaLine < 0 || (deltaLine === 0 && char < this.lastChar)) return; // never out of order
    if (this.size + 5 > this.buf.length) {
      const bigger = new Uint32Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    const d = this.buf;
    const n = this.size;
    d[n] = deltaLine;
    d[n + 1] = deltaLine === 0 ? char - this.lastChar : char;
    d[n + 2] = length;
    d[n + 3] = type;
    d[n + 4] = modifiers;
    this.size = n + 5;
    this.lastLine = line;
    this.lastChar = char;
  }

  get data(): number[] {
    // A plain copy loop: Array.from over a typed array is several times slower.
    const out = new Array<number>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.buf[i];
    return out;
  }
}

interface InstructionState {
  keyword: string;
  /** Words seen so far in the instruction (flags excluded), across continuation lines. */
  words: number;
  /** Still before the first non-flag word. */
  inFlags: boolean;
  heredocs: { name: string; stripTabs: boolean }[];
}

export function computeSemanticTokens(text: string): { data: number[] } {
  const sink = new TokenSink();
  let escape = '\\';
  let directivesOpen = true;
  let current: InstructionState | null = null;
  let continuing = false;
  let pendingHeredocs: { name: string; stripTabs: boolean }[] = [];
  let line = 0;
  let start = 0;
  const n = text.length;
  while (start <= n) {
    let end = start;
    while (end < n && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
    const lineText = text.slice(start, end);
    const breakLength = end >= n ? 0 : text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10 ? 2 : 1;

    if (pendingHeredocs.length > 0) {
      // Heredoc body: the shell/file content is the TextMate grammar's business; only the terminator line matters.
      const h = pendingHeredocs[0];
      const candidate = h.stripTabs ? lineText.replace(/^\t+/, '') : lineText;
      if (candidate === h.name) pendingHeredocs.shift();
    } else if (directivesOpen && !continuing && DIRECTIVE.test(lineText)) {
      const m = DIRECTIVE.exec(lineText)!;
      const name = m[2];
      const nameAt = m[1].length;
      const opAt = nameAt + name.length + m[3].length;
      sink.push(line, 0, m[1].length, T.comment);
      sink.push(line, nameAt, name.length, T.property);
      sink.push(line, opAt, 1, T.operator);
      sink.push(line, opAt + 1 + m[4].length, m[5].length, T.parameter);
      if (name.toLowerCase() === 'escape' && (m[5] === '`' || m[5] === '\\')) escape = m[5];
    } else {
      directivesOpen = false;
      let i = 0;
      while (i < lineText.length && isSpace(lineText.charCodeAt(i))) i++;
      if (i >= lineText.length) {
        // An empty line ends nothing: inside a continuation Docker skips it.
      } else if (lineText.charCodeAt(i) === 35 /* # */) {
        sink.push(line, i, lineText.length - i, T.comment);
      } else {
        if (!continuing) {
          let w = i;
          while (w < lineText.length && !isSpace(lineText.charCodeAt(w))) w++;
          const word = lineText.slice(i, w);
          const keyword = word.toUpperCase();
          sink.push(line, i, w - i, T.keyword, keyword === 'MAINTAINER' ? DEPRECATED : 0);
          current = { keyword, words: 0, inFlags: true, heredocs: [] };
          i = w;
        }
        continuing = lexArguments(sink, line, lineText, i, current!, escape);
        if (!continuing) {
          pendingHeredocs = current!.heredocs;
          current = null;
        }
      }
    }
    if (breakLength === 0) break;
    start = end + breakLength;
    line++;
  }
  return { data: sink.data };
}

/** Lexes one physical line of an instruction's arguments from `i`; returns whether the line continues. */
function lexArguments(sink: TokenSink, line: number, s: string, i: number, st: InstructionState, escape: string): boolean {
  // The continuation marker: the escape character as the last non-blank character of the line.
  let last = s.length - 1;
  while (last >= i && isSpace(s.charCodeAt(last))) last--;
  const continues = last >= i && s[last] === escape && (last === 0 || s[last - 1] !== escape || countEscapes(s, last, escape) % 2 === 1);
  const limit = continues ? last : s.length;
  while (i < limit) {
    while (i < limit && isSpace(s.charCodeAt(i))) i++;
    if (i >= limit) break;
    let w = i;
    let quote = 0;
    while (w < limit) {
      const c = s.charCodeAt(w);
      if (quote === 0 && isSpace(c)) break;
      if (s[w] === escape) { w += 2; continue; }
      if (c === 34 || c === 39) quote = quote === c ? 0 : quote === 0 ? c : quote;
      w++;
    }
    if (w > limit) w = limit;
    lexWord(sink, line, s, i, w, st, escape);
    i = w;
  }
  if (continues) sink.push(line, last, 1, T.macro);
  return continues;
}

function countEscapes(s: string, at: number, escape: string): number {
  let k = 0;
  while (at - k >= 0 && s[at - k] === escape) k++;
  return k;
}

function lexWord(sink: TokenSink, line: number, s: string, from: number, to: number, st: InstructionState, escape: string): void {
  const word = s.slice(from, to);
  if (st.inFlags && /^--[A-Za-z]/.test(word)) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      sink.push(line, from, word.length, T.parameter);
    } else {
      sink.push(line, from, eq, T.parameter);
      sink.push(line, from + eq, 1, T.operator);
      lexValue(sink, line, s, from + eq + 1, to, escape, T.property);
    }
    return;
  }
  st.inFlags = false;
  const index = st.words++;
  switch (st.keyword) {
    case 'FROM':
      if (index === 0) return lexImage(sink, line, s, from, to, escape);
      if (index === 1 && word.toUpperCase() === 'AS') return sink.push(line, from, to - from, T.keyword);
      if (index === 2) return sink.push(line, from, to - from, T.namespace);
      break;
    case 'ARG':
    case 'ENV':
    case 'LABEL': {
      const eq = word.indexOf('=');
      const isName = eq > 0 || (st.keyword === 'ARG') || (st.keyword === 'ENV' && index === 0);
      if (isName && !word.startsWith('"') && !word.startsWith("'")) {
        const nameEnd = eq > 0 ? eq : word.length;
        sink.push(line, from, nameEnd, st.keyword === 'LABEL' ? T.property : T.variable, st.keyword === 'LABEL' ? 0 : DECLARATION);
        if (eq > 0) {
          sink.push(line, from + eq, 1, T.operator);
          lexValue(sink, line, s, from + eq + 1, to, escape, T.parameter);
        }
        return;
      }
      break;
    }
    case 'ONBUILD':
      if (index === 0 && INSTRUCTIONS.has(word.toUpperCase())) {
        sink.push(line, from, to - from, T.keyword);
        st.keyword = word.toUpperCase();
        st.words = 0;
        st.inFlags = true;
        return;
      }
      break;
  }
  if (HEREDOC_INSTRUCTIONS.has(st.keyword) && word.startsWith('<<') && word.length > 2) {
    const m = /^<<(-?)(["']?)([A-Za-z0-9_.-]+)\2$/.exec(word);
    if (m) {
      const opLength = 2 + m[1].length;
      sink.push(line, from, opLength, T.operator);
      sink.push(line, from + opLength, word.length - opLength, T.string);
      st.heredocs.push({ name: m[3], stripTabs: m[1] === '-' });
      return;
    }
  }
  lexValue(sink, line, s, from, to, escape, T.parameter);
}

function lexImage(sink: TokenSink, line: number, s: string, from: number, to: number, escape: string): void {
  const word = s.slice(from, to);
  if (word.includes('$')) return lexValue(sink, line, s, from, to, escape, T.class_);
  const at = word.indexOf('@');
  const nameEnd = at >= 0 ? at : word.length;
  const slash = word.lastIndexOf('/', nameEnd);
  const colon = word.indexOf(':', slash + 1);
  const imageEnd = colon >= 0 && colon < nameEnd ? colon : nameEnd;
  sink.push(line, from, imageEnd, T.class_);
  if (imageEnd < nameEnd) sink.push(line, from + imageEnd + 1, nameEnd - imageEnd - 1, T.property);
  if (at >= 0) sink.push(line, from + at + 1, word.length - at - 1, T.property);
}

/**
 * A value: quoted parts are strings, `$NAME` / `${NAME…}` are variables, the rest has `type`. Each character is
 * looked at once (the `${…}` scan stops at the word's end).
 */
function lexValue(sink: TokenSink, line: number, s: string, from: number, to: number, escape: string, type: T): void {
  let runStart = from;
  let runType: T = type;
  let quote = 0;
  const flush = (at: number) => {
    if (at > runStart) sink.push(line, runStart, at - runStart, runType);
    runStart = at;
  };
  let i = from;
  while (i < to) {
    const c = s.charCodeAt(i);
    if (s[i] === escape && i + 1 < to) { i += 2; continue; }
    if ((c === 34 || c === 39) && (quote === 0 || quote === c)) {
      if (quote === 0) {
        flush(i);
        quote = c;
        runType = T.string;
        i++;
      } else {
        i++;
        flush(i);
        quote = 0;
        runType = type;
      }
      continue;
    }
    if (c === 36 /* $ */ && quote !== 39 && i + 1 < to) {
      const next = s.charCodeAt(i + 1);
      if (next === 123 /* { */) {
        let close = i + 2;
        while (close < to && s.charCodeAt(close) !== 125) close++;
        if (close < to) {
          flush(i);
          lexBraced(sink, line, s, i, close + 1);
          runStart = close + 1;
          i = close + 1;
          continue;
        }
      } else if (isNameStart(next)) {
        let e = i + 2;
        while (e < to && isNameChar(s.charCodeAt(e))) e++;
        flush(i);
        sink.push(line, i, e - i, T.variable);
        runStart = e;
        i = e;
        continue;
      }
    }
    i++;
  }
  flush(to);
}

/** `${NAME}`, `${NAME:-word}`, `${NAME:+word}`: the name as variable, `:-`/`:+` as operator and modifier. */
function lexBraced(sink: TokenSink, line: number, s: string, from: number, to: number): void {
  let e = from + 2;
  while (e < to - 1 && isNameChar(s.charCodeAt(e))) e++;
  if (e < to - 1 && s.charCodeAt(e) === 58 /* : */ && e + 1 < to - 1) {
    sink.push(line, from, e - from, T.variable);
    sink.push(line, e, 1, T.operator);
    sink.push(line, e + 1, 1, T.modifier);
    sink.push(line, e + 2, to - e - 2, T.variable);
  } else {
    sink.push(line, from, to - from, T.variable);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}
