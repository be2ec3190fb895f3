/** An error the CLI reports as one line, `strata: <what>: <why>`, and exit code 2 (usage or input error). */
export class CliError extends Error {
  constructor(
    readonly what: string,
    readonly why: string,
    readonly exitCode = 2,
  ) {
    super(`${what}: ${why}`);
  }
}
