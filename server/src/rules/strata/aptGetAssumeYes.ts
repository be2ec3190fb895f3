import type { StrataRule } from '../ruleContext';
import { atCommand, runsOf, effectiveArgv } from '../ruleContext';
import { aptInstall } from '../packageCommands';

export const aptGetAssumeYes: StrataRule = {
  id: 'reliability/apt-get-assume-yes',
  severity: 'warning',
  title: '`apt-get install` without `-y`',
  equivalents: ['DL3014'],
  rationale: 'Without `-y` apt asks for confirmation, which a build cannot give: the RUN aborts.',
  examples: {
    bad: 'FROM debian:12\nRUN apt-get update && apt-get install --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n',
    good: 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n',
  },
  check(ctx) {
    for (const ins of runsOf(ctx)) {
      for (const cmd of ctx.commands(ins)) {
        if (!aptInstall(cmd)) continue;
        const argv = effectiveArgv(cmd);
        const yes = argv.some((a) => a === '--yes' || a === '--assume-yes' || a === '-qq' || a === '-q=2' || /^-[a-zA-Z]*y[a-zA-Z]*$/.test(a) || /APT::Get::Assume-Yes=(true|1|yes)/i.test(a));
        if (!yes && !/APT_GET_ASSUME_YES|Assume-Yes/i.test(ctx.scan.text)) ctx.report(atCommand(cmd, '`apt-get install` without -y waits for a confirmation the build cannot give: add -y'));
      }
    }
  },
};
