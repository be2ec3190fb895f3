import type { ParsedArgs } from './cliArgs';
import type { CliIO } from './cliIO';

export type Command = (args: ParsedArgs, io: CliIO) => Promise<number>;

/**
 * A command that reads Dockerfiles: dockerfile-ast's crash guards are installed first (the same as the language
 * server's, see astShims.ts). Loaded on use, like every command, so `strata inspect` never loads or initialises
 * the Dockerfile packages and the rule engine (measured: most of the CLI's start-up before this).
 */
function dockerfileCommand(load: () => Promise<Command>): Command {
  return async (args, io) => {
    const [{ installAstShims }, run] = await Promise.all([import('../dockerfile/astShims'), load()]);
    installAstShims();
    return run(args, io);
  };
}

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
    run: dockerfileCommand(() => import('./checkCommand').then((m) => m.checkCommand)),
    summary: 'diagnostics for Dockerfiles, as the editor shows them',
    usage: 'strata check [FILES…] [--json] [--context DIR] [--file PATH] [--build-arg K=V]',
  },
  build: {
    run: dockerfileCommand(() => import('./buildCommand').then((m) => m.buildCommand)),
    summary: 'run the real build (BuildKit), stream progress, record per-step cache outcome; exits with docker\'s status',
    usage: 'strata build [-t TAG]… [--context DIR] [--file PATH] [--target NAME] [--build-arg K=V]… [--state-dir DIR] [--docker PATH] [--no-cache] [--json]',
  },
  predict: {
    run: dockerfileCommand(() => import('./predictCommand').then((m) => m.predictCommand)),
    summary: 'per instruction: will the next build hit the cache, and the first cause of a miss (against the last recorded build)',
    usage: 'strata predict [--context DIR] [--file PATH] [--target NAME] [--build-arg K=V]… [--state-dir DIR] [--check-remote] [--json]',
  },
  inspect: {
    run: (args, io) => import('./inspectCommand').then((m) => m.inspectCommand(args, io)),
    summary: 'layers, per-layer changes (whiteouts, opaque dirs), wasted space and efficiency of an image archive or OCI layout',
    usage: 'strata inspect ARCHIVE_OR_LAYOUT [--json] [--summary] [--platform OS/ARCH[/VARIANT]] [--no-verify] [--max-bytes N] [--max-entries N] [--ci [--lowest-efficiency F] [--highest-wasted-bytes N] [--highest-user-wasted-percent F] [--config .dive-ci]]',
  },
};
