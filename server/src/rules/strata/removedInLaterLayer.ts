import type { StrataRule, StageInfo } from '../ruleContext';
import { argumentWords, atCommand, effectiveArgv, finalChain } from '../ruleContext';
import { baseName } from '../packageCommands';
import type { ScanInstruction } from '../dockerfileScan';

function join(dir: string, p: string): string {
  const abs = p.startsWith('/') ? p : (dir.endsWith('/') ? dir : dir + '/') + p;
  const out: string[] = [];
  for (const seg of abs.split('/')) {
    if (!seg || seg === '.') continue;
    if (seg === '..') out.pop(); else out.push(seg);
  }
  return '/' + out.join('/');
}

export const removedInLaterLayer: StrataRule = {
  id: 'size/removed-in-later-layer',
  severity: 'warning',
  title: 'A file added in one layer is deleted in a later one',
  equivalents: [],
  rationale: 'Layers are additive: deleting a file in a later RUN only hides it, the bytes still ship in the layer that added it. '
    + 'Download, use and delete in the same RUN, use a multi-stage build, or `RUN --mount=type=bind` to use a file without adding it.',
  examples: {
    bad: 'FROM debian:12\nCOPY app.tar.gz /tmp/app.tar.gz\nRUN tar -xzf /tmp/app.tar.gz -C /opt\nRUN rm /tmp/app.tar.gz\n',
    good: 'FROM debian:12\nRUN --mount=type=bind,source=app.tar.gz,target=/tmp/app.tar.gz tar -xzf /tmp/app.tar.gz -C /opt\n',
  },
  check(ctx) {
    const chain = [...finalChain(ctx)].sort((a, b) => a.index - b.index) as StageInfo[];
    const added = new Map<string, ScanInstruction>();
    for (const st of chain) {
      let workdir = '/';
      for (const ins of st.body) {
        if (ins.upper === 'WORKDIR') { workdir = join(workdir, ins.rest.trim()); continue; }
        if ((ins.upper === 'COPY' || ins.upper === 'ADD') && !ins.flags.some((f) => f.name === 'from' || f.name === 'link')) {
          const words = argumentWords(ins, ctx.scan.escape).map((w) => w.replace(/^["']|["']$/g, ''));
          if (words.length < 2 || words.some((w) => w.includes('$') || w.startsWith('<<'))) continue;
          const dest = words[words.length - 1];
          const srcs = words.slice(0, -1);
          if (srcs.length === 1 && !dest.endsWith('/') && !/[*?]/.test(srcs[0])) added.set(join(workdir, dest), ins);
          else for (const s of srcs) if (!/[*?]/.test(s) && !/^https?:/.test(s)) added.set(join(join(workdir, dest), s.replace(/\/+$/, '').split('/').pop()!), ins);
          continue;
        }
        if (ins.upper !== 'RUN') continue;
        const cmds = ctx.commands(ins);
        for (const cmd of cmds) {
          const argv = effectiveArgv(cmd);
          const n = baseName(argv[0]);
          if (n === 'rm') {
            for (const a of argv.slice(1)) {
              if (a.startsWith('-') || a.includes('$')) continue;
              const target = join(workdir, a.replace(/\/?\*$/, ''));
              for (const [path, where] of added) {
                if (where === ins || !(path === target || path.startsWith(target + '/')) || target === '/') continue;
                ctx.report(atCommand(cmd, `${path} is added on line ${where.startLine + 1} and deleted here on line ${cmd.line + 1}: it still ships in the layer of line ${where.startLine + 1}`));
                added.delete(path);
              }
            }
          }
          // Files a RUN downloads stay in its layer too.
          const out = n === 'curl' ? argv.findIndex((a) => a === '-o' || a === '--output') : n === 'wget' ? argv.findIndex((a) => a === '-O' || a === '--output-document') : -1;
          if (out > 0 && argv[out + 1] && argv[out + 1] !== '-' && !argv[out + 1].includes('$')) {
            const p = join(workdir, argv[out + 1]);
            // Deleted in the same RUN: fine.
            if (!cmds.some((c) => baseName(effectiveArgv(c)[0]) === 'rm' && effectiveArgv(c).slice(1).some((a) => join(workdir, a.replace(/\/?\*$/, '')) === p || p.startsWith(join(workdir, a.replace(/\/?\*$/, '')) + '/')))) added.set(p, ins);
          }
        }
      }
    }
  },
};
