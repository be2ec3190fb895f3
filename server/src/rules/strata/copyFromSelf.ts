import type { StrataRule } from '../ruleContext';
import { atInstruction } from '../ruleContext';

export const copyFromSelf: StrataRule = {
  id: 'correctness/copy-from-self',
  severity: 'error',
  title: '`COPY --from` names the stage it is in',
  equivalents: ['DL3022', 'DL3023'],
  rationale: 'A stage cannot copy from itself: `--from` must name an earlier stage or an image.',
  examples: {
    bad: 'FROM golang:1.23 AS build\nCOPY --from=build /go/bin/app /app\n',
    good: 'FROM golang:1.23 AS build\nRUN go build -o /go/bin/app .\nFROM debian:12\nCOPY --from=build /go/bin/app /app\n',
  },
  check(ctx) {
    for (const st of ctx.stages) {
      for (const ins of st.body) {
        const from = ins.upper === 'COPY' ? ins.flags.find((f) => f.name === 'from')?.value : undefined;
        if (!from) continue;
        if ((st.name && from.toLowerCase() === st.name) || from === String(st.index)) {
          ctx.report(atInstruction(ctx, ins, `COPY --from=${from} refers to the stage it is in (line ${st.from.startLine + 1})`));
        }
      }
    }
  },
};
