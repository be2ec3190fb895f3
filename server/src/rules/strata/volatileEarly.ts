import type { StrataRule, StageInfo } from '../ruleContext';
import { atInstruction } from '../ruleContext';
import { parseWords, perInstruction } from '../dockerfileScan';
import { dependencyInstall, aptInstall, baseName, subcommand } from '../packageCommands';
import { effectiveArgv } from '../ruleContext';

/** Names of values that differ on every build. */
const VOLATILE = /(^|_)(BUILD_?DATE|BUILD_?TIME|BUILD_?TIMESTAMP|TIMESTAMP|DATE|GIT_?COMMIT|GIT_?SHA|GIT_?REV(ISION)?|COMMIT(_?SHA|_?HASH|_?ID)?|SHA|REVISION|VCS_?REF|SOURCE_?COMMIT|BUILD_?NUMBER|BUILD_?ID|CI_?COMMIT_?SHA|CI_?PIPELINE_?ID|CACHE_?BUST(ER)?|CACHEBUST)$/i;
/** Package installs: expensive, and they never read a commit SHA or a build date (a compiler step might, through the env). */
const INSTALLERS: Record<string, string[]> = { apk: ['add'], yum: ['install'], dnf: ['install'], microdnf: ['install'], zypper: ['install', 'in'], pip: ['install'], pip3: ['install'], npm: ['install', 'ci', 'i'], gem: ['install'] };

/** The per-build names an ARG declares or an ENV refers to (per instruction). */
const volatileNames = perInstruction((ins, escape): readonly string[] => (ins.upper === 'ARG'
  ? parseWords(ins.rest, escape).map((w) => w.split('=')[0]).filter((n) => VOLATILE.test(n))
  : [...ins.rest.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]).filter((n) => VOLATILE.test(n))));

export const volatileEarly: StrataRule = {
  id: 'cache/volatile-early',
  severity: 'warning',
  title: 'A per-build value (date, commit SHA, build number) is declared before expensive steps',
  equivalents: [],
  rationale: 'Build arguments are part of the environment of every later RUN in the stage, and ENV values of every later step: when a value that '
    + 'changes on every build (a timestamp, a commit SHA) is declared early, every RUN after it misses the cache, however expensive. '
    + 'Declare it as late as possible, just before the step that uses it (often a LABEL at the end).',
  examples: {
    bad: 'FROM debian:12\nARG GIT_COMMIT\nRUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*\nLABEL org.opencontainers.image.revision=$GIT_COMMIT\n',
    good: 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*\nARG GIT_COMMIT\nLABEL org.opencontainers.image.revision=$GIT_COMMIT\n',
  },
  check(ctx) {
    for (const st of ctx.stages as StageInfo[]) {
      for (let i = 0; i < st.body.length; i++) {
        const ins = st.body[i];
        if (ins.upper !== 'ARG' && ins.upper !== 'ENV') continue;
        const names = volatileNames(ins, ctx.scan.escape);
        if (names.length === 0) continue;
        const later = st.body.slice(i + 1).find((r) => r.upper === 'RUN' && ctx.commands(r).some((c) => {
          const argv = effectiveArgv(c);
          const n = baseName(argv[0]);
          return aptInstall(c) || dependencyInstall(c) !== null || (INSTALLERS[n]?.includes(subcommand(argv).sub) ?? false);
        }) && !names.some((n) => r.line.includes('$' + n) || r.line.includes('${' + n)));
        if (!later) continue;
        ctx.report(atInstruction(ctx, ins,
          `\`${names[0]}\` changes on every build, so every RUN after line ${ins.startLine + 1} misses the cache (first: line ${later.startLine + 1}): declare it just before the step that uses it`));
      }
    }
  },
};
