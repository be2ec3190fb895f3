/**
 * Every diagnostic for one Dockerfile: dockerfile-utils' syntax validation, BuildKit's build checks (offline) and
 * Strata's own rules, after suppressions (`# strata-ignore`, `# check=skip=`, `# hadolint ignore=`, .hadolint.yaml)
 * and severity settings (.strata.json/.yaml, `strata.rules.<id>`). The text is scanned once and every rule shares
 * the scan (and each RUN's parsed shell script). Pure apart from the optional context reader; never throws.
 */
import type { StrataDiagnostic, Severity } from './strataDiagnostic';
import { validateSyntax } from './syntaxValidation';
import { scanDockerfile, parseDirectiveLine, type DockerfileScan, type ScanInstruction } from './dockerfileScan';
import { runBuildkitChecks, type BuildkitCheckOptions, type BuildkitResult } from './buildkit/buildkitChecks';
import { BUILDKIT_RULE_BY_NAME } from './buildkit/buildkitRules';
import { buildkitFix } from './buildkit/buildkitFixes';
import { STRATA_RULES, docsUrlFor } from './ruleTable';
import { createRuleContext, type ContextReader, type Finding, type RuleFix, type StrataRule } from './ruleContext';
import { EMPTY_CONFIG, normaliseSetting, type StrataConfig, type RuleSetting } from './strataConfig';

export interface CheckOptions {
  /** Build args given on the command line (the `BUILDKIT_DOCKERFILE_CHECK` form of the check directive among them). */
  buildArgs?: ReadonlyMap<string, string>;
  /** Per-rule severity overrides (`strata.rules.<id>` settings); they win over the workspace config. */
  severities?: Readonly<Record<string, string>>;
  /** Workspace configuration (.strata.json/.yaml, .hadolint.yaml), see `loadWorkspaceConfig`. */
  config?: StrataConfig;
  /** Reads the build context (for `.dockerignore`: CopyIgnoredFile, cache/copy-dockerfile). */
  context?: ContextReader;
  /** The Dockerfile's path relative to the build context (default `Dockerfile`). */
  dockerfilePath?: string;
  /** Build target: with `buildOnly`, BuildKit's checks cover only the stages the target needs, as a build reports them. */
  target?: string | null;
  buildOnly?: boolean;
  /** Called once per rule that threw: the rule is isolated, the others still report. */
  onRuleError?: (rule: string, error: unknown) => void;
}

export interface StrataDiagnosticWithFix extends StrataDiagnostic {
  fix?: RuleFix;
}

/** Every diagnostic for one Dockerfile text. Never throws. */
export function checkDockerfile(text: string, options: CheckOptions = {}): StrataDiagnosticWithFix[] {
  return checkDockerfileWith(text, options, FULL_CHECK);
}

/**
 * The costly parts of a check, which a caller may supply: `IncrementalChecker` passes ones that redo only what an
 * edit touched, with the same results as these.
 */
export interface CheckParts {
  /** dockerfile-utils' syntax validation. `lfLines`: the text split at LF, given for text without CR or byte-order mark. */
  syntax(text: string, lineCount: number, lfLines: string[] | undefined): StrataDiagnostic[];
  scan(text: string, lfLines: string[] | undefined): DockerfileScan;
  buildkit(scan: DockerfileScan, options: BuildkitCheckOptions): BuildkitResult;
}

export const FULL_CHECK: CheckParts = { syntax: (text, lineCount) => validateSyntax(text, lineCount), scan: scanDockerfile, buildkit: runBuildkitChecks };

/** `checkDockerfile` with the syntax validation, the scan and BuildKit's checks supplied by the caller. */
export function checkDockerfileWith(text: string, options: CheckOptions, parts: CheckParts): StrataDiagnosticWithFix[] {
  // The text split once, for the scan and the syntax validation (most texts have LF line ends only).
  const lfLines = text.indexOf('\r') < 0 && text.charCodeAt(0) !== 0xfeff ? text.split('\n') : undefined;
  const lineCount = lfLines ? lfLines.length : countLines(text);
  const out: StrataDiagnosticWithFix[] = [];
  const guard = <T>(rule: string, fn: () => T, fallback: T): T => {
    try { return fn(); } catch (e) { options.onRuleError?.(rule, e); return fallback; }
  };

  out.push(...guard('syntax', () => parts.syntax(text, lineCount, lfLines), []));

  const scan = guard('scan', () => parts.scan(text, lfLines), null);
  if (!scan) return out;
  const insAt = instructionIndex(scan);
  const config = options.config ?? EMPTY_CONFIG;

  // BuildKit's checks.
  guard('buildkit', () => {
    let dockerignore: string | null = null;
    if (options.context) dockerignore = options.context.readFile('.dockerignore') ?? null;
    const r = parts.buildkit(scan, { buildArgs: options.buildArgs, dockerignore, target: options.target, allStages: !options.buildOnly });
    for (const f of r.findings) {
      const info = BUILDKIT_RULE_BY_NAME.get(f.rule)!;
      const ins = insAt(f.line);
      let fix: RuleFix | undefined;
      try {
        fix = buildkitFix(f.rule, ins && ins.startLine === f.line ? ins : undefined, scan);
      } catch (e) {
        options.onRuleError?.(`fix ${f.rule}`, e);
      }
      out.push({
        rule: f.rule, line: f.line, character: f.column, endLine: f.line, endCharacter: scan.lines[f.line]?.length ?? 0,
        severity: r.violationError ? 'error' : 'warning', message: f.message, fixable: !!fix, equivalents: info.equivalents,
        docsUrl: info.url || docsUrlFor(f.rule), fix,
        tags: f.rule === 'MaintainerDeprecated' ? ['deprecated'] : undefined,
      });
    }
    if (r.configError) {
      const d = scan.directives.find((x) => x.name === 'check');
      const line = d?.line ?? 0;
      out.push({ rule: 'syntax/check-directive', line, character: 0, endLine: line, endCharacter: scan.lines[line]?.length ?? 0,
        severity: 'error', message: r.configError, fixable: false, equivalents: [], docsUrl: docsUrlFor('syntax/check-directive') });
    }
  }, undefined);

  // Strata's rules: each isolated.
  const ctx = createRuleContext(scan, options.context, () => undefined, options.dockerfilePath ?? 'Dockerfile');
  // (One findings array and one report function for all rules: this runs on every keystroke.)
  const found: Finding[] = [];
  ctx.report = (f) => found.push(f);
  for (const rule of enabledRules(config, options.severities)) {
    found.length = 0;
    try {
      rule.check(ctx);
    } catch (e) {
      options.onRuleError?.(rule.id, e);
      continue;
    }
    for (const f of found) {
      out.push({
        rule: rule.id, line: f.line, character: f.character, endLine: f.endLine, endCharacter: f.endCharacter,
        severity: rule.severity === 'off' ? 'info' : rule.severity, message: f.message, fixable: !!f.fix,
        equivalents: rule.equivalents, docsUrl: docsUrlFor(rule.id), fix: f.fix,
      });
    }
  }

  return guard('suppressions', () => applyControls(out, scan, insAt, config, options.severities), out)
    .sort((a, b) => a.line - b.line || a.character - b.character);
}

/** Finds the instruction whose lines contain a given line (a binary search: instructions are in line order). */
function instructionIndex(scan: DockerfileScan): (line: number) => ScanInstruction | undefined {
  const all = scan.instructions;
  return (line) => {
    let lo = 0;
    let hi = all.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const ins = all[mid];
      if (line < ins.startLine) hi = mid - 1;
      else if (line > ins.endLine) lo = mid + 1;
      else return ins;
    }
    return undefined;
  };
}

/**
 * The Strata rules that are not off under these settings. The last answer is kept: a document's checks pass the same
 * config and severities objects (the settings provider caches them) on every keystroke.
 */
let lastEnabled: { config: StrataConfig; severities: Readonly<Record<string, string>> | undefined; tableSize: number; rules: readonly StrataRule[] } | undefined;
function enabledRules(config: StrataConfig, severities: Readonly<Record<string, string>> | undefined): readonly StrataRule[] {
  // (The table's size too: tests add a rule to it for a while.)
  if (lastEnabled && lastEnabled.config === config && lastEnabled.severities === severities && lastEnabled.tableSize === STRATA_RULES.length) return lastEnabled.rules;
  const rules = STRATA_RULES.filter((r) => effectiveSetting(r.id, r.severity, r.equivalents, config, severities) !== 'off');
  lastEnabled = { config, severities, tableSize: STRATA_RULES.length, rules };
  return rules;
}

function effectiveSetting(id: string, def: RuleSetting, equivalents: readonly string[], config: StrataConfig,
  settings: Readonly<Record<string, string>> | undefined): RuleSetting {
  let s: RuleSetting = def;
  for (const code of equivalents) {
    if (config.hadolintIgnored.includes(code)) s = 'off';
    else if (config.hadolintOverride[code]) s = config.hadolintOverride[code];
  }
  if (config.rules[id]) s = config.rules[id];
  const fromSettings = normaliseSetting(settings?.[id]);
  if (fromSettings) s = fromSettings;
  return s;
}

function applyControls(diags: StrataDiagnosticWithFix[], scan: DockerfileScan, insAt: (l: number) => ScanInstruction | undefined,
  config: StrataConfig, settings: Readonly<Record<string, string>> | undefined): StrataDiagnosticWithFix[] {
  // `# hadolint global ignore=…` anywhere applies to the whole file.
  const globalIgnored = new Set<string>();
  // (Only files that mention it are read line by line: this runs on every keystroke.)
  if (/global/i.test(scan.text)) for (const l of scan.lines) {
    const m = /^\s*#\s*hadolint\s+global\s+ignore\s*=\s*([\w, ]+)/i.exec(l);
    if (m) for (const c of m[1].split(',')) globalIgnored.add(c.trim());
  }
  // File-level `# check=skip=` names our rules too (BuildKit ignores names it does not know).
  const fileSkips = new Set<string>();
  const checkDirective = scan.directives.find((d) => d.name === 'check');
  if (checkDirective) for (const id of skipList(checkDirective.value)) fileSkips.add(id);

  const out: StrataDiagnosticWithFix[] = [];
  for (const d of diags) {
    const isBuildkit = BUILDKIT_RULE_BY_NAME.has(d.rule);
    const ins = insAt(d.line);
    const comments = ins?.prevComments ?? [];
    const ignored = new Set<string>();
    const hadolintIgnored = new Set<string>();
    for (const c of comments) {
      const m = /^strata-ignore\s+([\w/,.\s-]+)$/.exec(c);
      if (m) for (const id of m[1].split(/[,\s]+/)) if (id) ignored.add(id);
      const h = /^hadolint\s+ignore\s*=\s*([\w,\s]+)/i.exec(c);
      if (h) for (const code of h[1].split(',')) hadolintIgnored.add(code.trim());
      if (!isBuildkit) {
        const dir = parseDirectiveLine(c, '');
        if (dir?.name === 'check') for (const id of skipList(dir.value)) ignored.add(id);
      }
    }
    if (ignored.has(d.rule) || ignored.has('all')) continue;
    if (!isBuildkit && fileSkips.has(d.rule)) continue;
    if (d.equivalents.some((c) => hadolintIgnored.has(c) || globalIgnored.has(c))) continue;
    // Settings (our rules that are off did not run; the others may have another severity).
    const s = effectiveSetting(d.rule, d.severity, d.equivalents, config, settings);
    if (s === 'off') continue;
    // A copy, not a change, when the setting differs: a part of the check may answer with objects it keeps (the
    // incremental syntax validation hands back its previous answer when nothing it depends on changed).
    out.push(s === d.severity ? d : { ...d, severity: s as Severity });
  }
  return out;
}

function skipList(value: string): string[] {
  const v = value.split(' ')[0];
  for (const part of v.split(';')) {
    const [k, val] = part.split('=');
    if (k?.trim() === 'skip' && val) return val.split(',').map((s) => s.trim()).filter(Boolean);
  }
  return [];
}

export function countLines(text: string): number {
  // indexOf instead of a loop over every character: this runs on every check of the whole text.
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) if (text.charCodeAt(i + 1) !== 10) n++;
  return n;
}
