import type { StrataRule } from '../ruleContext';
import { atCommand, runsOf } from '../ruleContext';
import { aptInstall, aptUpdate } from '../packageCommands';

export const aptUpdateAlone: StrataRule = {
  id: 'cache/apt-update-alone',
  severity: 'warning',
  title: '`apt-get update` in a RUN without an install',
  equivalents: [],
  rationale: 'The layer that ran `apt-get update` stays cached, so a later `apt-get install` in another RUN keeps using the package lists '
    + 'from the day that layer was built: new packages are not found and versions go stale. Update and install in the same RUN.',
  examples: {
    bad: 'FROM debian:12\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n',
    good: 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n',
  },
  check(ctx) {
    for (const ins of runsOf(ctx)) {
      const cmds = ctx.commands(ins);
      const update = cmds.find(aptUpdate);
      if (!update || cmds.some(aptInstall)) continue;
      ctx.report(atCommand(update, '`apt-get update` runs without an install in the same RUN: its cached package lists go stale while later install layers stay cached'));
    }
  },
};
