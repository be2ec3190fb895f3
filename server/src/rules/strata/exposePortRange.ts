import type { StrataRule } from '../ruleContext';
import { atInstruction } from '../ruleContext';
import { parseWords } from '../dockerfileScan';

export const exposePortRange: StrataRule = {
  id: 'correctness/expose-port-range',
  severity: 'error',
  title: 'EXPOSE of a port outside 0–65535',
  equivalents: ['DL3011'],
  rationale: 'TCP and UDP ports are 16-bit numbers; BuildKit rejects larger ones when it builds.',
  examples: { bad: 'FROM nginx:1.27\nEXPOSE 80800\n', good: 'FROM nginx:1.27\nEXPOSE 8080\n' },
  check(ctx) {
    for (const ins of ctx.scan.instructions) {
      if (ins.upper !== 'EXPOSE') continue;
      for (const w of parseWords(ins.rest, ctx.scan.escape)) {
        if (w.includes('$')) continue;
        const port = w.slice(w.lastIndexOf(':') + 1).split('/')[0];
        for (const n of port.split('-')) {
          if (/^\d+$/.test(n) && Number(n) > 65535) { ctx.report(atInstruction(ctx, ins, `Port ${n} is out of range (0–65535)`)); break; }
        }
      }
    }
  },
};
