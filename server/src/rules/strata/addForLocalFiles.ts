import type { StrataRule } from '../ruleContext';
import { argumentWords, atInstruction } from '../ruleContext';

const ARCHIVE = /\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst|lz|lzma)|gz|bz2|xz)$/i;

export const addForLocalFiles: StrataRule = {
  id: 'style/add-for-local-files',
  severity: 'info',
  title: 'ADD used for plain local files',
  equivalents: ['DL3020'],
  rationale: 'ADD also fetches URLs and unpacks archives; for plain files COPY says what happens and does nothing surprising.',
  examples: { bad: 'FROM alpine:3.20\nADD app.py /app/\n', good: 'FROM alpine:3.20\nCOPY app.py /app/\n' },
  check(ctx) {
    for (const ins of ctx.scan.instructions) {
      if (ins.upper !== 'ADD') continue;
      const words = argumentWords(ins, ctx.scan.escape).map((w) => w.replace(/^["']|["']$/g, ''));
      const srcs = words.slice(0, -1);
      if (srcs.length === 0 || srcs.some((s) => /^(https?:|git@|git:)/.test(s) || ARCHIVE.test(s) || s.includes('$') || s.startsWith('<<') || /[*?]/.test(s))) continue;
      if (ins.flags.some((f) => f.name === 'checksum' || f.name === 'keep-git-dir' || f.name === 'unpack')) continue;
      ctx.report(atInstruction(ctx, ins, `ADD of local files (${srcs[0]}) behaves like COPY but may unpack archives: use COPY`));
    }
  },
};
