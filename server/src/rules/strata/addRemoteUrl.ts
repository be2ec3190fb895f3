import type { StrataRule } from '../ruleContext';
import { argumentWords, atInstruction } from '../ruleContext';

export const addRemoteUrl: StrataRule = {
  id: 'cache/add-remote-url',
  severity: 'warning',
  title: 'ADD of a URL without --checksum',
  equivalents: [],
  rationale: 'BuildKit fetches an ADD URL on every build to see whether it changed; without a pinned checksum the content can change '
    + 'under you (and a changed download silently invalidates every later step). Pin it with `ADD --checksum=sha256:…` or download with curl in a RUN and verify it.',
  examples: {
    bad: 'FROM alpine:3.20\nADD https://example.com/tool.tar.gz /tmp/\n',
    good: 'FROM alpine:3.20\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.tar.gz /tmp/\n',
  },
  check(ctx) {
    for (const ins of ctx.scan.instructions) {
      if (ins.upper !== 'ADD' || ins.flags.some((f) => f.name === 'checksum')) continue;
      const words = argumentWords(ins, ctx.scan.escape);
      const url = words.slice(0, -1).find((w) => /^["']?https?:\/\//.test(w));
      if (!url) continue;
      ctx.report(atInstruction(ctx, ins, `ADD of ${url.replace(/^["']|["']$/g, '')} is re-fetched on every build and not verified: add --checksum=sha256:… or download and verify it in a RUN`));
    }
  },
};
