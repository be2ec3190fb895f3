import { DockerfileParser } from 'dockerfile-ast';

/**
 * A Dockerfile as BuildKit's dockerfile2llb sees it: global ARGs, stages (name, base, instructions) and, per
 * instruction, its flags and argument text with line continuations and comments removed. Reusable by the cache model
 * and the rules. Lines are 1-based.
 */
export interface DfFlag { name: string; value: string | null }

export interface DfInstruction {
  /** Index in file order among all instructions. */
  index: number;
  line: number;
  endLine: number;
  /** Upper-case keyword (`RUN`, `COPY`, …). */
  keyword: string;
  flags: DfFlag[];
  /** Arguments after the flags, continuations joined, comment lines dropped (dockerfile-ast's argumentsContent). */
  args: string;
  /** The instruction's full source text (for heredocs: their bodies too), used as the raw key text. */
  source: string;
  /** Exec (JSON array) form for RUN/CMD/ENTRYPOINT/SHELL/COPY/ADD, else null. */
  json: string[] | null;
  /** Stage index, or -1 for ARGs before the first FROM. */
  stageIndex: number;
}

export interface DfStage {
  index: number;
  /** `AS name` (lower-cased, as BuildKit compares names case-insensitively), or null. */
  name: string | null;
  from: DfInstruction;
  /** Instructions after FROM, in order. */
  body: DfInstruction[];
}

export interface DockerfileModel {
  escape: string;
  globalArgs: DfInstruction[];
  stages: DfStage[];
  /** All instructions in file order (global ARGs, FROMs and bodies). */
  instructions: DfInstruction[];
}

const FLAGGED = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'HEALTHCHECK']);
const JSON_FORM = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME']);

export function parseDockerfileModel(text: string): DockerfileModel {
  const df = DockerfileParser.parse(text);
  const lines = text.split(/\r?\n/);
  const escape = df.getEscapeCharacter() || '\\';
  const globalArgs: DfInstruction[] = [];
  const stages: DfStage[] = [];
  const instructions: DfInstruction[] = [];
  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase();
    const range = ins.getRange();
    const flags: DfFlag[] = [];
    const getFlags = (ins as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] }).getFlags;
    if (FLAGGED.has(keyword) && typeof getFlags === 'function') {
      for (const f of getFlags.call(ins)) flags.push({ name: f.getName().toLowerCase(), value: f.getValue() });
    }
    const args = (ins.getArgumentsContent() ?? '').trim();
    const source = lines.slice(range.start.line, range.end.line + 1).join('\n').trimEnd();
    const d: DfInstruction = {
      index: instructions.length,
      line: range.start.line + 1,
      endLine: range.end.line + 1,
      keyword,
      flags,
      args,
      source,
      json: JSON_FORM.has(keyword) ? parseJsonForm(args) : null,
      stageIndex: stages.length - 1,
    };
    if (keyword === 'FROM') {
      const words = args.split(/\s+/);
      const name = words.length >= 3 && words[1]!.toLowerCase() === 'as' ? words[2]!.toLowerCase() : null;
      d.stageIndex = stages.length;
      stages.push({ index: stages.length, name, from: d, body: [] });
    } else if (stages.length === 0) {
      if (keyword === 'ARG') globalArgs.push(d);
      // Anything else before FROM is a BuildKit error; keep it out of stages.
    } else {
      stages[stages.length - 1]!.body.push(d);
    }
    instructions.push(d);
  }
  return { escape, globalArgs, stages, instructions };
}

function parseJsonForm(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  try {
    const v = JSON.parse(args) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null;
  } catch {
    return null;
  }
}

export function flagValue(ins: DfInstruction, name: string): string | null | undefined {
  const f = ins.flags.filter((x) => x.name === name).at(-1);
  return f ? f.value : undefined;
}

/** The stage a `--from`/FROM reference names: by name (case-insensitive) or by index; null when it is an image. */
export function findStage(model: DockerfileModel, ref: string, before?: number): DfStage | null {
  const lower = ref.toLowerCase();
  const limit = before ?? model.stages.length;
  for (let i = 0; i < limit; i++) if (model.stages[i]!.name === lower) return model.stages[i]!;
  if (/^\d+$/.test(ref)) {
    const n = Number(ref);
    if (n < limit) return model.stages[n] ?? null;
  }
  return null;
}

/** The stage a build of `target` ends with: the named stage, else the last. Null when the name is unknown. */
export function targetStage(model: DockerfileModel, target: string | null): DfStage | null {
  if (model.stages.length === 0) return null;
  if (!target) return model.stages[model.stages.length - 1]!;
  return model.stages.find((s) => s.name === target.toLowerCase()) ?? null;
}
