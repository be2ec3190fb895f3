import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { checkDockerfile } from '../rules/checkDockerfile';
import { fsContextReader } from '../rules/fsContextReader';
import { loadWorkspaceConfig } from '../rules/strataConfig';
import type { StrataDiagnostic } from '../rules/strataDiagnostic';
import type { ParsedArgs } from './cliArgs';
import { CliError } from './cliError';
import type { CliIO } from './cliIO';

/** Largest Dockerfile `strata check` reads: beyond this it is not a Dockerfile anyone wrote by hand. */
const MAX_BYTES = 64 * 1024 * 1024;

export async function checkCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const files = args.positionals.length > 0
    ? args.positionals
    : [args.common.file ?? path.join(args.common.context, 'Dockerfile')];
  const results: { file: string; diagnostics: ReturnType<typeof toJson>[] }[] = [];
  let findings = 0;
  // The build context gives .dockerignore (CopyIgnoredFile, cache/copy-dockerfile); .strata.json/.yaml and
  // .hadolint.yaml are read from the context folder, else the current folder.
  const context = fsContextReader(args.common.context);
  const configFrom = (dir: string) => loadWorkspaceConfig(fsContextReader(dir));
  let loaded = configFrom(args.common.context);
  if (!Object.keys(loaded.config.rules).length && !loaded.config.hadolintIgnored.length) loaded = configFrom(process.cwd());
  for (const e of loaded.errors) io.err(`strata: ${e}`);
  for (const file of files) {
    const text = readDockerfile(file);
    const diagnostics = checkDockerfile(text, {
      buildArgs: args.common.buildArgs,
      context,
      config: loaded.config,
      dockerfilePath: path.relative(path.resolve(args.common.context), path.resolve(file)).split(path.sep).join('/'),
      target: args.common.target ?? null,
      buildOnly: !!args.common.target,
      onRuleError: (rule, e) => io.debug(`rule ${rule} failed on ${file}: ${String(e)}`),
    });
    findings += diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning').length;
    results.push({ file, diagnostics: diagnostics.map(toJson) });
    if (!args.common.json) {
      for (const d of diagnostics) {
        io.out(`${file}:${d.line + 1}:${d.character + 1}: ${d.severity} ${d.rule}: ${d.message}`);
      }
    }
  }
  if (args.common.json) io.out(JSON.stringify({ files: results }, null, 2));
  else if (findings === 0) io.err(`strata: ${files.length} file${files.length === 1 ? '' : 's'} checked, no findings`);
  return findings > 0 ? 1 : 0;
}

export function readDockerfile(file: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new CliError(file, 'is a directory, not a Dockerfile');
    size = st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(file, describeFsError(e));
  }
  if (size > MAX_BYTES) throw new CliError(file, `is ${size} bytes; Dockerfiles over ${MAX_BYTES} bytes are not read`);
  try {
    // Invalid UTF-8 becomes U+FFFD, as an editor would show it; the check still runs.
    return readFileSync(file).toString('utf8');
  } catch (e) {
    throw new CliError(file, describeFsError(e));
  }
}

export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ELOOP': return 'too many levels of symbolic links';
    default: return (e as Error)?.message ?? String(e);
  }
}

function toJson(d: StrataDiagnostic) {
  return {
    rule: d.rule,
    line: d.line + 1,
    endLine: d.endLine + 1,
    column: d.character + 1,
    endColumn: d.endCharacter + 1,
    severity: d.severity,
    message: d.message,
    fixable: d.fixable,
    equivalents: d.equivalents,
    ...(d.docsUrl ? { docs: d.docsUrl } : {}),
  };
}
