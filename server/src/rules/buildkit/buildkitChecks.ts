/**
 * BuildKit's build checks, offline: a replay of the parts of dockerfile2llb that run the linter (instruction parse,
 * stage-name and casing validation, FROM argument resolution, per-stage dispatch with the stage's environment), in
 * the same order and with the same skip/experimental/error configuration, minus anything that needs a registry
 * (InvalidBaseImagePlatform) or the build itself. Base images from a registry are assumed to define only PATH.
 */
import type { DockerfileScan, ScanInstruction } from '../dockerfileScan';
import { parseJsonArgs, parseWords, parseDirectiveLine, perInstruction } from '../dockerfileScan';
import { BK, BUILDKIT_RULE_BY_NAME } from './buildkitRules';
import { processWord, suggest, type VarEnv } from '../wordExpansion';
import { DockerIgnore, cleanPath } from '../../cache/dockerignore';

export interface BuildkitFinding {
  rule: string;
  /** 0-based start line of the location BuildKit reports. */
  line: number;
  endLine: number;
  column: number;
  message: string;
}

export interface BuildkitCheckOptions {
  /** `--build-arg` values; `BUILDKIT_DOCKERFILE_CHECK` among them replaces the file's `# check=` directive. */
  buildArgs?: ReadonlyMap<string, string>;
  /** The build context's `.dockerignore` text, for CopyIgnoredFile. */
  dockerignore?: string | null;
  /** Build target; with `allStages` false only stages it needs are checked (a build), else every stage (a lint). */
  target?: string | null;
  allStages?: boolean;
}

export interface BuildkitResult {
  findings: BuildkitFinding[];
  /** `error=true` and at least one rule reported: BuildKit fails the build with "lint violation found for rules: …". */
  violationError: string | null;
  /** The check configuration could not be parsed ("failed to parse check options"). */
  configError: string | null;
  /** Where BuildKit would stop with an error (unknown instruction, empty base name, …), or null. */
  buildError: { line: number; message: string } | null;
}

interface LintConfig {
  skipAll: boolean;
  skip: Set<string>;
  experimentalAll: boolean;
  experimental: Set<string>;
  error: boolean;
}

/** linter.ParseLintOptions. */
export function parseLintOptions(s: string): LintConfig {
  const cfg: LintConfig = { skipAll: false, skip: new Set(), experimentalAll: false, experimental: new Set(), error: false };
  s = s.trim();
  if (s === '') return cfg;
  // strings.SplitN(s, ";", 3)
  const parts: string[] = [];
  let restStr = s;
  while (parts.length < 2 && restStr.includes(';')) {
    const i = restStr.indexOf(';');
    parts.push(restStr.slice(0, i));
    restStr = restStr.slice(i + 1);
  }
  parts.push(restStr);
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq < 0) throw new Error(`invalid check option "${p}"`);
    const k = p.slice(0, eq).trim();
    const v = p.slice(eq + 1).trim();
    if (k === 'skip') {
      if (v === 'all') cfg.skipAll = true;
      else for (const r of v.split(',')) cfg.skip.add(r.trim());
    } else if (k === 'experimental') {
      if (v === 'all') cfg.experimentalAll = true;
      else for (const r of v.split(',')) cfg.experimental.add(r.trim());
    } else if (k === 'error') {
      const b = parseGoBool(v);
      if (b === null) throw new Error(`failed to parse check option "${p}"`);
      cfg.error = b;
    } else {
      throw new Error(`invalid check option "${k}"`);
    }
  }
  return cfg;
}

function parseGoBool(v: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return null;
}

class Linter {
  constructor(private readonly cfg: LintConfig, private readonly sink: Sink) {}

  run(rule: string, line: number, endLine: number, column: number, message: string): void {
    const info = BUILDKIT_RULE_BY_NAME.get(rule);
    if (!info) return;
    if (info.experimental) {
      if (!this.cfg.experimentalAll && !this.cfg.experimental.has(rule)) return;
    } else if (this.cfg.skipAll || this.cfg.skip.has(rule)) {
      return;
    }
    this.sink.called.add(rule);
    this.sink.findings.push({ rule, line, endLine, column, message });
  }

  at(rule: string, ins: ScanInstruction, message: string): void {
    this.run(rule, ins.startLine, ins.endLine, ins.column, message);
  }

  /** WithMergedConfigFromComments: the first `check=` directive among the comments adds skips/experimentals. */
  merged(comments: readonly string[]): Linter {
    for (const c of comments) {
      // Only a `check=` directive counts, and an instruction may carry many comments: skip the others cheaply.
      if (!/check/i.test(c)) continue;
      const d = parseDirectiveLine(c, '');
      if (!d || d.name !== 'check') continue;
      const v = d.value.split(' ')[0];
      let other: LintConfig;
      try { other = parseLintOptions(v); } catch { return this; }
      const cfg: LintConfig = {
        skipAll: this.cfg.skipAll || other.skipAll,
        skip: new Set([...this.cfg.skip, ...other.skip]),
        experimentalAll: this.cfg.experimentalAll || other.experimentalAll,
        experimental: new Set([...this.cfg.experimental, ...other.experimental]),
        error: this.cfg.error,
      };
      return new Linter(cfg, this.sink);
    }
    return this;
  }
}

interface Sink { findings: BuildkitFinding[]; called: Set<string> }

const KNOWN = new Set(['add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir']);
const RESERVED = new Set(['context', 'scratch']);
const NON_ENV_ARGS = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);
const SECRET_DENY = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const SECRET_ALLOW = /(?:_|^)(?:public|file|version)(?:_|$)/i;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

class OrderedEnv implements VarEnv {
  readonly map = new Map<string, string>();
  get(k: string) { return this.map.get(k); }
  keys() { return [...this.map.keys()]; }
  set(k: string, v: string) { this.map.set(k, v); }
  clone(): OrderedEnv { const e = new OrderedEnv(); for (const [k, v] of this.map) e.map.set(k, v); return e; }
}

interface KeyValue { key: string; value: string; noDelim: boolean }

/** parseNameVal (ENV, LABEL): legacy `KEY name value` when the first word has no `=`. */
export function parseNameVal(rest: string, escape: string): KeyValue[] | 'error' {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest.trim());
    if (!m) return 'error';
    return [{ key: m[1], value: m[2], noDelim: true }];
  }
  const out: KeyValue[] = [];
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) return 'error';
    out.push({ key: w.slice(0, i), value: w.slice(i + 1), noDelim: false });
  }
  return out;
}

/** ENV/LABEL key-values are parsed while validating the instructions and again in the stage dispatch: once is enough. */
const nameValOf = perInstruction((ins, escape) => parseNameVal(ins.rest, escape));

interface ArgDef { key: string; value: string | null }

function parseArgDefs(rest: string, escape: string): ArgDef[] {
  return parseWords(rest, escape).map((w) => {
    const i = w.indexOf('=');
    return i < 0 ? { key: w, value: null } : { key: w.slice(0, i), value: w.slice(i + 1) };
  });
}

interface Stage {
  from: ScanInstruction;
  fromArgs: string[];
  name: string;
  baseName: string;
  platform: string | null;
  commands: ScanInstruction[];
  index: number;
}

interface StageState {
  env: OrderedEnv;
  shellSet: boolean;
  workdirSet: boolean;
}

/** Docker reference grammar (distribution/reference.ParseNormalizedNamed). */
const DOMAIN_COMP = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMP}(?:\\.${DOMAIN_COMP})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?`;
const NAME_COMP = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const REFERENCE_RE = new RegExp(`^((?:${DOMAIN}/)?${NAME_COMP}(?:/${NAME_COMP})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}))?$`);

export function isValidImageReference(s: string): boolean {
  if (s === '' || /^[a-f0-9]{64}$/.test(s)) return false;
  const m = REFERENCE_RE.exec(s);
  return !!m && m[1].length <= 255;
}

/** containerd platforms.Parse, reduced to what the checks need: os and architecture, or null if invalid. */
function parsePlatform(s: string): { os: string; arch: string } | null {
  const parts = s.split('/');
  if (parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) return null;
  const norm = (a: string) => ({ x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' } as Record<string, string>)[a.toLowerCase()] ?? a.toLowerCase();
  const OSES = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'android', 'ios', 'aix', 'plan9', 'js', 'wasip1', 'dragonfly']);
  if (parts.length === 1) {
    const p = parts[0].toLowerCase();
    return OSES.has(p) ? { os: p, arch: 'amd64' } : { os: 'linux', arch: norm(p) };
  }
  return { os: parts[0].toLowerCase(), arch: norm(parts[1]) };
}

export function runBuildkitChecks(scan: DockerfileScan, options: BuildkitCheckOptions = {}): BuildkitResult {
  const sink: Sink = { findings: [], called: new Set() };
  const result: BuildkitResult = { findings: sink.findings, violationError: null, configError: null, buildError: null };
  const buildArgs = options.buildArgs ?? new Map<string, string>();
  const esc = scan.escape;

  let cfg: LintConfig;
  try {
    const fromArg = buildArgs.get('BUILDKIT_DOCKERFILE_CHECK');
    const directive = scan.directives.find((d) => d.name === 'check');
    cfg = parseLintOptions(fromArg !== undefined ? fromArg : directive ? directive.value.split(' ')[0] : '');
  } catch (e) {
    result.configError = `failed to parse check options: ${(e as Error).message}`;
    return result;
  }
  const lint = new Linter(cfg, sink);
  const finish = (): BuildkitResult => {
    sink.findings.sort((a, b) => a.line - b.line);
    if (cfg.error && sink.called.size > 0) result.violationError = `lint violation found for rules: ${[...sink.called].join(', ')}`;
    return result;
  };
  const fail = (ins: ScanInstruction, message: string): BuildkitResult => {
    result.buildError = { line: ins.startLine, message };
    return finish();
  };

  // Empty continuation lines (parser warnings).
  for (const ins of scan.instructions) {
    if (ins.hasEmptyContinuation) lint.run('NoEmptyContinuation', ins.textEndLine, ins.textEndLine, 0, BK.NoEmptyContinuation());
  }

  // instructions.Parse
  const stages: Stage[] = [];
  const metaArgs: { ins: ScanInstruction; defs: ArgDef[] }[] = [];
  for (const ins of scan.instructions) {
    const l = lint.merged(ins.prevComments);
    const kw = ins.keyword.toLowerCase();
    if (!KNOWN.has(kw)) return fail(ins, `unknown instruction: ${ins.keyword}`);
    if (kw === 'maintainer') l.at('MaintainerDeprecated', ins, BK.MaintainerDeprecated());
    if (kw === 'from') {
      const args = ins.rest.split(/\s+/).filter(Boolean);
      if (args.length === 3 && args[2] !== args[2].toLowerCase()) l.at('StageNameCasing', ins, BK.StageNameCasing(args[2]));
      if (args.length >= 3) {
        const lower = ins.keyword === ins.keyword.toLowerCase();
        const upper = ins.keyword === ins.keyword.toUpperCase();
        if ((lower && args[1] !== args[1].toLowerCase()) || (upper && !lower && args[1] !== args[1].toUpperCase())) {
          l.at('FromAsCasing', ins, BK.FromAsCasing(ins.keyword, args[1]));
        }
      }
      if (!(args.length === 1 || (args.length === 3 && args[1].toLowerCase() === 'as'))) {
        return fail(ins, 'FROM requires either one or three arguments');
      }
      const name = args.length === 3 ? args[2].toLowerCase() : '';
      if (name && !/^[a-z][a-z0-9-_.]*$/.test(name)) return fail(ins, `invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
      if (name) definitionDescription(l, 'FROM', [name], ins);
      const platform = ins.flags.find((f) => f.name === 'platform');
      stages.push({ from: ins, fromArgs: args, name, baseName: args[0] ?? '', platform: platform?.value ?? null, commands: [], index: stages.length });
      continue;
    }
    if (kw === 'arg') {
      const defs = parseArgDefs(ins.rest, esc);
      if (defs.length === 0) return fail(ins, 'ARG requires exactly one argument');
      definitionDescription(l, 'ARG', defs.map((d) => d.key), ins);
      if (stages.length === 0) { metaArgs.push({ ins, defs }); continue; }
    }
    if ((kw === 'env' || kw === 'label') && nameValOf(ins, esc) === 'error') {
      return fail(ins, `${kw === 'env' ? 'ENV' : 'LABEL'} must have two arguments`);
    }
    if (stages.length === 0) return fail(ins, 'no build stage in current context');
    stages[stages.length - 1].commands.push(ins);
  }
  if (stages.length === 0) return finish();

  // validateStageNames, validateCommandCasing (the file-level linter: per-instruction comments do not apply)
  const names = new Set<string>();
  for (const st of stages) {
    if (!st.name) continue;
    if (RESERVED.has(st.name)) lint.at('ReservedStageName', st.from, BK.ReservedStageName(st.name));
    if (names.has(st.name)) lint.at('DuplicateStageName', st.from, BK.DuplicateStageName(st.name));
    names.add(st.name);
  }
  let lowerCount = 0;
  let upperCount = 0;
  const allCmds = stages.flatMap((st) => [st.from, ...st.commands]);
  for (const c of allCmds) {
    const k = c.keyword;
    if (k === k.toLowerCase()) lowerCount++;
    else if (k === k.toUpperCase()) upperCount++;
  }
  const majorityLower = lowerCount > upperCount;
  for (const c of allCmds) {
    const k = c.keyword;
    const casing = majorityLower && k.toLowerCase() !== k ? 'lowercase' : !majorityLower && k.toUpperCase() !== k ? 'uppercase' : '';
    if (casing) lint.at('ConsistentInstructionCasing', c, BK.ConsistentInstructionCasing(k, casing));
  }

  // defaultArgs + validateBaseImagesWithDefaultArgs + buildMetaArgs
  const target = options.target ? options.target.toLowerCase() : '';
  const targetName = target || stages[stages.length - 1].name;
  const platformDefaults: [string, string][] = [
    ['BUILDPLATFORM', 'linux/amd64'], ['BUILDOS', 'linux'], ['BUILDOSVERSION', ''], ['BUILDARCH', 'amd64'], ['BUILDVARIANT', ''],
    ['TARGETPLATFORM', 'linux/amd64'], ['TARGETOS', 'linux'], ['TARGETOSVERSION', ''], ['TARGETARCH', 'amd64'], ['TARGETVARIANT', ''],
    ['TARGETSTAGE', targetName || 'default'],
  ];
  const baseGlobals = new OrderedEnv();
  for (const [k, v] of platformDefaults) baseGlobals.set(k, buildArgs.get(k) ?? v);
  const metaEnv = (withBuildArgs: boolean): OrderedEnv | null => {
    const env = baseGlobals.clone();
    for (const { defs } of metaArgs) {
      for (const d of defs) {
        if (withBuildArgs && buildArgs.has(d.key)) { env.set(d.key, buildArgs.get(d.key)!); continue; }
        if (d.value === null) continue;
        const r = processWord(d.value, env, esc);
        if (r.error) return null;
        env.set(d.key, r.result);
      }
    }
    return env;
  };
  const defaultsEnv = metaEnv(false);
  if (defaultsEnv) {
    for (const st of stages) {
      const r = processWord(st.baseName, defaultsEnv, esc);
      if (r.error) break;
      if (!isValidImageReference(r.result)) lint.at('InvalidDefaultArgInFrom', st.from, BK.InvalidDefaultArgInFrom(st.baseName));
    }
  }
  const globals = metaEnv(true);
  if (!globals) return finish();
  const allArgKeys = new Set<string>([...metaArgs.flatMap((m) => m.defs.map((d) => d.key)), ...globals.keys()]);

  // buildDispatchStates: FROM name and platform
  const resolvedBase: string[] = [];
  for (const st of stages) {
    const l = lint.merged(st.from.prevComments);
    const nm = processWord(st.baseName, globals, esc);
    reportUnusedFromArgs(l, allArgKeys, nm.unmatched, st.from);
    if (nm.error) return fail(st.from, nm.error);
    if (nm.result === '') return fail(st.from, `base name (${st.baseName}) should not be blank`);
    resolvedBase.push(nm.result);
    if (st.platform !== null) {
      const pm = processWord(st.platform, globals, esc);
      reportUnusedFromArgs(l, allArgKeys, pm.unmatched, st.from);
      if (pm.matched.size === 1 && pm.unmatched.size === 0 && pm.matched.has('TARGETPLATFORM') && pm.result === globals.get('TARGETPLATFORM')) {
        l.at('RedundantTargetPlatform', st.from, BK.RedundantTargetPlatform(st.platform));
      }
      if (pm.matched.size === 0 && pm.unmatched.size === 0) {
        const p = parsePlatform(pm.result);
        if (p && !st.name.includes(p.os) && !st.name.includes(p.arch)) {
          l.at('FromPlatformFlagConstDisallowed', st.from, BK.FromPlatformFlagConstDisallowed(pm.result));
        }
      }
      if (pm.error) return fail(st.from, pm.error);
      if (pm.result === '') return fail(st.from, `empty platform value from expression ${st.platform}`);
      if (!parsePlatform(pm.result)) return fail(st.from, `failed to parse platform ${st.platform}`);
    }
  }

  // Stage graph: which stage each stage builds on, and which it copies/mounts from.
  const byName = new Map<string, number>();
  const baseStage: (number | null)[] = [];
  stages.forEach((st, i) => {
    const b = resolvedBase[i].toLowerCase();
    baseStage.push(byName.has(b) ? byName.get(b)! : null);
    if (st.name && !byName.has(st.name)) byName.set(st.name, i);
  });
  let dispatchSet: Set<number>;
  if (options.allStages === false) {
    const tIdx = target ? byName.get(target) : stages.length - 1;
    if (tIdx === undefined) return finish();
    dispatchSet = new Set();
    const visit = (i: number) => {
      if (dispatchSet.has(i)) return;
      dispatchSet.add(i);
      if (baseStage[i] !== null) visit(baseStage[i]!);
      for (const c of stages[i].commands) {
        const refs: string[] = [];
        const from = c.flags.find((f) => f.name === 'from');
        if (from?.value && (c.upper === 'COPY' || c.upper === 'ADD')) refs.push(from.value);
        if (c.upper === 'RUN') {
          for (const f of c.flags) if (f.name === 'mount' && f.value) {
            const m = /(?:^|,)from=([^,]+)/.exec(f.value);
            if (m) refs.push(m[1]);
          }
        }
        for (const r of refs) {
          const idx = /^\d+$/.test(r) ? Number(r) : byName.get(r.toLowerCase());
          if (idx !== undefined && idx < stages.length) visit(idx);
        }
      }
    };
    visit(tIdx);
  } else {
    dispatchSet = new Set(stages.map((_, i) => i));
  }

  const ignore = options.dockerignore != null ? DockerIgnore.of(options.dockerignore) : null;
  const useIgnore = ignore !== null && ignore.patterns.length > 0 && !ignore.hasExceptions;
  const rootIgnored = ignore?.patterns.some((p) => !p.exclusion && ['*', '**', '**/*'].includes(cleanPath(p.text))) ?? false;

  const finalStates: (StageState | undefined)[] = [];
  for (let si = 0; si < stages.length; si++) {
    if (!dispatchSet.has(si)) continue;
    const st = stages[si];
    const b = baseStage[si];
    const baseState = b !== null ? finalStates[b] : undefined;
    const state: StageState = baseState
      ? { env: baseState.env.clone(), shellSet: baseState.shellSet, workdirSet: baseState.workdirSet }
      : { env: new OrderedEnv(), shellSet: false, workdirSet: false };
    if (state.env.get('PATH') === undefined) state.env.set('PATH', DEFAULT_PATH);
    const declared = new Set<string>();
    const used = { cmd: null as ScanInstruction | null, entrypoint: null as ScanInstruction | null, healthcheck: null as ScanInstruction | null };

    for (const c of st.commands) {
      const l = lint.merged(c.prevComments);
      const kw = c.upper;
      const expand = (word: string): string => {
        const r = processWord(word, state.env, esc);
        reportUnmatched(l, c, declared, state.env, r.unmatched);
        return r.result;
      };
      const heredocNames = new Set(c.heredocs.map((h) => h.name));
      const isHeredocWord = (w: string) => /^\d*<<-?/.test(w) && heredocNames.has(w.replace(/^\d*<<-?/, '').replace(/["']/g, ''));
      switch (kw) {
        case 'ENV': case 'LABEL': {
          const kvs = nameValOf(c, esc);
          if (kvs === 'error') break;
          const expanded = kvs.map((kv) => ({ key: expand(kv.key), value: expand(kv.value), noDelim: kv.noDelim }));
          for (const kv of expanded) {
            if (kv.noDelim) l.at('LegacyKeyValueFormat', c, BK.LegacyKeyValueFormat(c.keyword));
            if (kw === 'ENV') {
              secretKey(l, 'ENV', kv.key, c);
              state.env.set(kv.key, kv.value);
            }
          }
          break;
        }
        case 'COPY': case 'ADD': {
          for (const f of c.flags) {
            if (f.value !== null && (f.name === 'chown' || f.name === 'chmod' || (kw === 'ADD' && f.name === 'checksum'))) expand(f.value);
          }
          const json = parseJsonArgs(c.rest);
          const words = (json ?? parseWords(c.rest, esc)).filter((w) => !isHeredocWord(w));
          const expanded = words.map(expand);
          const sources = expanded.slice(0, -1);
          const fromStage = c.flags.some((f) => f.name === 'from');
          if (useIgnore && !(kw === 'COPY' && fromStage)) {
            for (const src of sources) {
              if (/^(https?:\/\/|git@)/.test(src)) continue;
              const clean = goClean(src);
              if ((clean === '.' || clean === '/') && !rootIgnored) continue;
              if (clean === '.' ? rootIgnored : ignore!.excludes(clean)) {
                l.at('CopyIgnoredFile', c, BK.CopyIgnoredFile(kw === 'ADD' ? 'Add' : 'Copy', clean));
              }
            }
          }
          break;
        }
        case 'WORKDIR': {
          const p = expand(c.rest);
          if (!state.workdirSet && !p.startsWith('/')) l.at('WorkdirRelativePath', c, BK.WorkdirRelativePath(p));
          state.workdirSet = true;
          break;
        }
        case 'USER': case 'STOPSIGNAL': expand(c.rest); break;
        case 'VOLUME': for (const w of parseJsonArgs(c.rest) ?? parseWords(c.rest, esc)) expand(w); break;
        case 'CMD': case 'ENTRYPOINT': case 'HEALTHCHECK': {
          const key = kw === 'CMD' ? 'cmd' : kw === 'ENTRYPOINT' ? 'entrypoint' : 'healthcheck';
          const prev = used[key];
          if (prev) lint.merged(c.prevComments).run('MultipleInstructionsDisallowed', prev.startLine, prev.endLine, prev.column, BK.MultipleInstructionsDisallowed(c.keyword));
          used[key] = c;
          if (kw !== 'HEALTHCHECK' && parseJsonArgs(c.rest) === null && !state.shellSet) {
            l.at('JSONArgsRecommended', c, BK.JSONArgsRecommended(c.keyword));
          }
          break;
        }
        case 'SHELL': state.shellSet = true; break;
        case 'EXPOSE': {
          for (const w of parseWords(c.rest, esc)) {
            for (const port of processWord(w, state.env, esc, true).words) {
              const { ip, hostPort, containerPort } = splitPortParts(port);
              const proto = containerPort.includes('/') ? containerPort.slice(containerPort.indexOf('/') + 1) : '';
              if (proto !== proto.toLowerCase()) l.at('ExposeProtoCasing', c, BK.ExposeProtoCasing(port));
              if (ip !== '' || hostPort !== '') l.at('ExposeInvalidFormat', c, BK.ExposeInvalidFormat(port));
            }
          }
          break;
        }
        case 'ARG': {
          for (const d of parseArgDefs(c.rest, esc)) {
            secretKey(l, 'ARG', d.key, c);
            let value: string | null = null;
            if (buildArgs.has(d.key)) value = buildArgs.get(d.key)!;
            else if (d.value !== null) {
              const r = processWord(d.value, state.env, esc);
              reportUnmatched(l, c, declared, state.env, r.unmatched);
              value = r.result;
            } else if (globals.get(d.key) !== undefined) value = globals.get(d.key)!;
            if (value !== null && !NON_ENV_ARGS.has(d.key)) state.env.set(d.key, value);
            declared.add(d.key);
          }
          break;
        }
        default: break;
      }
    }
    finalStates[si] = state;
  }
  return finish();
}

function definitionDescription(l: Linter, instruction: string, keys: string[], ins: ScanInstruction): void {
  if (ins.prevComments.length === 0 || keys.length === 0) return;
  const first = ins.prevComments[ins.prevComments.length - 1].split(' ')[0];
  if (keys.includes(first)) return;
  l.at('InvalidDefinitionDescription', ins, BK.InvalidDefinitionDescription(instruction, keys.length > 1 ? '<arg_key>' : keys[0]));
}

function reportUnusedFromArgs(l: Linter, known: Set<string>, unmatched: ReadonlySet<string>, ins: ScanInstruction): void {
  for (const arg of unmatched) {
    if (known.has(arg)) continue;
    l.at('UndefinedArgInFrom', ins, BK.UndefinedArgInFrom(arg, suggest(arg, known)));
  }
}

function reportUnmatched(l: Linter, ins: ScanInstruction, declared: Set<string>, env: VarEnv, unmatched: ReadonlySet<string>): void {
  for (const v of unmatched) {
    if (declared.has(v) || NON_ENV_ARGS.has(v)) continue;
    l.at('UndefinedVar', ins, BK.UndefinedVar(v, suggest(v, env.keys())));
  }
}

function secretKey(l: Linter, instruction: string, key: string, ins: ScanInstruction): void {
  if (SECRET_DENY.test(key) && !SECRET_ALLOW.test(key)) l.at('SecretsUsedInArgOrEnv', ins, BK.SecretsUsedInArgOrEnv(instruction, key));
}

/** [ip:]hostPort:containerPort, where ip may be a bracketed IPv6 address. */
function splitPortParts(raw: string): { ip: string; hostPort: string; containerPort: string } {
  const last = raw.lastIndexOf(':');
  if (last < 0) return { ip: '', hostPort: '', containerPort: raw };
  const containerPort = raw.slice(last + 1);
  const rest = raw.slice(0, last);
  const i = rest.lastIndexOf(':');
  if (i < 0 || (rest.startsWith('[') && rest.endsWith(']'))) return { ip: rest.startsWith('[') ? rest : '', hostPort: rest.startsWith('[') ? '' : rest, containerPort };
  return { ip: rest.slice(0, i), hostPort: rest.slice(i + 1), containerPort };
}

/** Go's filepath.Clean for slash paths. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}
