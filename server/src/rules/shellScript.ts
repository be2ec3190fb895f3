/**
 * The shell script of a RUN instruction, parsed with a POSIX shell grammar (shellParser.ts) into its simple
 * commands. Rules ask "which commands run, in which order, which are piped into which" instead of matching regexes
 * over the text, so `&&`, `;`, pipes, subshells, `if`/`for` bodies, heredoc bodies and line continuations are all
 * handled by the parser. Results are memoised by script text: an editor re-checks on every keystroke and unchanged
 * RUNs hit the memo.
 */
import type { ScanInstruction } from './dockerfileScan';
import { parseShellScript } from './shellParser';

export interface ShellCommand {
  /** Words with quotes removed; parameter expansions kept as written (`$NAME`, `$(…)`). */
  argv: string[];
  /** 0-based Dockerfile line and column of the command's first word. */
  line: number;
  column: number;
  /** Within a pipeline `a | b | c`: its position (0-based) and the pipeline's length; 1 when not piped. */
  pipeIndex: number;
  pipeLength: number;
  /** The names of the commands earlier in the same pipeline (for `curl … | sh`). */
  pipedFrom: string[];
  /** Inside `( … )`. */
  inSubshell: boolean;
  /** Environment assignments prefixed to the command (`DEBIAN_FRONTEND=noninteractive apt-get …`). */
  assigns: string[];
}

export interface ShellScript {
  commands: ShellCommand[];
  /** Whether any `|` pipeline exists. */
  hasPipe: boolean;
  /** Line of the first pipe, for diagnostics. */
  firstPipeLine: number;
  parseError: string | null;
}

const MEMO_LIMIT = 4000;
/** Parses by script text, lines relative to the script's first line: a RUN that moves (lines typed above it) still hits. */
const memo = new Map<string, ShellScript>();

/** Parses a shell script whose first line is Dockerfile line `firstLine` (columns are exact: see `runScriptText`). */
export function parseShell(script: string, firstLine: number): ShellScript {
  let relative = memo.get(script);
  if (relative) {
    // Most recently used last, so the bound drops the scripts no document holds any more.
    memo.delete(script);
  } else {
    relative = parseRelative(script);
    if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value as string);
  }
  memo.set(script, relative);
  if (firstLine === 0) return relative;
  return {
    ...relative,
    commands: relative.commands.map((c) => ({ ...c, line: c.line + firstLine })),
    firstPipeLine: relative.hasPipe ? relative.firstPipeLine + firstLine : -1,
  };
}

function parseRelative(script: string): ShellScript {
  try {
    const r = parseShellScript(script);
    return {
      commands: r.commands.map((c) => ({
        argv: c.words.map((w) => w.value), line: c.words[0].line, column: c.words[0].col,
        pipeIndex: c.pipeIndex, pipeLength: c.pipeLength, pipedFrom: c.pipedFrom, inSubshell: c.inSubshell, assigns: c.assigns,
      })),
      hasPipe: r.hasPipe,
      firstPipeLine: r.hasPipe ? r.firstPipeLine : -1,
      parseError: null,
    };
  } catch (e) {
    return { commands: [], hasPipe: false, firstPipeLine: -1, parseError: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The shell text of a RUN instruction laid out on the Dockerfile's own lines and columns: the keyword and flags are
 * blanked, Dockerfile comment and empty lines inside continuations become bare continuations, heredoc bodies stay.
 * When the RUN is only a heredoc (`RUN <<EOF`), the body itself is the script. Returns null for exec form or
 * when the escape character is not `\` (Windows Dockerfiles, whose shell is not POSIX).
 */
export function runScriptText(ins: ScanInstruction, lines: readonly string[], escape: string): { text: string; firstLine: number } | null {
  if (escape !== '\\' || ins.rest.trim().startsWith('[')) return null;
  const only = /^(\d*)<<(-?)\s*["']?([A-Za-z_][\w.-]*)["']?\s*$/.exec(ins.rest.trim());
  if (only && ins.heredocs.length === 1) {
    return { text: ins.heredocs[0].content, firstLine: ins.heredocs[0].startLine };
  }
  const phys = lines.slice(ins.startLine, ins.endLine + 1);
  // Blank keyword + flags on the first line(s).
  let li = 0;
  let col = ins.column + ins.keyword.length;
  const blank = (row: number, from: number, to: number) => {
    phys[row] = phys[row].slice(0, from).replace(/\S/g, ' ') + ' '.repeat(Math.max(0, to - from)) + phys[row].slice(to);
  };
  blank(0, 0, col);
  for (let f = 0; f < ins.flags.length && li < phys.length; f++) {
    for (;;) {
      const line = phys[li];
      while (col < line.length && /\s/.test(line[col])) col++;
      if (col >= line.length || (line[col] === '\\' && line.slice(col + 1).trim() === '')) {
        if (col < line.length) blank(li, col, line.length);
        li++;
        col = 0;
        if (li >= phys.length) break;
        continue;
      }
      break;
    }
    if (li >= phys.length) break;
    const line = phys[li];
    const raw = ins.flags[f].raw;
    if (line.startsWith(raw, col)) { blank(li, col, col + raw.length); col += raw.length; } else break;
  }
  const textRows = ins.textEndLine - ins.startLine;
  for (let r = 1; r <= textRows && r < phys.length; r++) {
    if (/^\s*#/.test(phys[r]) || phys[r].trim() === '') phys[r] = '\\';
  }
  return { text: phys.join('\n'), firstLine: ins.startLine };
}
