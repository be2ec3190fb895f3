import type { StrataRule } from '../ruleContext';
import { atCommand, runsOf, effectiveArgv } from '../ruleContext';
import { baseName, INTERPRETERS } from '../packageCommands';

export const curlPipeShell: StrataRule = {
  id: 'security/curl-pipe-shell',
  severity: 'warning',
  title: 'A downloaded script is piped straight into a shell',
  equivalents: [],
  rationale: '`curl … | sh` runs whatever the server returns at build time, unverified, and a truncated download runs half a script. '
    + 'Download to a file, verify its checksum or signature, then run it.',
  examples: {
    bad: 'FROM debian:12\nRUN curl -fsSL https://example.com/install.sh | sh\n',
    good: 'FROM debian:12\nRUN curl -fsSLo /tmp/install.sh https://example.com/install.sh \\\n && echo "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  /tmp/install.sh" | sha256sum -c - \\\n && sh /tmp/install.sh && rm /tmp/install.sh\n',
  },
  check(ctx) {
    for (const ins of runsOf(ctx)) {
      for (const cmd of ctx.commands(ins)) {
        if (cmd.pipeIndex === 0) continue;
        const n = baseName(effectiveArgv(cmd)[0]);
        if (!INTERPRETERS.has(n)) continue;
        const src = cmd.pipedFrom.map((f) => baseName(f)).find((f) => f === 'curl' || f === 'wget');
        if (src) ctx.report(atCommand(cmd, `A script downloaded with ${src} is piped into ${n} unverified: download it to a file, check its checksum, then run it`));
      }
    }
  },
};
