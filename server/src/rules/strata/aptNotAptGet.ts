import type { StrataRule } from '../ruleContext';
import { atCommand, runsOf, effectiveArgv } from '../ruleContext';
import { baseName } from '../packageCommands';

export const aptNotAptGet: StrataRule = {
  id: 'reliability/apt-in-script',
  severity: 'warning',
  title: '`apt` used in a script instead of `apt-get`',
  equivalents: ['DL3027'],
  rationale: '`apt` is meant for people: its output and behaviour are not a stable interface and it warns so in scripts. Use apt-get (or apt-cache).',
  examples: {
    bad: 'FROM debian:12\nRUN apt update && apt install -y curl\n',
    good: 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n',
  },
  check(ctx) {
    for (const ins of runsOf(ctx)) {
      const c = ctx.commands(ins).find((x) => baseName(effectiveArgv(x)[0]) === 'apt');
      if (c) ctx.report(atCommand(c, '`apt` has no stable scripting interface: use apt-get'));
    }
  },
};
