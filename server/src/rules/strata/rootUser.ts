import type { StrataRule } from '../ruleContext';
import { atInstruction, finalChain } from '../ruleContext';
import type { ScanInstruction } from '../dockerfileScan';

export const rootUser: StrataRule = {
  id: 'security/root-user',
  severity: 'warning',
  title: 'The final stage switches to root last',
  equivalents: ['DL3002'],
  rationale: 'The last USER of the final stage is the user the container runs as. Switching to root for installation is fine, '
    + 'but switch back to an unprivileged user before the end. (Images without any USER are not reported: many official images start as root '
    + 'on purpose and drop privileges in their entrypoint.)',
  examples: {
    bad: 'FROM debian:12\nRUN useradd -r app\nUSER root\nCMD ["/app"]\n',
    good: 'FROM debian:12\nRUN useradd -r app\nUSER app\nCMD ["/app"]\n',
  },
  check(ctx) {
    let last: ScanInstruction | undefined;
    for (const st of [...finalChain(ctx)].sort((a, b) => a.index - b.index)) {
      for (const ins of st.body) if (ins.upper === 'USER') last = ins;
    }
    if (!last) return;
    const user = last.rest.trim().split(':')[0];
    if (user === 'root' || user === '0') ctx.report(atInstruction(ctx, last, 'The container runs as root: the last USER of the final stage is root — switch to an unprivileged user'));
  },
};
