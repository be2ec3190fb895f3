/** Where the CLI writes: injectable so commands are testable without a process. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  debug(line: string): void;
  /** Raw stdout stream for commands that stream (build progress). */
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(): CliIO {
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    debug: (l) => { if (process.env.STRATA_DEBUG === '1') process.stderr.write(`strata[debug]: ${l}\n`); },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
}
