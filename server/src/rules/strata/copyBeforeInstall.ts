import type { StrataRule, RuleContext, StageInfo, RuleFix } from '../ruleContext';
import { argumentWords, atInstruction } from '../ruleContext';
import { dependencyInstall, type DependencyInstall } from '../packageCommands';
import type { ScanInstruction } from '../dockerfileScan';

const SOURCE_DIRS = new Set(['src', 'app', 'apps', 'lib', 'pkg', 'cmd', 'internal', 'server', 'client', 'web', 'public', 'packages', 'source', 'sources', 'code']);

/** Sources that bring the whole project (or a source tree) rather than named manifest files. */
function broadSources(ins: ScanInstruction, escape: string): string[] {
  const words = argumentWords(ins, escape).map((w) => w.replace(/^["']|["']$/g, ''));
  if (words.length < 2 || words.some((w) => w.startsWith('<<'))) return [];
  return words.slice(0, -1).filter((s) => {
    if (/^(https?:|git@)/.test(s) || s.includes('$')) return false;
    const clean = s.replace(/^\.\//, '').replace(/\/+$/, '');
    if (clean === '' || clean === '.' || clean === '*' || clean === './*') return true;
    // A source tree: a path written as a directory (`lib/`) or a conventional source folder name. Extensionless
    // names are not enough (`COPY entrypoint /usr/local/bin/` is a file).
    if (/\/$/.test(s.replace(/\/+$/, '/')) && s.endsWith('/')) return true;
    const last = clean.slice(clean.lastIndexOf('/') + 1);
    return SOURCE_DIRS.has(last);
  });
}

function destOf(ins: ScanInstruction, escape: string): string {
  const words = argumentWords(ins, escape);
  const d = (words[words.length - 1] ?? '.').replace(/^["']|["']$/g, '');
  return d === '.' || d === './' ? './' : d.endsWith('/') ? d : d + '/';
}

function splitFix(ctx: RuleContext, copy: ScanInstruction, run: ScanInstruction, dep: DependencyInstall): RuleFix | undefined {
  if (dep.ecosystem !== 'npm' && dep.ecosystem !== 'pip') return undefined;
  const cmds = ctx.commands(run);
  // Only a RUN that is exactly the install, on one line, can move without changing what else runs.
  if (cmds.length !== 1 || run.startLine !== run.endLine || run.flags.length > 0) return undefined;
  const manifests = dep.ecosystem === 'npm' ? 'package*.json' : dep.manifests.join(' ');
  const indent = ' '.repeat(copy.column);
  const runText = ctx.scan.lines[run.startLine].trim();
  return {
    title: `Copy ${manifests} and run ${dep.label} before ${copy.keyword} of the whole source`,
    edits: [
      { line: copy.startLine, character: 0, endLine: copy.startLine, endCharacter: 0, newText: `${indent}COPY ${manifests} ${destOf(copy, ctx.scan.escape)}\n${indent}${runText}\n` },
      { line: run.startLine, character: 0, endLine: run.startLine + 1, endCharacter: 0, newText: '' },
    ],
  };
}

export const copyBeforeInstall: StrataRule = {
  id: 'cache/copy-before-install',
  severity: 'warning',
  title: 'A broad COPY comes before a dependency install that only needs the manifest files',
  equivalents: [],
  rationale: 'Dependency installs (npm ci, pip install -r, go mod download, bundle install, …) only read manifest and lock files. '
    + 'When the whole source is copied first, every source edit changes that COPY layer, so the install below it re-runs on every build. '
    + 'Copy the manifests, install, then copy the rest.',
  examples: {
    bad: 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "server.js"]\n',
    good: 'FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD ["node", "server.js"]\n',
  },
  check(ctx) {
    for (const st of ctx.stages as StageInfo[]) {
      const broad: { ins: ScanInstruction; src: string }[] = [];
      for (const ins of st.body) {
        if ((ins.upper === 'COPY' || ins.upper === 'ADD') && !ins.flags.some((f) => f.name === 'from')) {
          const b = broadSources(ins, ctx.scan.escape);
          if (b.length > 0) broad.push({ ins, src: b[0] });
          continue;
        }
        if (ins.upper !== 'RUN' || broad.length === 0) continue;
        const dep = ctx.commands(ins).map(dependencyInstall).find((d) => d !== null);
        if (!dep) continue;
        const first = broad[0];
        const what = first.src === '.' || first.src === './' ? 'file in the build context' : `change under ${first.src}`;
        ctx.report(atInstruction(ctx, first.ins,
          `Every ${what} re-runs \`${dep.label}\` (line ${ins.startLine + 1}): copy only ${dep.manifests.join(' and ')} before it, then the rest`,
          splitFix(ctx, first.ins, ins, dep)));
        broad.length = 0;
      }
    }
  },
};
