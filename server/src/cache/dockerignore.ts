/**
 * `.dockerignore` matching with moby/patternmatcher semantics (what the docker CLI and BuildKit's fsutil walker use):
 * lines are trimmed, `#` lines and blanks skipped, `!` marks an exception, patterns are cleaned (leading `/` and `./`
 * dropped); `*` and `?` stay within a path segment, `**` spans segments, `[...]` classes and `\` escapes work.
 * A path is excluded when the last pattern that matches it or one of its parent directories is not an exception.
 */
export interface IgnorePattern { exclusion: boolean; re: RegExp; text: string }

export class DockerIgnore {
  readonly patterns: IgnorePattern[];
  readonly hasExceptions: boolean;
  private static readonly recent = new Map<string, DockerIgnore>();

  /**
   * The matcher for `text`, shared with earlier calls for the same text (the last few texts are kept). Rules ask
   * for it on every diagnostics run, and compiling the patterns was a visible part of a keystroke's check.
   * Matchers hold no state between calls (`excludes` uses non-global RegExps), so sharing one is safe.
   */
  static of(text: string): DockerIgnore {
    let m = DockerIgnore.recent.get(text);
    if (m) return m;
    m = new DockerIgnore(text);
    DockerIgnore.recent.set(text, m);
    if (DockerIgnore.recent.size > 8) DockerIgnore.recent.delete(DockerIgnore.recent.keys().next().value as string);
    return m;
  }

  constructor(text: string) {
    this.patterns = [];
    for (let line of text.split(/\r?\n/)) {
      line = line.trim();
      if (!line || line.startsWith('#')) continue;
      let exclusion = false;
      if (line.startsWith('!')) {
        exclusion = true;
        line = line.slice(1).trim();
        if (!line) continue;
      }
      const cleaned = cleanPath(line);
      if (cleaned === '.' ) { this.patterns.push({ exclusion, re: /^.*$/, text: line }); continue; }
      this.patterns.push({ exclusion, re: compile(cleaned), text: line });
    }
    this.hasExceptions = this.patterns.some((p) => p.exclusion);
  }

  /** Relative slash path, no leading `./`. */
  excludes(rel: string): boolean {
    let matched = false;
    const parts = rel.split('/');
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let m = p.re.test(rel);
      if (!m) {
        for (let i = 1; i < parts.length && !m; i++) m = p.re.test(parts.slice(0, i).join('/'));
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  /** Whether a walker must still descend into an excluded directory (an exception could match below it). */
  mayIncludeBelow(dir: string): boolean {
    if (!this.hasExceptions) return false;
    return this.patterns.some((p) => p.exclusion && (p.text.includes('**') || cleanPath(p.text).startsWith(dir + '/') || /[*?[]/.test(p.text)));
  }
}

/** filepath.Clean for slash paths, then leading `/` dropped (patterns are context-relative). */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (!seg || seg === '.') continue;
    if (seg === '..') { out.pop(); continue; }
    out.push(seg);
  }
  return out.length ? out.join('/') : '.';
}

function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) { re += escapeRe(pattern[i + 1]!); i++; }
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) { re += '\\['; continue; }
      let cls = pattern.slice(i + 1, close);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(re + '$');
  } catch {
    // An odd pattern BuildKit would reject: match nothing rather than crash.
    return /(?!)/;
  }
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

/** Go's filepath.Match for one COPY source segment pattern (no `**`; `*` does not cross `/`). */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) { re += escapeRe(pattern[i + 1]!); i++; }
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) { re += '\\['; continue; }
      let cls = pattern.slice(i + 1, close);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += `[${cls}]`;
      i = close;
    } else re += escapeRe(c);
  }
  try { return new RegExp(re + '$'); } catch { return /(?!)/; }
}

export function hasWildcard(p: string): boolean {
  return /[*?[]/.test(p);
}
