import type { StrataRule } from '../ruleContext';
import { atCommand, runsOf, effectiveArgv } from '../ruleContext';
import { baseName } from '../packageCommands';

export const cdInRun: StrataRule = {
  id: 'style/cd-in-run',
  severity: 'info',
  title: '`cd` in RUN instead of WORKDIR',
  equivalents: ['DL3003'],
  rationale: 'A `cd` only lasts for its RUN; later instructions start in the WORKDIR again, which is easy to forget. '
    + 'WORKDIR makes the directory explicit for every following instruction. `cd` inside a subshell `( … )` is not reported.',
  examples: {
    bad: 'FROM debian:12\nRUN cd /usr/src/app && make\n',
    good: 'FROM debian:12\nWORKDIR /usr/src/app\nRUN make\n',
  },
  check(ctx) {
    for (const ins of runsOf(ctx)) {
      const cd = ctx.commands(ins).find((c) => !c.inSubshell && baseName(effectiveArgv(c)[0]) === 'cd');
      if (cd) ctx.report(atCommand(cd, '`cd` only applies within this RUN: use WORKDIR to set the directory for the following instructions'));
    }
  },
};
