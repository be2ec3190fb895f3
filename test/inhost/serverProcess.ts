import * as fs from 'node:fs';

/**
 * Process ids of the Strata language servers that are children of this extension host (`…/dist/server.js
 * --node-ipc`). Reads /proc, so Linux only — which is where both launchers run in CI.
 */
export function serverPids(): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => /[\\/]dist[\\/]server\.js$/.test(a))) out.push(Number(name));
    } catch {
      // The process ended while we looked at it.
    }
  }
  return out;
}
