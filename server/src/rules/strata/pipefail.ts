import type { StrataRule } from '../ruleContext';
import { effectiveArgv } from '../ruleContext';
import { baseName } from '../packageCommands';
import { parseJsonArgs } from '../dockerfileScan';

const FALLIBLE = new Set(['curl', 'wget', 'git', 'aria2c', 'fetch', 'gsutil', 'aws', 'az', 'gcloud', 'scp', 'rsync', 'ssh',
  'tar', 'unzip', 'gzip', 'gunzip', 'zcat', 'xz', 'unxz', 'bzip2', 'bunzip2', 'zstd', 'gpg', 'openssl',
  'apt-get', 'apt', 'apk', 'yum', 'dnf', 'pip', 'pip3', 'npm', 'yarn', 'make', 'go', 'cargo', 'mvn', 'gradle', 'docker']);

export const pipefail: StrataRule = {
  id: 'reliability/pipefail',
  severity: 'warning',
  title: 'A pipe in RUN under /bin/sh hides the failure of a download, unpack or build feeding it',
  equivalents: ['DL4006'],
  rationale: 'RUN uses `/bin/sh -c`, where a pipeline\'s status is its last command\'s: `curl … | tar x` succeeds even when the download fails, '
    + 'and the broken layer is cached. Use `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` (or `set -o pipefail` where the shell supports it).',
  examples: {
    bad: 'FROM debian:12\nRUN curl -fsSL https://example.com/x.tgz | tar -xz -C /opt\n',
    good: 'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -fsSL https://example.com/x.tgz | tar -xz -C /opt\n',
  },
  check(ctx) {
    for (const st of ctx.stages) {
      // SHELL with pipefail in this stage or the stages it builds on.
      let pipefailShell = false;
      for (let s: typeof st | undefined = st; s; s = s.baseStage !== null ? ctx.stages[s.baseStage] : undefined) {
        if (s.body.some((i) => i.upper === 'SHELL' && /pipefail/.test(i.rest))) { pipefailShell = true; break; }
        if (s.baseStage === s.index) break;
      }
      let shellNow = pipefailShell;
      for (const ins of st.body) {
        if (ins.upper === 'SHELL') {
          const json = parseJsonArgs(ins.rest);
          shellNow = /pipefail/.test(ins.rest) || !/(^|\/)(sh|bash|ash|dash)$/.test(json?.[0] ?? '');
          continue;
        }
        if (ins.upper !== 'RUN' || shellNow) continue;
        const script = ctx.shell(ins);
        if (!script || !script.hasPipe) continue;
        const cmds = script.commands;
        // Reported when a producer can fail for reasons outside the Dockerfile (a download, an archive, a package
        // manager, a build): `curl … | tar x`. Local introspection pipes (`find … | sort | xargs …`, `echo … | sha256sum -c`)
        // are everywhere in well-kept Dockerfiles and are not reported.
        const firstPipe = cmds.find((c) => c.pipeLength > 1 && c.pipeIndex < c.pipeLength - 1 && FALLIBLE.has(baseName(effectiveArgv(c)[0])));
        if (!firstPipe) continue;
        const setBefore = cmds.some((c) => (c.line < firstPipe.line || (c.line === firstPipe.line && c.column < firstPipe.column))
          && baseName(effectiveArgv(c)[0]) === 'set' && c.argv.some((a, i) => a === 'pipefail' && /^[-+]\w*o$/.test(c.argv[i - 1] ?? '')));
        if (setBefore) continue;
        // Piping into something that cannot fail meaningfully (`| true`, `|| true` is not a pipe) is still reported: the producer's failure is hidden.
        const line = ctx.scan.lines[firstPipe.line] ?? '';
        const bar = line.indexOf('|', firstPipe.column);
        ctx.report({ line: firstPipe.line, character: bar >= 0 ? bar : firstPipe.column, endLine: firstPipe.line, endCharacter: bar >= 0 ? bar + 1 : line.length,
          message: `Only the last command of this pipe decides whether RUN fails (/bin/sh has no pipefail): a failed \`${firstPipe.argv[0]}\` is hidden — set SHELL ["/bin/bash", "-o", "pipefail", "-c"]` });
      }
    }
  },
};
