import type { StrataRule } from '../ruleContext';
import { argumentWords, atInstruction } from '../ruleContext';
import { DockerIgnore } from '../../cache/dockerignore';

export const copyDockerfile: StrataRule = {
  id: 'cache/copy-dockerfile',
  severity: 'info',
  title: '`COPY . .` sends the Dockerfile itself into the image',
  equivalents: [],
  rationale: 'Without `Dockerfile` in `.dockerignore`, `COPY . .` copies the Dockerfile too, so every edit of the Dockerfile — even a comment — '
    + 'changes that layer and every step after it misses the cache. Add the Dockerfile (and `.dockerignore`) to `.dockerignore`.',
  examples: {
    bad: 'FROM alpine:3.20\nWORKDIR /app\nCOPY . .\n',
    good: 'FROM alpine:3.20\nWORKDIR /app\nCOPY src/ ./src/\n',
  },
  check(ctx) {
    // Needs the build context: without a context reader nothing can be said.
    if (!ctx.context) return;
    const dockerfile = ctx.dockerfilePath;
    const ignoreText = ctx.context.readFile('.dockerignore');
    const ignore = ignoreText !== undefined ? DockerIgnore.of(ignoreText) : null;
    if (ignore?.excludes(dockerfile)) return;
    for (const ins of ctx.scan.instructions) {
      if ((ins.upper !== 'COPY' && ins.upper !== 'ADD') || ins.flags.some((f) => f.name === 'from')) continue;
      const words = argumentWords(ins, ctx.scan.escape);
      if (!words.slice(0, -1).some((w) => /^(\.|\.\/|\.\/\*|\*)$/.test(w.replace(/^["']|["']$/g, '')))) continue;
      ctx.report(atInstruction(ctx, ins, `${ins.upper} of the whole context includes ${dockerfile}: every Dockerfile edit makes line ${ins.startLine + 1} and everything after it miss the cache — add ${dockerfile} to .dockerignore`));
      return;
    }
  },
};
