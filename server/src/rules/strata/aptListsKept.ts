import type { StrataRule, RuleContext, RuleFix } from '../ruleContext';
import { atCommand, finalChain, runsIn } from '../ruleContext';
import { aptInstall, isApt, removes } from '../packageCommands';
import type { ScanInstruction } from '../dockerfileScan';

/** Appends `&& rm -rf /var/lib/apt/lists/*` to a RUN's last line, when that is safe (no heredoc, no shell comment). */
export function appendToRun(ctx: RuleContext, ins: ScanInstruction, command: string, title: string): RuleFix | undefined {
  if (ins.heredocs.length > 0 || ins.rest.trim().startsWith('[')) return undefined;
  const last = ctx.scan.lines[ins.textEndLine];
  if (last === undefined || /(^|\s)#/.test(last) || /[;&|]\s*$/.test(last)) return undefined;
  const end = last.replace(/\s+$/, '').length;
  return { title, edits: [{ line: ins.textEndLine, character: end, endLine: ins.textEndLine, endCharacter: last.length, newText: ` \\\n    && ${command}` }] };
}

export const aptListsKept: StrataRule = {
  id: 'size/apt-lists-kept',
  severity: 'warning',
  title: 'apt package lists are left in the image',
  equivalents: ['DL3009'],
  rationale: '`apt-get update` downloads package lists (tens of MB) to /var/lib/apt/lists; unless the same RUN deletes them they ship in the image. '
    + 'Stages that do not end up in the final image and RUNs with a cache mount on /var/lib/apt are not reported.',
  examples: {
    bad: 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n',
    good: 'FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n',
  },
  check(ctx) {
    for (const ins of runsIn(finalChain(ctx))) {
      if (ctx.hasCacheMount(ins, /\/var\/lib\/apt/)) continue;
      const cmds = ctx.commands(ins);
      const install = cmds.find(aptInstall);
      // `apt-get dist-clean` (apt ≥ 3) removes the lists too.
      if (!install || cmds.some((c) => removes(c, '/var/lib/apt/lists') || isApt(c, 'dist-clean'))) continue;
      ctx.report(atCommand(install, 'apt package lists from `apt-get update` stay in this layer: add `rm -rf /var/lib/apt/lists/*` to the same RUN',
        appendToRun(ctx, ins, 'rm -rf /var/lib/apt/lists/*', 'Remove apt lists in the same RUN')));
    }
  },
};
