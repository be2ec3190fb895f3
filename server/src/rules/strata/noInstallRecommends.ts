import type { StrataRule } from '../ruleContext';
import { atCommand, effectiveArgv, finalChain, runsIn } from '../ruleContext';
import { aptInstall, hasOption } from '../packageCommands';

export const noInstallRecommends: StrataRule = {
  id: 'size/no-install-recommends',
  severity: 'info',
  title: '`apt-get install` without `--no-install-recommends`',
  equivalents: ['DL3015'],
  rationale: 'By default apt also installs "recommended" packages, often doubling what lands in the layer. '
    + 'Only stages that end up in the final image are checked.',
  examples: {
    bad: 'FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n',
    good: 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n',
  },
  check(ctx) {
    for (const ins of runsIn(finalChain(ctx))) {
      for (const cmd of ctx.commands(ins)) {
        if (!aptInstall(cmd)) continue;
        const argv = effectiveArgv(cmd);
        if (hasOption(argv, '--no-install-recommends') || argv.some((a) => /Install-Recommends=(false|0|no)/i.test(a))) continue;
        // Quick fix: insert the flag right after the `install` word on its line.
        const line = ctx.scan.lines[cmd.line] ?? '';
        const m = /\binstall\b/.exec(line.slice(cmd.column));
        const fix = m && ins.rest.trim()[0] !== '['
          ? { title: 'Add --no-install-recommends', edits: [{ line: cmd.line, character: cmd.column + m.index + 7, endLine: cmd.line, endCharacter: cmd.column + m.index + 7, newText: ' --no-install-recommends' }] }
          : undefined;
        ctx.report(atCommand(cmd, '`apt-get install` also installs recommended packages, which ship in the image: add --no-install-recommends', fix));
      }
    }
  },
};
