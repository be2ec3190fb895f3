import type { ParsedArgs } from './cliArgs';
import type { CliIO } from './cliIO';
import { checkCommand } from './checkCommand';
import { buildCommand } from './buildCommand';
import { predictCommand } from './predictCommand';

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
  build: {
    run: buildCommand,
    summary: 'run the real build (BuildKit), stream progress, record per-step cache outcome; exits with docker\'s status',
    usage: 'strata build [-t TAG]… [--context DIR] [--file PATH] [--target NAME] [--build-arg K=V]… [--state-dir DIR] [--docker PATH] [--no-cache] [--json]',
  },
  predict: {
    run: predictCommand,
    summary: 'per instruction: will the next build hit the cache, and the first cause of a miss (against the last recorded build)',
    usage: 'strata predict [--context DIR] [--file PATH] [--target NAME] [--build-arg K=V]… [--state-dir DIR] [--check-remote] [--json]',
  },
  inspect: {
    run: (args, io) => import('./inspectCommand').then((m) => m.inspectCommand(args, io)),
    summary: 'layers, per-layer changes (whiteouts, opaque dirs), wasted space and efficiency of an image archive or OCI layout',
    usage: 'strata inspect ARCHIVE_OR_LAYOUT [--json] [--summary] [--platform OS/ARCH[/VARIANT]] [--no-verify] [--max-bytes N] [--max-entries N] [--ci [--lowest-efficiency F] [--highest-wasted-bytes N] [--highest-user-wasted-percent F] [--config .dive-ci]]',
  },
};
