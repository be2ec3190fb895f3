import * as posix from 'node:path/posix';
import { expandWord, expandWords, type VarLookup } from './expandWords';
import { findStage, flagValue, targetStage, type DfInstruction, type DfStage, type DockerfileModel } from './dockerfileModel';

/**
 * Evaluates a Dockerfile model the way dockerfile2llb dispatches it: ARG/ENV scoping (global ARGs only visible to FROM
 * and to in-stage `ARG X` re-declarations; ENV wins over ARG of the same name; `--build-arg` overrides defaults),
 * WORKDIR/USER/SHELL state, stage inheritance (`FROM <stage>` carries its env/workdir/user/shell), `--from`
 * resolution and the set of stages a target needs.
 */
export interface VarValue { value: string | undefined; origin: 'arg' | 'env' | 'global' }

export type StepKind = 'base' | 'layer' | 'empty-layer' | 'config';

export interface EvaluatedInstruction {
  ins: DfInstruction;
  stageIndex: number;
  /** BuildKit's display name for the stage: its name, else `stage-<n>`. */
  stage: string;
  kind: StepKind;
  /** Expanded text of the instruction as BuildKit would use it (flags and words after expansion). */
  expanded: string;
  /** Variables the instruction text referenced, with their values at this point. */
  vars: Record<string, VarValue>;
  /** For RUN: the environment the command runs with (ENV, then ARGs with a value), with each name's origin. */
  env: Record<string, VarValue>;
  workdir: string;
  user: string;
  shell: string[];
  /** COPY/ADD: source paths/patterns as written after expansion; dest resolved against WORKDIR. */
  sources?: string[];
  dest?: string;
  /** COPY --from / RUN --mount from=: stage index, or an image reference when not a stage. */
  fromStage?: number;
  fromImage?: string;
  /** FROM: the expanded reference and platform; baseStage when it names an earlier stage. */
  baseRef?: string;
  platform?: string | null;
  baseStage?: number;
  problems: string[];
}

export interface EvaluatedDockerfile {
  model: DockerfileModel;
  steps: EvaluatedInstruction[];
  /** Stage indexes the target needs (the target and everything it depends on through FROM/--from). */
  needed: Set<number>;
  targetIndex: number | null;
  problems: string[];
}

const LAYER = new Set(['RUN', 'COPY', 'ADD']);

/** BuildKit's automatic platform args; only FROM sees them without a declaration. */
function platformArgs(): Record<string, string> {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch;
  const p = `linux/${arch}`;
  return {
    TARGETPLATFORM: p, TARGETOS: 'linux', TARGETARCH: arch, TARGETVARIANT: '',
    BUILDPLATFORM: p, BUILDOS: 'linux', BUILDARCH: arch, BUILDVARIANT: '',
  };
}

interface StageState {
  env: Map<string, string>;
  args: Map<string, string | undefined>;
  workdir: string;
  user: string;
  shell: string[];
}

export function evaluateDockerfile(
  model: DockerfileModel,
  opts: { buildArgs: Record<string, string>; target: string | null },
): EvaluatedDockerfile {
  const problems: string[] = [];
  const esc = model.escape;
  const builtins = platformArgs();
  const globals = new Map<string, string | undefined>();
  const out: EvaluatedInstruction[] = [];
  const has = (o: Record<string, string>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

  for (const ins of model.globalArgs) {
    const vars: Record<string, VarValue> = {};
    const lookup: VarLookup = (name) => {
      const v = globals.has(name) ? globals.get(name) : builtins[name];
      vars[name] = { value: v, origin: 'global' };
      return v;
    };
    for (const [name, def] of parseArgDecls(ins.args)) {
      const value = has(opts.buildArgs, name) ? opts.buildArgs[name] : def === undefined ? undefined : expandWord(def, lookup, esc).value;
      globals.set(name, value);
    }
    out.push(base(ins, -1, 'global', 'config', ins.source, vars, '/', '', ['/bin/sh', '-c']));
  }

  const finalStates: (StageState | null)[] = [];
  for (const stage of model.stages) {
    const name = stage.name ?? `stage-${stage.index}`;
    const fromVars: Record<string, VarValue> = {};
    const globalLookup: VarLookup = (n) => {
      const v = globals.has(n) ? globals.get(n) : builtins[n];
      fromVars[n] = { value: v, origin: 'global' };
      return v;
    };
    const words = expandWords(stage.from.args, globalLookup, esc);
    const ref = words.words[0] ?? '';
    const platformFlag = flagValue(stage.from, 'platform');
    const platform = platformFlag == null ? null : expandWord(platformFlag, globalLookup, esc).value;
    const baseStage = ref ? findStage(model, ref, stage.index) : null;
    const inherited = baseStage ? finalStates[baseStage.index] : null;
    const st: StageState = {
      env: new Map(inherited?.env ?? []),
      args: new Map(),
      workdir: inherited?.workdir ?? '/',
      user: inherited?.user ?? '',
      shell: inherited?.shell ?? ['/bin/sh', '-c'],
    };
    const fromStep = base(stage.from, stage.index, name, 'base',
      `FROM ${platform ? `--platform=${platform} ` : ''}${ref}`, fromVars, st.workdir, st.user, st.shell);
    fromStep.baseRef = ref;
    fromStep.platform = platform;
    if (baseStage) fromStep.baseStage = baseStage.index;
    if (!ref) fromStep.problems.push('FROM names no image');
    if (words.error) fromStep.problems.push(words.error);
    out.push(fromStep);

    for (const ins of stage.body) out.push(evalBody(ins, stage, name, st));
    finalStates.push(st);
  }

  function evalBody(ins: DfInstruction, stage: DfStage, name: string, st: StageState): EvaluatedInstruction {
    const vars: Record<string, VarValue> = {};
    const lookup: VarLookup = (n) => {
      if (st.env.has(n)) { vars[n] = { value: st.env.get(n), origin: 'env' }; return st.env.get(n); }
      if (st.args.has(n)) { vars[n] = { value: st.args.get(n), origin: 'arg' }; return st.args.get(n); }
      vars[n] = { value: undefined, origin: 'arg' };
      return undefined;
    };
    const word = (t: string) => {
      const e = expandWord(t, lookup, esc);
      return e.value;
    };
    const kind: StepKind = LAYER.has(ins.keyword) ? 'layer' : ins.keyword === 'WORKDIR' ? 'empty-layer' : 'config';
    const step = base(ins, stage.index, name, kind, ins.source, vars, st.workdir, st.user, st.shell);
    switch (ins.keyword) {
      case 'ARG': {
        for (const [n, def] of parseArgDecls(ins.args)) {
          let v: string | undefined;
          if (has(opts.buildArgs, n)) v = opts.buildArgs[n];
          else if (def !== undefined) v = word(def);
          else if (globals.has(n)) v = globals.get(n);
          else if (has(builtins, n)) v = builtins[n];
          st.args.set(n, v);
        }
        step.expanded = `ARG ${[...parseArgDecls(ins.args)].map(([n]) => `${n}=${st.args.get(n) ?? ''}`).join(' ')}`;
        break;
      }
      case 'ENV': {
        const pairs = parseEnvPairs(ins.args, lookup, esc);
        for (const [k, v] of pairs) st.env.set(k, v);
        step.expanded = `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
        break;
      }
      case 'WORKDIR': {
        const w = word(ins.args);
        st.workdir = posix.resolve(st.workdir, w || '.');
        step.workdir = st.workdir;
        step.expanded = `WORKDIR ${st.workdir}`;
        break;
      }
      case 'USER': {
        st.user = word(ins.args);
        step.user = st.user;
        step.expanded = `USER ${st.user}`;
        break;
      }
      case 'SHELL': {
        if (ins.json) st.shell = ins.json;
        else step.problems.push('SHELL needs the JSON form');
        step.shell = st.shell;
        break;
      }
      case 'RUN': {
        // RUN's command is not expanded by the frontend (the shell does it); its env carries ENV and valued ARGs.
        const env: Record<string, VarValue> = {};
        for (const [k, v] of st.args) if (v !== undefined) env[k] = { value: v, origin: 'arg' };
        for (const [k, v] of st.env) env[k] = { value: v, origin: 'env' };
        step.env = env;
        const flags = ins.flags.map((f) => {
          if (f.name === 'mount' && f.value) {
            const m = /(?:^|,)from=([^,]+)/.exec(f.value);
            if (m) resolveFrom(step, word(m[1]!), stage);
          }
          return `--${f.name}${f.value == null ? '' : `=${word(f.value)}`}`;
        });
        step.expanded = ['RUN', ...flags, ins.json ? JSON.stringify(ins.json) : ins.args].join(' ');
        break;
      }
      case 'COPY':
      case 'ADD': {
        const flags: string[] = [];
        for (const f of ins.flags) {
          const v = f.value == null ? null : word(f.value);
          if (f.name === 'from' && v != null) {
            resolveFrom(step, v, stage);
            // Stage references are keyed by the stage's content (chain), not its name: a rename changes nothing.
            flags.push(step.fromStage !== undefined ? '--from=<stage>' : `--from=${v}`);
            continue;
          }
          flags.push(`--${f.name}${v == null ? '' : `=${v}`}`);
        }
        let parts: string[];
        if (ins.json) parts = ins.json.map((p) => word(p));
        else {
          const e = expandWords(ins.args, lookup, esc);
          parts = e.words;
          if (e.error) step.problems.push(e.error);
        }
        if (parts.length < 2) step.problems.push(`${ins.keyword} needs a source and a destination`);
        const dest = parts.at(-1) ?? '';
        const absDest = posix.isAbsolute(dest) ? dest : posix.join(st.workdir, dest);
        step.sources = parts.slice(0, -1);
        step.dest = dest.endsWith('/') && !absDest.endsWith('/') ? absDest + '/' : absDest;
        step.expanded = [ins.keyword, ...flags.sort(), ...step.sources.map((s) => JSON.stringify(s)), step.dest].join(' ');
        break;
      }
      default: {
        const e = expandWords(ins.args, lookup, esc);
        step.expanded = `${ins.keyword} ${e.words.join(' ')}`;
      }
    }
    return step;
  }

  function resolveFrom(step: EvaluatedInstruction, ref: string, stage: DfStage): void {
    const s = findStage(model, ref);
    if (s) {
      if (s.index >= stage.index) step.problems.push(`--from=${ref} refers to stage ${s.name ?? s.index}, which is not before this one (circular --from)`);
      else step.fromStage = s.index;
    } else step.fromImage = ref;
  }

  // Stages the target needs: walk FROM and --from edges from the target.
  const target = targetStage(model, opts.target);
  if (opts.target && !target) problems.push(targetNotFound(opts.target));
  const needed = new Set<number>();
  const visit = (i: number) => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const s of out) {
      if (s.stageIndex !== i) continue;
      if (s.baseStage !== undefined) visit(s.baseStage);
      if (s.fromStage !== undefined) visit(s.fromStage);
    }
  };
  if (target) visit(target.index);
  return { model, steps: out, needed, targetIndex: target?.index ?? null, problems };
}

function base(
  ins: DfInstruction, stageIndex: number, stage: string, kind: StepKind, expanded: string,
  vars: Record<string, VarValue>, workdir: string, user: string, shell: string[],
): EvaluatedInstruction {
  return { ins, stageIndex, stage, kind, expanded, vars, env: {}, workdir, user, shell, problems: [] };
}

/** `ARG A=1 B` → [[A,'1'],[B,undefined]] (the default is expanded later, in scope). */
export function parseArgDecls(args: string): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  for (const w of splitRaw(args)) {
    const eq = w.indexOf('=');
    if (eq < 0) out.push([w, undefined]);
    else out.push([w.slice(0, eq), w.slice(eq + 1)]);
  }
  return out;
}

/** `ENV A=1 B="2 3"` or legacy `ENV A 1 2` → expanded pairs; every value is expanded with the env as it was before the instruction (as BuildKit does). */
function parseEnvPairs(args: string, lookup: VarLookup, esc: string): [string, string][] {
  const raw = splitRaw(args);
  if (raw.length > 0 && !raw[0]!.includes('=')) {
    const k = args.trim().split(/\s+/)[0]!;
    return [[k, expandWord(args.trim().slice(k.length).trim(), lookup, esc).value]];
  }
  return raw.map((w) => {
    const eq = w.indexOf('=');
    return [w.slice(0, eq), expandWord(w.slice(eq + 1), lookup, esc).value];
  });
}

/** Splits on unquoted whitespace keeping quotes and escapes (expansion happens per word later). */
function splitRaw(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | null = null;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (!q && /\s/.test(c)) { if (inWord) { out.push(cur); cur = ''; inWord = false; } continue; }
    inWord = true;
    if (c === '\\' && i + 1 < s.length) { cur += c + s[i + 1]; i++; continue; }
    if (q) { if (c === q) q = null; } else if (c === '"' || c === "'") q = c;
    cur += c;
  }
  if (inWord) out.push(cur);
  return out;
}

/** The problem reported when the chosen target names no stage (the CLI turns it into a usage error). */
export function targetNotFound(target: string): string {
  return `target stage "${target}" not found`;
}
