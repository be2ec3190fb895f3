import type { StrataRule } from '../ruleContext';
import { atCommand, runsOf, effectiveArgv } from '../ruleContext';
import { baseName } from '../packageCommands';

export const useraddHighUid: StrataRule = {
  id: 'size/useradd-high-uid',
  severity: 'warning',
  title: '`useradd` with a large UID and without `-l`',
  equivalents: ['DL3046'],
  rationale: 'useradd records the new user in /var/log/lastlog and faillog, sparse files sized by the UID: a UID like 1000000 creates a '
    + 'gigabyte-sized file that layer tarballs store in full. `-l` (`--no-log-init`) skips it.',
  examples: {
    bad: 'FROM debian:12\nRUN useradd -u 1000000 app\n',
    good: 'FROM debian:12\nRUN useradd -l -u 1000000 app\n',
  },
  check(ctx) {
    for (const ins of runsOf(ctx)) {
      for (const cmd of ctx.commands(ins)) {
        const argv = effectiveArgv(cmd);
        if (baseName(argv[0]) !== 'useradd' || argv.includes('-l') || argv.includes('--no-log-init') || argv.some((a) => /^-[a-zA-Z]*l[a-zA-Z]*$/.test(a))) continue;
        const i = argv.findIndex((a) => a === '-u' || a === '--uid');
        const uid = i >= 0 ? argv[i + 1] : argv.find((a) => /^(-u|--uid=)\d+$/.test(a))?.replace(/^(-u|--uid=)/, '');
        if (uid && /^\d+$/.test(uid) && Number(uid) > 65535) ctx.report(atCommand(cmd, `useradd -u ${uid} without -l writes a sparse lastlog sized by the UID into the layer: add -l`));
      }
    }
  },
};
