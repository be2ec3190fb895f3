/**
 * Why a docker command failed, classified so every caller (CLI, language server, extension) can show the same
 * actionable one-line message instead of docker's raw stderr.
 */
export type DockerErrorKind =
  /** The docker client binary could not be started (not installed, wrong `strata.dockerPath`). */
  | 'binary-missing'
  /** The client ran but could not reach the engine (daemon down, wrong DOCKER_HOST/context, permissions). */
  | 'engine-unreachable'
  /** The image/container named does not exist on the engine. */
  | 'not-found'
  /** Any other non-zero exit. */
  | 'command-failed'
  /** The caller's AbortSignal fired. */
  | 'aborted';

export class DockerError extends Error {
  constructor(
    readonly kind: DockerErrorKind,
    message: string,
    /** docker's own stderr (trimmed, bounded) for the log. */
    readonly stderr = '',
    readonly exitCode: number | null = null,
  ) {
    super(message);
    this.name = 'DockerError';
  }
}

/** Recognises the engine-unreachable messages of docker clients 19–28 (plain, TLS, ssh, npipe, contexts). */
export function isEngineUnreachable(stderr: string): boolean {
  return /Cannot connect to the Docker daemon|error during connect|Is the docker daemon running|permission denied while trying to connect|dial unix .*: connect:|connection refused|context ".*" does not exist|failed to connect to the docker API/i.test(stderr);
}

export function isNotFound(stderr: string): boolean {
  return /No such (image|object|container)|reference does not exist|not found: manifest unknown/i.test(stderr);
}

/** Where the client was told to go, for "which host was tried" in messages. */
export function describeEngineTarget(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_HOST) return `DOCKER_HOST=${env.DOCKER_HOST}`;
  if (env.DOCKER_CONTEXT) return `docker context "${env.DOCKER_CONTEXT}"`;
  return 'the current docker context (default: unix:///var/run/docker.sock)';
}

export function engineUnreachableMessage(env: NodeJS.ProcessEnv, stderr: string): string {
  const permission = /permission denied/i.test(stderr);
  const how = permission
    ? 'add your user to the "docker" group (then log in again) or use a rootless engine'
    : 'start Docker (Docker Desktop, or `sudo systemctl start docker`), or point DOCKER_HOST / `docker context use` at a running engine';
  return `cannot reach the Docker engine at ${describeEngineTarget(env)}: ${permission ? 'permission denied' : 'not running or unreachable'}; ${how}`;
}

export function binaryMissingMessage(binary: string): string {
  return `docker client "${binary}" not found; install Docker, or set the \`strata.dockerPath\` setting / STRATA_DOCKER to the docker binary`;
}
