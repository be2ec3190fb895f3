/**
 * Variable expansion as BuildKit's shell lexer does it for Dockerfile instructions (moby/buildkit
 * frontend/dockerfile/shell/lex.go): `$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`, `${V:?w}`, `${V?w}`,
 * single quotes literal, double quotes expand, the escape character (`\` or the `# escape=` one) quotes the next char.
 * Words are split on unquoted whitespace. Unknown variables expand to '' (BuildKit does the same), and are reported.
 */
export type VarLookup = (name: string) => string | undefined;

export interface Expansion {
  words: string[];
  /** Every variable name the text referenced (set or not). */
  used: Set<string>;
  /** Referenced but unset. */
  undefinedVars: Set<string>;
  /** `${V:?msg}` on an unset variable: BuildKit fails the build with this message. */
  error?: string;
}

export function expandWords(text: string, lookup: VarLookup, escape = '\\', split = true): Expansion {
  const used = new Set<string>();
  const undefinedVars = new Set<string>();
  const words: string[] = [];
  let error: string | undefined;
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = text.length;

  const readName = (): string => {
    let name = '';
    if (i < n && /[0-9*#?$!@-]/.test(text[i]!)) return text[i++]!; // special/positional parameters: one char
    while (i < n && /[A-Za-z0-9_]/.test(text[i]!)) name += text[i++]!;
    return name;
  };

  const get = (name: string): string | undefined => {
    used.add(name);
    const v = lookup(name);
    if (v === undefined) undefinedVars.add(name);
    return v;
  };

  // Expands `$…` with i just after the `$`; returns the value to append.
  const dollar = (): string => {
    if (i >= n) return '$';
    if (text[i] === '{') {
      i++;
      const name = readName();
      if (!name) {
        // `${}` or `${#…}`: BuildKit rejects most; keep the text literally.
        const close = text.indexOf('}', i);
        const raw = text.slice(i - 2, close < 0 ? n : close + 1);
        i = close < 0 ? n : close + 1;
        return raw;
      }
      if (text[i] === '}') {
        i++;
        return get(name) ?? '';
      }
      let op = text[i]!;
      i++;
      if (op === ':') {
        op = ':' + (text[i] ?? '');
        i++;
      }
      // The word after the operator runs to the matching brace and is itself expanded.
      let depth = 1;
      let word = '';
      while (i < n) {
        const c = text[i]!;
        if (c === escape && i + 1 < n) { word += c + text[i + 1]; i += 2; continue; }
        if (c === '{') depth++;
        if (c === '}' && --depth === 0) break;
        word += c;
        i++;
      }
      i++; // the closing brace
      const inner = () => expandWords(word, lookup, escape, false);
      const v = get(name);
      const take = (): string => {
        const e = inner();
        e.used.forEach((u) => used.add(u));
        e.undefinedVars.forEach((u) => undefinedVars.add(u));
        return e.words.join('');
      };
      switch (op) {
        case ':-': return v === undefined || v === '' ? take() : v;
        case '-': return v === undefined ? take() : v;
        case ':+': return v === undefined || v === '' ? '' : take();
        case '+': return v === undefined ? '' : take();
        case ':?': if (v === undefined || v === '') { error ??= `${name}: ${take() || 'is not allowed to be empty'}`; return ''; } return v;
        case '?': if (v === undefined) { error ??= `${name}: ${take() || 'is not allowed to be unset'}`; return ''; } return v;
        default: return v ?? ''; // `${V#p}`-style operators: newer BuildKit only; approximate by the value
      }
    }
    const name = readName();
    if (!name) return '$';
    return get(name) ?? '';
  };

  while (i < n) {
    const c = text[i]!;
    if (split && /\s/.test(c)) {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      i++;
      continue;
    }
    if (c === '$' && split) {
      // Unquoted expansion: its value is split on whitespace too (lex.go splits after substituting), and an
      // empty value makes no word.
      i++;
      for (const ch of dollar()) {
        if (/\s/.test(ch)) { if (inWord) { words.push(cur); cur = ''; inWord = false; } } else { cur += ch; inWord = true; }
      }
      continue;
    }
    inWord = true;
    if (c === escape) {
      if (i + 1 < n) cur += text[i + 1];
      i += 2;
      continue;
    }
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      cur += text.slice(i + 1, close < 0 ? n : close);
      i = close < 0 ? n : close + 1;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        const d = text[i]!;
        if (d === escape && i + 1 < n && /["$`\\]/.test(text[i + 1]!)) { cur += text[i + 1]; i += 2; continue; }
        if (d === '$') { i++; cur += dollar(); continue; }
        cur += d;
        i++;
      }
      i++;
      continue;
    }
    if (c === '$') {
      i++;
      cur += dollar();
      continue;
    }
    cur += c;
    i++;
  }
  if (inWord) words.push(cur);
  return { words: split ? words : [words.join('')], used, undefinedVars, ...(error ? { error } : {}) };
}

/** One word, no splitting (WORKDIR, USER, a flag value…). */
export function expandWord(text: string, lookup: VarLookup, escape = '\\'): Expansion & { value: string } {
  const e = expandWords(text, lookup, escape, false);
  return { ...e, value: e.words[0] ?? '' };
}
