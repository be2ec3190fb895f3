import { CliError } from './cliError';

/** Options every command takes (see ../shared/contract.md "CLI"). */
export interface CommonOptions {
  context: string;
  file: string | undefined;
  target: string | undefined;
  buildArgs: Map<string, string>;
  json: boolean;
}

export interface ParsedArgs {
  command: string | undefined;
  common: CommonOptions;
  /** Flags not in the common set, by name without dashes; repeated flags keep every value in order. */
  flags: Map<string, string[]>;
  /** Boolean flags that were present. */
  switches: Set<string>;
  positionals: string[];
}

/** Flags that take a value, per command beyond the common ones. Anything else starting with `--` is a switch. */
const VALUE_FLAGS = new Set([
  'context', 'file', 'target', 'build-arg', 'state-dir', 'tag', 'platform', 'lowest-efficiency',
  'highest-wasted-bytes', 'highest-user-wasted-percent', 'container', 'max-bytes', 'max-entries', 'config',
  'progress', 'severity', 'format', 'iterations', 'seed', 'docker',
]);
const SHORT: Record<string, string> = { t: 'tag', f: 'file', h: 'help' };

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const flags = new Map<string, string[]>();
  const switches = new Set<string>();
  const positionals: string[] = [];
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let value: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      value = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else if (arg.length === 2 && arg[0] === '-' && SHORT[arg[1]!]) {
      name = SHORT[arg[1]!];
    }
    if (name === undefined) {
      if (command === undefined) command = arg;
      else positionals.push(arg);
      continue;
    }
    if (VALUE_FLAGS.has(name)) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new CliError(`--${name}`, 'needs a value');
        value = argv[++i]!;
      }
      const list = flags.get(name) ?? [];
      list.push(value);
      flags.set(name, list);
    } else {
      if (value !== undefined) throw new CliError(`--${name}`, 'takes no value');
      switches.add(name);
    }
  }
  const buildArgs = new Map<string, string>();
  for (const spec of flags.get('build-arg') ?? []) {
    const eq = spec.indexOf('=');
    if (eq === 0) throw new CliError('--build-arg', `'${spec}' has no name`);
    if (eq > 0) buildArgs.set(spec.slice(0, eq), spec.slice(eq + 1));
    // `--build-arg K` takes the value from the environment, like docker; unset means "not given".
    else if (env[spec] !== undefined) buildArgs.set(spec, env[spec]!);
  }
  const last = (n: string) => flags.get(n)?.at(-1);
  return {
    command,
    common: {
      context: last('context') ?? '.',
      file: last('file'),
      target: last('target'),
      buildArgs,
      json: switches.has('json'),
    },
    flags,
    switches,
    positionals,
  };
}
