/**
 * What every Strata rule sees: the scanned Dockerfile (parsed once), its stages, each RUN's parsed shell script
 * (parsed at most once per check, lazily, memoised across checks), the build context reader, and `report`.
 */
import type { DockerfileScan, ScanInstruction } from './dockerfileScan';
import { parseWords, parseJsonArgs, perInstruction } from './dockerfileScan';
import { parseShell, runScriptText, type ShellScript, type ShellCommand } from './shellScript';
import type { Severity } from './strataDiagnostic';

/** Reads files of the build context (relative slash paths); undefined when absent or unreadable. */
export interface ContextReader {
  readFile(relPath: string): string | undefined;
}

export interface TextEdit { line: number; character: number; endLine: number; endCharacter: number; newText: string }
export interface RuleFix { title: string; edits: TextEdit[] }

export interface Finding {
  line: number;
  character: number;
  endLine: number;
  endCharacter: number;
  message: string;
  fix?: RuleFix;
}

export interface StageInfo {
  index: number;
  from: ScanInstruction;
  /** Lower-cased `AS` name, or ''. */
  name: string;
  /** Base image text as written (`node:20`, `$BASE`, or another stage's name). */
  base: string;
  /** Index of the stage it builds on, or null for an image. */
  baseStage: number | null;
  body: ScanInstruction[];
}

export interface RuleContext {
  scan: DockerfileScan;
  stages: StageInfo[];
  /** Global ARGs before the first FROM. */
  globalArgs: ScanInstruction[];
  context: ContextReader | undefined;
  /** The Dockerfile's path relative to the build context. */
  dockerfilePath: string;
  /** The RUN's shell script, or null (exec form, non-POSIX shell, parse error). */
  shell(ins: ScanInstruction): ShellScript | null;
  /** All shell commands of a RUN, or [] . */
  commands(ins: ScanInstruction): ShellCommand[];
  /** The stage containing an instruction. */
  stageOf(ins: ScanInstruction): StageInfo | undefined;
  /** RUN has `--mount=type=cache` (optionally: targeting a path containing `target`). */
  hasCacheMount(ins: ScanInstruction, target?: RegExp): boolean;
  report(finding: Finding): void;
}

export interface StrataRule {
  /** Stable id `category/kebab-name`. */
  id: string;
  severity: Severity | 'off';
  /** One line for the rules table. */
  title: string;
  /** hadolint codes of the same check. */
  equivalents: string[];
  /** A Dockerfile that triggers the rule and one that does not (docs and tests use both). */
  examples: { bad: string; good: string };
  /** Longer explanation for the docs page: why it matters, what it costs. */
  rationale: string;
  check(ctx: RuleContext): void;
}

const POSIX_SHELLS = /(^|\/)(sh|bash|ash|dash|zsh|ksh|mksh)$/;

export function buildStages(scan: DockerfileScan): { stages: StageInfo[]; globalArgs: ScanInstruction[] } {
  const stages: StageInfo[] = [];
  const globalArgs: ScanInstruction[] = [];
  const byName = new Map<string, number>();
  for (const ins of scan.instructions) {
    if (ins.upper === 'FROM') {
      const args = fromArgs(ins, scan.escape);
      const name = args.length >= 3 && args[1].toLowerCase() === 'as' ? args[2].toLowerCase() : '';
      const base = args[0] ?? '';
      const baseStage = byName.get(base.toLowerCase()) ?? null;
      stages.push({ index: stages.length, from: ins, name, base, baseStage, body: [] });
      if (name && !byName.has(name)) byName.set(name, stages.length - 1);
    } else if (stages.length === 0) {
      if (ins.upper === 'ARG') globalArgs.push(ins);
    } else {
      stages[stages.length - 1].body.push(ins);
    }
  }
  return { stages, globalArgs };
}

/**
 * Each RUN's parsed script (under a POSIX shell; whether the stage's shell is one is decided per check): it depends on
 * the instruction's own lines and the escape character only, so a keystroke elsewhere neither joins its lines nor
 * parses its script again. Rules never change it.
 */
const runScript = perInstruction((ins, escape, lines): ShellScript | null => {
  const json = parseJsonArgs(ins.rest);
  if (json) {
    // ["sh", "-c", "script"] is a script; any other exec form is one command.
    if (json.length >= 3 && POSIX_SHELLS.test(json[0]) && json[1] === '-c') {
      const parsed = parseShell(json[2], ins.startLine);
      return { ...parsed, commands: parsed.commands.map((c) => ({ ...c, line: ins.startLine, column: ins.column })) };
    }
    if (json.length === 0) return null;
    return { commands: [{ argv: json, line: ins.startLine, column: ins.column, pipeIndex: 0, pipeLength: 1, pipedFrom: [], inSubshell: false, assigns: [] }], hasPipe: false, firstPipeLine: -1, parseError: null };
  }
  const src = runScriptText(ins, lines, escape);
  if (!src) return null;
  const parsed = parseShell(src.text, src.firstLine);
  return parsed.parseError ? null : parsed;
});

/** FROM's words (`image [AS name]`). */
const fromArgs = perInstruction((ins) => ins.rest.split(/\s+/).filter(Boolean));

export function createRuleContext(scan: DockerfileScan, context: ContextReader | undefined, report: (f: Finding) => void, dockerfilePath = 'Dockerfile'): RuleContext {
  const { stages, globalArgs } = buildStages(scan);
  const stageByLine = new Map<number, StageInfo>();
  for (const st of stages) for (const ins of st.body) stageByLine.set(ins.startLine, st);
  // Which stages run RUN under a non-POSIX SHELL (cmd, powershell): their scripts are not parsed.
  const nonPosix = new Set<ScanInstruction>();
  for (const st of stages) {
    let posix = st.baseStage === null ? true : !stages[st.baseStage].body.some((i) => i.upper === 'SHELL' && !isPosixShell(i));
    for (const ins of st.body) {
      if (ins.upper === 'SHELL') posix = isPosixShell(ins);
      if (ins.upper === 'RUN' && !posix) nonPosix.add(ins);
    }
  }
  const shell = (ins: ScanInstruction): ShellScript | null =>
    (ins.upper !== 'RUN' || nonPosix.has(ins) ? null : runScript(ins, scan.escape, scan.lines));
  return {
    scan,
    stages,
    globalArgs,
    context,
    dockerfilePath,
    shell,
    commands: (ins) => shell(ins)?.commands ?? [],
    stageOf: (ins) => stageByLine.get(ins.startLine),
    hasCacheMount: (ins, target) => ins.flags.some((f) => f.name === 'mount' && f.value !== null
      && /(^|,)type=cache(,|$)/.test(f.value) && (!target || target.test(f.value))),
    report,
  };
}

/** An instruction's arguments as words: the exec form's strings, else BuildKit's shell words (quotes kept). */
export const argumentWords: (ins: ScanInstruction, escape: string) => readonly string[] =
  perInstruction((ins, escape) => parseJsonArgs(ins.rest) ?? parseWords(ins.rest, escape));

/** Whether a SHELL's executable is a POSIX shell (its words split with `\\`, whatever the file's escape). */
const posixShell = perInstruction((ins) => {
  const exe = parseJsonArgs(ins.rest)?.[0] ?? parseWords(ins.rest, '\\')[0] ?? '';
  return POSIX_SHELLS.test(exe);
});
function isPosixShell(ins: ScanInstruction): boolean {
  return posixShell(ins, '\\');
}

/** A finding covering an instruction's first line from its keyword to the end of the line. */
export function atInstruction(ctx: RuleContext, ins: ScanInstruction, message: string, fix?: RuleFix): Finding {
  return { line: ins.startLine, character: ins.column, endLine: ins.startLine, endCharacter: ctx.scan.lines[ins.startLine]?.length ?? 0, message, fix };
}

/** A finding covering a shell command's name. */
export function atCommand(cmd: ShellCommand, message: string, fix?: RuleFix): Finding {
  return { line: cmd.line, character: cmd.column, endLine: cmd.line, endCharacter: cmd.column + (cmd.argv[0]?.length ?? 1), message, fix };
}

/** The command name without a path (`/usr/bin/apt-get` → `apt-get`). */
export function commandName(cmd: ShellCommand): string {
  const a = cmd.argv[0] ?? '';
  return a.slice(a.lastIndexOf('/') + 1);
}

/** argv with `sudo`/`env`/`nice`… wrappers removed. */
export function effectiveArgv(cmd: ShellCommand): string[] {
  let argv = cmd.argv;
  for (;;) {
    const n = (argv[0] ?? '').replace(/^.*\//, '');
    if (n === 'sudo' || n === 'nice' || n === 'nohup' || n === 'time' || n === 'exec') {
      argv = argv.slice(1);
      while (argv[0]?.startsWith('-')) argv = argv.slice(1);
      continue;
    }
    if (n === 'xargs') {
      // `xargs -rt apt-get install -y < list`: the command xargs runs.
      argv = argv.slice(1);
      while (argv[0]?.startsWith('-')) {
        const opt = argv[0];
        argv = argv.slice(1);
        if (/^-[nILPdaEs]$/.test(opt)) argv = argv.slice(1);
      }
      continue;
    }
    if (n === 'env') {
      argv = argv.slice(1);
      while (argv[0] && (argv[0].startsWith('-') || argv[0].includes('='))) argv = argv.slice(1);
      continue;
    }
    return argv;
  }
}

export function runsOf(ctx: RuleContext): ScanInstruction[] {
  return ctx.scan.instructions.filter((i) => i.upper === 'RUN');
}

/** The stages whose layers end up in the final image: the last stage and the stages it builds on. */
export function finalChain(ctx: RuleContext): Set<StageInfo> {
  const out = new Set<StageInfo>();
  let st: StageInfo | undefined = ctx.stages[ctx.stages.length - 1];
  while (st && !out.has(st)) {
    out.add(st);
    st = st.baseStage !== null ? ctx.stages[st.baseStage] : undefined;
  }
  return out;
}

/** RUN instructions of the given stages, in file order. */
export function runsIn(stages: Iterable<StageInfo>): ScanInstruction[] {
  const out: ScanInstruction[] = [];
  for (const st of stages) for (const i of st.body) if (i.upper === 'RUN') out.push(i);
  return out.sort((a, b) => a.startLine - b.startLine);
}
