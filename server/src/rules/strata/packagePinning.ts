import type { StrataRule, RuleContext } from '../ruleContext';
import { atCommand, runsOf, effectiveArgv } from '../ruleContext';
import type { ShellCommand } from '../shellScript';
import { baseName, operands, subcommand } from '../packageCommands';

/** One pinning rule per package manager: which commands install, and whether an operand is pinned. */
function pinningRule(id: string, equivalents: string[], manager: string, installs: (argv: string[]) => number,
  pinned: (pkg: string) => boolean, example: { bad: string; good: string }): StrataRule {
  return {
    id,
    severity: 'off',
    title: `${manager} packages installed without a pinned version`,
    equivalents,
    rationale: `Unpinned ${manager} packages install whatever is current when the layer is rebuilt, so two builds of the same Dockerfile differ. `
      + 'Off by default (pinning distribution packages is a maintenance trade-off); enable it with `strata.rules` or .strata.json.',
    examples: example,
    check(ctx: RuleContext) {
      for (const ins of runsOf(ctx)) {
        for (const cmd of ctx.commands(ins) as ShellCommand[]) {
          const argv = effectiveArgv(cmd);
          const at = installs(argv);
          if (at < 0) continue;
          const loose = operands(argv, at).filter((p) => !p.includes('$') && !p.startsWith('/') && !p.startsWith('.') && !pinned(p));
          if (loose.length > 0) ctx.report(atCommand(cmd, `${loose.slice(0, 3).join(', ')}${loose.length > 3 ? ', …' : ''} not pinned: the version installed changes when the layer is rebuilt`));
        }
      }
    },
  };
}

const sub = (argv: string[], names: string[], words: string[]) => {
  if (!names.includes(baseName(argv[0]))) return -1;
  const s = subcommand(argv);
  return words.includes(s.sub) ? s.index : -1;
};

export const aptVersions = pinningRule('pinning/apt-versions', ['DL3008'], 'apt', (a) => sub(a, ['apt-get', 'apt'], ['install']), (p) => p.includes('='),
  { bad: 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n', good: 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 && rm -rf /var/lib/apt/lists/*\n' });
export const apkVersions = pinningRule('pinning/apk-versions', ['DL3018'], 'apk', (a) => sub(a, ['apk'], ['add']), (p) => /[=~<>]/.test(p),
  { bad: 'FROM alpine:3.20\nRUN apk add --no-cache curl\n', good: 'FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.1-r1\n' });
export const pipVersions = pinningRule('pinning/pip-versions', ['DL3013'], 'pip', (a) => {
  const i = sub(a, ['pip', 'pip3'], ['install']);
  return a.some((x) => x === '-r' || x.startsWith('--requirement') || x === '-e' || x === '--upgrade' || x === '-U') ? -1 : i;
}, (p) => /[=<>~@]/.test(p) || p.endsWith('.whl') || p.includes('://'),
  { bad: 'FROM python:3.12-slim\nRUN pip install --no-cache-dir flask\n', good: 'FROM python:3.12-slim\nRUN pip install --no-cache-dir flask==3.0.3\n' });
export const npmVersions = pinningRule('pinning/npm-versions', ['DL3016'], 'npm', (a) => {
  const i = sub(a, ['npm'], ['install', 'i', 'add']);
  return i >= 0 && a.some((x) => x === '-g' || x === '--global') ? i : -1;
}, (p) => /@[~^]?\d/.test(p.replace(/^@/, '')) || p.includes('#') || p.includes('://'),
  { bad: 'FROM node:20\nRUN npm install -g typescript\n', good: 'FROM node:20\nRUN npm install -g typescript@5.6.3\n' });
