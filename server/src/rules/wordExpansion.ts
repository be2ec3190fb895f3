/**
 * Variable expansion of Dockerfile words as BuildKit's shell.Lex does it (ProcessWordWithMatches): quotes, the
 * escape token, `$name`, `${name}`, `${name:-word}`, `${name:+word}`, `${name?}`, `${name#…}`/`%`, `${name/a/b}`.
 * Besides the result it records which names were looked up and found (`matched`) or not (`unmatched`) — BuildKit's
 * UndefinedVar and UndefinedArgInFrom checks are defined on exactly these sets.
 */
export interface VarEnv {
  get(name: string): string | undefined;
  keys(): string[];
}

export interface WordResult {
  result: string;
  /** Split words (ProcessWords), only when requested. */
  words: string[];
  matched: ReadonlySet<string>;
  unmatched: ReadonlySet<string>;
  error: string | null;
}

const NONE: ReadonlySet<string> = new Set();

export function mapEnv(map: ReadonlyMap<string, string>): VarEnv {
  return { get: (k) => map.get(k), keys: () => [...map.keys()] };
}

const SPECIAL = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

export function processWord(word: string, env: VarEnv, escape = '\\', split = false): WordResult {
  // Most words are literal (no quote, `$` or escape; when splitting, no whitespace either): the loop below would copy
  // each character into the result and look up nothing.
  if (isLiteral(word, escape, split)) return { result: word, words: split && word !== '' ? [word] : [], matched: NONE, unmatched: NONE, error: null };
  let matched: Set<string> | undefined; // created at the first lookup: most quoted words look up nothing
  let unmatched: Set<string> | undefined;
  const words: string[] = [];
  let cur = '';
  let curStarted = false;
  let pos = 0;
  let error: string | null = null;

  const getEnv = (name: string): string | undefined => {
    const v = env.get(name);
    if (v !== undefined) (matched ??= new Set()).add(name);
    else (unmatched ??= new Set()).add(name);
    return v;
  };

  const processName = (): string => {
    let name = '';
    if (pos < word.length && /[0-9]/.test(word[pos])) {
      while (pos < word.length && /[0-9]/.test(word[pos])) name += word[pos++];
      return name;
    }
    if (pos < word.length && SPECIAL.has(word[pos])) return word[pos++];
    while (pos < word.length && /[\p{L}\p{N}_]/u.test(word[pos])) name += word[pos++];
    return name;
  };

  // Reads until `stop` (not consumed past), expanding nested variables; used for ${x:-word}.
  const processStopOn = (stop: string): string => {
    let out = '';
    while (pos < word.length) {
      const ch = word[pos];
      if (ch === stop) { pos++; return out; }
      if (ch === escape && pos + 1 < word.length) { out += word[pos + 1]; pos += 2; continue; }
      if (ch === '$') { out += processDollar(); continue; }
      out += ch;
      pos++;
    }
    error = `syntax error: missing '${stop}'`;
    return out;
  };

  const processDollar = (): string => {
    pos++; // '$'
    if (word[pos] !== '{') {
      const name = processName();
      if (name === '') return '$';
      return getEnv(name) ?? '';
    }
    pos++; // '{'
    const first = word[pos];
    if (first === undefined) { error = "syntax error: missing '}'"; return ''; }
    if (first === '{' || first === '}' || first === ':') { error = 'syntax error: bad substitution'; return ''; }
    const name = processName();
    let ch = word[pos++];
    if (ch === '}') return getEnv(name) ?? '';
    let nullIsUnset = false;
    if (ch === ':') { nullIsUnset = true; ch = word[pos++]; }
    if (ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%') {
      const w = processStopOn('}');
      const value = getEnv(name);
      const set = value !== undefined;
      switch (ch) {
        case '-': return !set || (nullIsUnset && value === '') ? w : value;
        case '+': return !set || (nullIsUnset && value === '') ? '' : w;
        case '?':
          if (!set || (nullIsUnset && value === '')) error = `${name}: ${w || 'is not allowed to be unset'}`;
          return value ?? '';
        default: return value ?? '';
      }
    }
    if (ch === '/') {
      if (word[pos] === '/') pos++;
      processStopOn('/');
      processStopOn('}');
      return getEnv(name) ?? '';
    }
    error = `unsupported modifier (${ch ?? ''}) in substitution`;
    while (pos < word.length && word[pos] !== '}') pos++;
    pos++;
    return '';
  };

  while (pos < word.length) {
    const ch = word[pos];
    if (split && /\s/.test(ch)) {
      if (curStarted || cur.length > 0) words.push(cur);
      cur = '';
      curStarted = false;
      pos++;
      continue;
    }
    if (ch === "'") {
      curStarted = true;
      pos++;
      while (pos < word.length && word[pos] !== "'") cur += word[pos++];
      if (pos >= word.length) error = 'unexpected end of statement while looking for matching single-quote';
      pos++;
      continue;
    }
    if (ch === '"') {
      curStarted = true;
      pos++;
      while (pos < word.length && word[pos] !== '"') {
        const c = word[pos];
        if (c === '$') { cur += processDollar(); continue; }
        if (c === escape && pos + 1 < word.length) {
          const nx = word[pos + 1];
          // Inside double quotes only these are escapable; otherwise the escape char stays.
          if (nx === '"' || nx === '$' || nx === escape) { cur += nx; pos += 2; continue; }
        }
        cur += c;
        pos++;
      }
      if (pos >= word.length) error = 'unexpected end of statement while looking for matching double-quote';
      pos++;
      continue;
    }
    if (ch === '$') { cur += processDollar(); curStarted = true; continue; }
    if (ch === escape) {
      if (pos + 1 < word.length) { cur += word[pos + 1]; pos += 2; curStarted = true; continue; }
      pos++;
      continue;
    }
    cur += ch;
    pos++;
  }
  if (split && (curStarted || cur.length > 0)) words.push(cur);
  return { result: cur, words, matched: matched ?? NONE, unmatched: unmatched ?? NONE, error };
}

function isLiteral(word: string, escape: string, split: boolean): boolean {
  const esc = escape.length === 1 ? escape.charCodeAt(0) : -1;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c === 39 || c === 34 || c === 36 || c === esc) return false; // ' " $ escape
    if (split && /\s/.test(word[i])) return false;
  }
  return true;
}

/** Levenshtein distance (insert/delete/substitute cost 1), as agext/levenshtein with default params. */
export function levenshtein(a: string, b: string): number {
  const ar = [...a];
  const br = [...b];
  let prev = Array.from({ length: br.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ar.length; i++) {
    const cur = [i];
    for (let j = 1; j <= br.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ar[i - 1] === br[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[br.length];
}

/** BuildKit's suggest.Search: the closest option at distance < 3, "" when an option equals the value. */
export function suggest(val: string, options: Iterable<string>, caseSensitive = true): string {
  const v = caseSensitive ? val : val.toLowerCase();
  let match = '';
  let min = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return '';
    const d = levenshtein(v, opt);
    if (d < min) { match = opt; min = d; }
  }
  return match;
}
