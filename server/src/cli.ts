/**
 * The `strata` command line: `node dist/cli.js <command> …`. Composition root of the CLI process.
 * Exit codes: 0 ok, 1 findings/threshold failed, 2 usage or input error. Errors are one line on stderr
 * (`strata: <what>: <why>`); a stack trace only with STRATA_DEBUG=1.
 */
import { parseArgs } from './cli/cliArgs';
import { CliError } from './cli/cliError';
import { processIO, type CliIO } from './cli/cliIO';
import { COMMANDS } from './cli/commands';

export async function main(argv: string[], io: CliIO): Promise<number> {
  try {
    const args = parseArgs(argv, io.env);
    if (args.command === undefined || args.command === 'help' || args.switches.has('help')) {
      const entry = args.command ? COMMANDS[args.command] : undefined;
      io.out(entry ? `usage: ${entry.usage}\n\n${entry.summary}` : usage());
      return args.command === undefined && !args.switches.has('help') ? 2 : 0;
    }
    if (args.command === 'version' || args.switches.has('version')) {
      io.out(STRATA_VERSION);
      return 0;
    }
    const entry = COMMANDS[args.command];
    if (!entry) throw new CliError(args.command, `unknown command (try: ${Object.keys(COMMANDS).join(', ')})`);
    return await entry.run(args, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`strata: ${e.what}: ${e.why}`);
      if (io.env.STRATA_DEBUG === '1') io.err(e.stack ?? '');
      return e.exitCode;
    }
    const err = e as Error;
    io.err(`strata: internal error: ${err?.message ?? String(e)}`);
    if (io.env.STRATA_DEBUG === '1') io.err(err?.stack ?? '');
    return 2;
  }
}

declare const STRATA_VERSION_DEFINE: string | undefined;
const STRATA_VERSION = typeof STRATA_VERSION_DEFINE === 'string' ? STRATA_VERSION_DEFINE : '0.1.0';

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`);
  return `usage: strata <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nevery command takes --context DIR, --file PATH, --target NAME, --build-arg K=V, --json`;
}

if (require.main === module) {
  // EPIPE when piped into `head`: stop quietly rather than print a stack.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); });
  main(process.argv.slice(2), processIO()).then(
    (code) => { process.exitCode = code; },
    (e) => { process.stderr.write(`strata: internal error: ${String(e)}\n`); process.exitCode = 2; },
  );
}
