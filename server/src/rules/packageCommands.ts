/**
 * Recognisers for package-manager commands in parsed shell commands (argv, wrappers such as `sudo` removed).
 * Shared by the cache, size and pinning rules so they agree on what "an apt-get install" is.
 */
import type { ShellCommand } from './shellScript';
import { effectiveArgv } from './ruleContext';

export function baseName(word: string | undefined): string {
  const w = word ?? '';
  return w.slice(w.lastIndexOf('/') + 1);
}

/** The subcommand: first argv word after the command that is not an option (options with values are skipped loosely). */
export function subcommand(argv: string[]): { sub: string; index: number } {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('-')) {
      // apt-get -o Key=Value install …
      if ((a === '-o' || a === '-c' || a === '-t') && i + 1 < argv.length) i++;
      continue;
    }
    return { sub: a, index: i };
  }
  return { sub: '', index: -1 };
}

/** Positional words after the subcommand. */
export function operands(argv: string[], from: number): string[] {
  const out: string[] = [];
  for (let i = from + 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-o' || a === '-t') { i++; continue; }
    if (!a.startsWith('-')) out.push(a);
  }
  return out;
}

export function isApt(cmd: ShellCommand, sub: string | RegExp): boolean {
  const argv = effectiveArgv(cmd);
  const n = baseName(argv[0]);
  if (n !== 'apt-get' && n !== 'apt') return false;
  const s = subcommand(argv).sub;
  return typeof sub === 'string' ? s === sub : sub.test(s);
}

export function aptInstall(cmd: ShellCommand): boolean { return isApt(cmd, 'install'); }
export function aptUpdate(cmd: ShellCommand): boolean { return isApt(cmd, 'update'); }

export function hasOption(argv: string[], ...names: string[]): boolean {
  return argv.some((a) => names.some((n) => a === n || a.startsWith(n + '=')));
}

/** `rm` of a path under `prefix` (`rm -rf /var/lib/apt/lists/*`). */
export function removes(cmd: ShellCommand, prefix: string): boolean {
  const argv = effectiveArgv(cmd);
  if (baseName(argv[0]) !== 'rm') return false;
  return argv.slice(1).some((a) => !a.startsWith('-') && (a === prefix || a.startsWith(prefix + '/') || a.startsWith(prefix + '*') || (prefix.startsWith(a.replace(/\/?\*?$/, '')) && a.replace(/\/?\*?$/, '').length > 1 && prefix.startsWith(a.replace(/\/?\*?$/, '') + '/'))));
}

export interface DependencyInstall {
  /** What runs, for messages: `npm ci`. */
  label: string;
  /** Manifest files the install needs (glob-ish, for the split fix and the message). */
  manifests: string[];
  ecosystem: 'npm' | 'yarn' | 'pnpm' | 'pip' | 'poetry' | 'pipenv' | 'go' | 'cargo' | 'bundler' | 'composer' | 'maven' | 'gradle';
}

/** A command that installs dependencies from manifest files only (not the project itself). */
export function dependencyInstall(cmd: ShellCommand): DependencyInstall | null {
  const argv = effectiveArgv(cmd);
  const n = baseName(argv[0]);
  const { sub, index } = subcommand(argv);
  const ops = index >= 0 ? operands(argv, index) : [];
  switch (n) {
    case 'npm':
      if (sub === 'ci' || sub === 'clean-install') return { label: `npm ${sub}`, manifests: ['package.json', 'package-lock.json'], ecosystem: 'npm' };
      if ((sub === 'install' || sub === 'i') && ops.length === 0) return { label: `npm ${sub}`, manifests: ['package.json', 'package-lock.json'], ecosystem: 'npm' };
      return null;
    case 'yarn':
      if ((sub === '' || sub === 'install') && ops.length === 0) return { label: sub ? 'yarn install' : 'yarn', manifests: ['package.json', 'yarn.lock'], ecosystem: 'yarn' };
      return null;
    case 'pnpm':
      if ((sub === 'install' || sub === 'i') && ops.length === 0) return { label: `pnpm ${sub}`, manifests: ['package.json', 'pnpm-lock.yaml'], ecosystem: 'pnpm' };
      return null;
    case 'pip': case 'pip3': case 'pip2': {
      if (sub !== 'install') return null;
      const r = requirementFiles(argv);
      // Requirements from a URL, an absolute image path or a variable did not come from a COPY of the context.
      if (r.some((f) => /^(https?:|\/)/.test(f) || f.includes('$'))) return null;
      if (r.length > 0 && ops.filter((o) => !r.includes(o)).length === 0) return { label: `${n} install -r ${r.join(' -r ')}`, manifests: r, ecosystem: 'pip' };
      return null;
    }
    case 'python': case 'python3': {
      if (argv[1] === '-m' && /^pip[23]?$/.test(argv[2] ?? '') && argv[3] === 'install') {
        const r = requirementFiles(argv);
        if (r.length > 0 && !r.some((f) => /^(https?:|\/)/.test(f) || f.includes('$'))) return { label: `python -m pip install -r ${r.join(' -r ')}`, manifests: r, ecosystem: 'pip' };
      }
      return null;
    }
    case 'poetry':
      if (sub === 'install') return { label: 'poetry install', manifests: ['pyproject.toml', 'poetry.lock'], ecosystem: 'poetry' };
      return null;
    case 'pipenv':
      if (sub === 'install' || sub === 'sync') return { label: `pipenv ${sub}`, manifests: ['Pipfile', 'Pipfile.lock'], ecosystem: 'pipenv' };
      return null;
    case 'go':
      if (sub === 'mod' && ops[0] === 'download') return { label: 'go mod download', manifests: ['go.mod', 'go.sum'], ecosystem: 'go' };
      return null;
    case 'cargo':
      if (sub === 'fetch') return { label: 'cargo fetch', manifests: ['Cargo.toml', 'Cargo.lock'], ecosystem: 'cargo' };
      return null;
    case 'bundle':
      if (sub === 'install') return { label: 'bundle install', manifests: ['Gemfile', 'Gemfile.lock'], ecosystem: 'bundler' };
      return null;
    case 'composer':
      if (sub === 'install') return { label: 'composer install', manifests: ['composer.json', 'composer.lock'], ecosystem: 'composer' };
      return null;
    case 'mvn': case 'mvnw':
      if (/^dependency:(go-offline|resolve)$/.test(sub)) return { label: `mvn ${sub}`, manifests: ['pom.xml'], ecosystem: 'maven' };
      return null;
    case 'gradle': case 'gradlew':
      if (sub === 'dependencies') return { label: 'gradle dependencies', manifests: ['build.gradle', 'settings.gradle'], ecosystem: 'gradle' };
      return null;
    default:
      return null;
  }
}

function requirementFiles(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '-r' || a === '--requirement' || a === '-c' || a === '--constraint') && argv[i + 1]) { out.push(argv[++i]); continue; }
    const m = /^(?:-r|--requirement=)(.+)$/.exec(a);
    if (m) out.push(m[1]);
  }
  return out;
}

/** Commands that start a shell/interpreter reading a script from stdin. */
export const INTERPRETERS = new Set(['sh', 'bash', 'zsh', 'ash', 'dash', 'ksh', 'python', 'python3', 'perl', 'ruby', 'node', 'php']);
