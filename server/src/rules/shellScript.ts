/**
 * The shell script of a RUN instruction, parsed with a real POSIX shell parser (mvdan/sh compiled to JavaScript,
 * npm `mvdan-sh`) into its simple commands. Rules ask "which commands run, in which order, which are piped into
 * which" instead of matching regexes over the text, so `&&`, `;`, pipes, subshells, `if`/`for` bodies, heredoc
 * bodies and line continuations are all handled by the parser.
 *
 * Cost: the parser is ~1.5 MB of GopherJS and ~0.2 ms per typical RUN once warm, so it is loaded on first use and
 * results are memoised by script text (an editor re-checks a file on every keystroke; unchanged RUNs hit the memo).
 */
import type { ScanInstruction } from './dockerfileScan';

export interface ShellCommand {
  /** Words with quotes removed; parameter expansions kept as `$NAME`, command substitutions as `$(…)`. */
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

interface MvdanSyntax {
  NewParser(...opts: unknown[]): { Parse(src: string, name: string): unknown };
  NodeType(n: unknown): string;
  Walk(n: unknown, f: (n: unknown) => boolean): void;
}

let syntaxModule: MvdanSyntax | null = null;
let parser: { Parse(src: string, name: string): unknown } | null = null;

function getParser(): { syntax: MvdanSyntax; parser: { Parse(src: string, name: string): unknown } } {
  if (!syntaxModule) {
    // GopherJS sets Error.stackTraceLimit = Infinity as a load-time side effect; keep the process's own setting.
    const limit = Error.stackTraceLimit;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    syntaxModule = (require('mvdan-sh') as { syntax: MvdanSyntax }).syntax;
    Error.stackTraceLimit = limit;
    parser = syntaxModule.NewParser();
  }
  return { syntax: syntaxModule, parser: parser! };
}

const MEMO_LIMIT = 2000;
const memo = new Map<string, ShellScript>();

/** Parses a shell script whose first line is Dockerfile line `firstLine` (columns are exact: see `runScriptText`). */
export function parseShell(script: string, firstLine: number): ShellScript {
  const key = firstLine + '\u0000' + script;
  const hit = memo.get(key);
  if (hit) return hit;
  const result = parseUncached(script, firstLine);
  if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value as string);
  memo.set(key, result);
  return result;
}

const OP_PIPE = 12;
const OP_PIPE_ALL = 13;

interface Pos { Line(): number; Col(): number }
interface Node { Pos(): Pos }

function parseUncached(script: string, firstLine: number): ShellScript {
  const out: ShellScript = { commands: [], hasPipe: false, firstPipeLine: -1, parseError: null };
  const { syntax, parser: p } = getParser();
  let file: unknown;
  try {
    file = p.Parse(script, '');
  } catch (e) {
    const err = e as { Error?: () => string; message?: string };
    out.parseError = typeof err.Error === 'function' ? err.Error() : String(err.message ?? e);
    return out;
  }
  const word = (w: unknown): string => {
    const parts = (w as { Parts: unknown[] }).Parts ?? [];
    let s = '';
    for (const part of parts) s += partText(part);
    return s;
  };
  const partText = (part: unknown): string => {
    const t = syntax.NodeType(part);
    const anyPart = part as Record<string, unknown>;
    switch (t) {
      case 'Lit': return String(anyPart.Value);
      case 'SglQuoted': return String(anyPart.Value);
      case 'DblQuoted': return ((anyPart.Parts as unknown[]) ?? []).map(partText).join('');
      case 'ParamExp': {
        const param = anyPart.Param as { Value?: string } | null;
        return '$' + (param?.Value ?? '');
      }
      case 'CmdSubst': return '$(…)';
      default: return '…';
    }
  };

  const visitStmt = (stmt: unknown, ctx: { pipeIndex: number; pipeLength: number; pipedFrom: string[]; inSubshell: boolean }): void => {
    if (!stmt) return;
    visitCmd((stmt as { Cmd: unknown }).Cmd, ctx);
  };
  const visitStmts = (stmts: unknown, inSubshell: boolean): void => {
    for (const s of (stmts as unknown[] | null) ?? []) visitStmt(s, { pipeIndex: 0, pipeLength: 1, pipedFrom: [], inSubshell });
  };
  const flattenPipe = (stmt: unknown, acc: unknown[]): void => {
    const cmd = (stmt as { Cmd: unknown }).Cmd;
    if (cmd && syntax.NodeType(cmd) === 'BinaryCmd') {
      const b = cmd as { Op: number; X: unknown; Y: unknown };
      if (b.Op === OP_PIPE || b.Op === OP_PIPE_ALL) { flattenPipe(b.X, acc); flattenPipe(b.Y, acc); return; }
    }
    acc.push(stmt);
  };
  const firstName = (stmt: unknown): string => {
    const cmd = (stmt as { Cmd: unknown }).Cmd;
    if (cmd && syntax.NodeType(cmd) === 'CallExpr') {
      const args = (cmd as { Args: unknown[] }).Args;
      return args.length ? word(args[0]) : '';
    }
    return '';
  };
  const visitCmd = (cmd: unknown, ctx: { pipeIndex: number; pipeLength: number; pipedFrom: string[]; inSubshell: boolean }): void => {
    if (!cmd) return;
    const t = syntax.NodeType(cmd);
    const c = cmd as Record<string, unknown>;
    switch (t) {
      case 'CallExpr': {
        const args = (c.Args as unknown[]) ?? [];
        const assigns = ((c.Assigns as unknown[]) ?? []).map((a) => {
          const as = a as { Name?: { Value?: string }; Value?: unknown };
          return (as.Name?.Value ?? '') + '=' + (as.Value ? word(as.Value) : '');
        });
        if (args.length === 0) return;
        const pos = (args[0] as Node).Pos();
        out.commands.push({
          argv: args.map(word), line: firstLine + pos.Line() - 1, column: pos.Col() - 1,
          pipeIndex: ctx.pipeIndex, pipeLength: ctx.pipeLength, pipedFrom: ctx.pipedFrom, inSubshell: ctx.inSubshell, assigns,
        });
        return;
      }
      case 'BinaryCmd': {
        const op = c.Op as number;
        if (op === OP_PIPE || op === OP_PIPE_ALL) {
          if (!out.hasPipe) out.firstPipeLine = firstLine + (cmd as Node).Pos().Line() - 1;
          out.hasPipe = true;
          const parts: unknown[] = [];
          flattenPipe({ Cmd: cmd }, parts);
          const names = parts.map(firstName);
          parts.forEach((s, i) => visitStmt(s, { pipeIndex: i, pipeLength: parts.length, pipedFrom: names.slice(0, i), inSubshell: ctx.inSubshell }));
          return;
        }
        visitStmt(c.X, ctx);
        visitStmt(c.Y, ctx);
        return;
      }
      case 'Subshell': visitStmts(c.Stmts, true); return;
      case 'Block': visitStmts(c.Stmts, ctx.inSubshell); return;
      case 'IfClause': {
        let clause: Record<string, unknown> | null = c;
        while (clause) {
          visitStmts(clause.Cond, ctx.inSubshell);
          visitStmts(clause.Then, ctx.inSubshell);
          clause = (clause.Else as Record<string, unknown> | null) ?? null;
        }
        return;
      }
      case 'WhileClause': visitStmts(c.Cond, ctx.inSubshell); visitStmts(c.Do, ctx.inSubshell); return;
      case 'ForClause': visitStmts(c.Do, ctx.inSubshell); return;
      case 'CaseClause': for (const item of (c.Items as { Stmts: unknown }[]) ?? []) visitStmts(item.Stmts, ctx.inSubshell); return;
      case 'FuncDecl': visitStmt(c.Body, ctx); return;
      case 'TimeClause': visitStmt(c.Stmt, ctx); return;
      case 'CoprocClause': visitStmt(c.Stmt, ctx); return;
      default: return;
    }
  };
  visitStmts((file as { Stmts: unknown }).Stmts, false);
  return out;
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
