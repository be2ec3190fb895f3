import type { ParsedArgs } from './cliArgs';
import type { CliIO } from './cliIO';
import { checkCommand } from './checkCommand';

export type Command = (args: ParsedArgs, io: CliIO) => Promise<number>;

export interface CommandEntry {
  run: Command;
  summary: string;
  usage: string;
}

/**
 * The CLI's commands. Recipe to add one: write `<name>Command.ts` exporting `(args, io) => Promise<exitCode>`,
 * add a row here. Each is loaded lazily so `strata check` does not pay for the image reader.
 */
export const COMMANDS: Record<string, CommandEntry> = {
  check: {
    run: checkCommand,
    summary: 'diagnostics for Dockerfiles, as the editor shows them',
    usage: 'strata check [FILES…] [--json] [--context DIR] [--file PATH] [--build-arg K=V]',
  },
};
