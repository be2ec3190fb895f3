import type { StrataRule } from '../ruleContext';
import { atCommand, runsOf } from '../ruleContext';
import { baseName } from '../packageCommands';

export const sudo: StrataRule = {
  id: 'security/sudo',
  severity: 'warning',
  title: '`sudo` in RUN',
  equivalents: ['DL3004'],
  rationale: '`sudo` in a build has unpredictable TTY and signal behaviour and keeps a privilege-escalation tool in the image. '
    + 'Run the step as root with `USER root` and switch back afterwards (or use gosu in entrypoints).',
  examples: {
    bad: 'FROM debian:12\nUSER app\nRUN sudo apt-get update\n',
    good: 'FROM debian:12\nUSER root\nRUN apt-get update\nUSER app\n',
  },
  check(ctx) {
    for (const ins of runsOf(ctx)) {
      const s = ctx.commands(ins).find((c) => baseName(c.argv[0]) === 'sudo');
      if (s) ctx.report(atCommand(s, '`sudo` in RUN: use USER root for the step instead'));
    }
  },
};
