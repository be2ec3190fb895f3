// A real Docker engine for the tests: Debian's docker.io (dockerd 20.10, BuildKit built in), started as root with its
// own data root, exec root, pidfile and socket so it never touches a user's engine. Reused when already running
// (a developer can keep one up between runs: `node test/support/engineHarness.mjs start`).
// Base images are made locally because no registry is reachable: `strata-test/busybox:1` is a rootfs with Debian's
// busybox-static, /etc/passwd, /etc/group and /tmp, imported with `docker import`.
//
//   node test/support/engineHarness.mjs start   start (or reuse) and print `export …` lines for a shell
//   node test/support/engineHarness.mjs stop    stop the engine this harness started
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync, rmSync, readFileSync, openSync, chmodSync, copyFileSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ENGINE_DIR = process.env.STRATA_TEST_ENGINE_DIR ?? '/var/lib/strata-test-engine';
export const SOCKET = path.join(ENGINE_DIR, 'docker.sock');
export const DOCKER = '/usr/bin/docker';
export const BASE_IMAGE = 'strata-test/busybox:1';

export function engineEnv() {
  return {
    DOCKER_HOST: `unix://${SOCKET}`,
    DOCKER_BUILDKIT: '1',
    STRATA_DOCKER: DOCKER,
    STRATA_TEST_DOCKER: DOCKER,
    STRATA_TEST_BASE_IMAGE: BASE_IMAGE,
    DOCKER_CONFIG: path.join(ENGINE_DIR, 'client-config'),
  };
}

function docker(args, opts = {}) {
  return spawnSync(DOCKER, args, { env: { ...process.env, ...engineEnv() }, encoding: 'utf8', ...opts });
}

function reachable() {
  return existsSync(SOCKET) && docker(['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 }).status === 0;
}

/** Starts (or reuses) the engine and makes sure the base image exists. Returns { env, stop } or throws with a reason. */
export async function startEngine() {
  if (!existsSync('/usr/sbin/dockerd')) throw new Error('dockerd not found: install Debian\'s docker.io (see .ci/apt-packages.txt)');
  if (process.getuid?.() !== 0) throw new Error('the test engine needs root (dockerd)');
  mkdirSync(ENGINE_DIR, { recursive: true });
  mkdirSync(path.join(ENGINE_DIR, 'client-config'), { recursive: true });
  let started = false;
  if (!reachable()) {
    rmSync(SOCKET, { force: true });
    const log = openSync(path.join(ENGINE_DIR, 'dockerd.log'), 'a');
    const child = spawn('/usr/sbin/dockerd', [
      '--data-root', path.join(ENGINE_DIR, 'data'),
      '--exec-root', path.join(ENGINE_DIR, 'exec'),
      '--pidfile', path.join(ENGINE_DIR, 'dockerd.pid'),
      '--host', `unix://${SOCKET}`,
    ], { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    started = true;
    const deadline = Date.now() + 60_000;
    while (!reachable()) {
      if (Date.now() > deadline) {
        const tail = readFileSync(path.join(ENGINE_DIR, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
        throw new Error(`dockerd did not answer on ${SOCKET} within 60 s; log tail:\n${tail}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  ensureBaseImage();
  return {
    env: engineEnv(),
    stop: async () => { if (started && process.env.STRATA_KEEP_ENGINE !== '1') stopEngine(); },
  };
}

export function stopEngine() {
  const pidFile = path.join(ENGINE_DIR, 'dockerd.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try { process.kill(pid, 0); } catch { return; }
    spawnSync('sleep', ['0.2']);
  }
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/** `strata-test/busybox:1`: busybox-static with its applets as symlinks, users root/nobody, /tmp. */
export function ensureBaseImage() {
  if (docker(['image', 'inspect', BASE_IMAGE]).status === 0) return;
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox-static not installed (see .ci/apt-packages.txt)');
  const rootfs = mkdtempSync(path.join(os.tmpdir(), 'strata-rootfs-'));
  for (const d of ['bin', 'etc', 'tmp', 'root', 'usr/bin', 'var', 'home']) mkdirSync(path.join(rootfs, d), { recursive: true });
  chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  copyFileSync(busybox, path.join(rootfs, 'bin/busybox'));
  chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', path.join(rootfs, 'bin', a));
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 1 << 30 });
  if (tar.status !== 0) throw new Error('tar of the busybox rootfs failed');
  const imp = docker(['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin:/usr/bin', '-', BASE_IMAGE], { input: tar.stdout, encoding: undefined });
  rmSync(rootfs, { recursive: true, force: true });
  if (imp.status !== 0) throw new Error(`docker import failed: ${imp.stderr}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const cmd = process.argv[2] ?? 'start';
  if (cmd === 'stop') stopEngine();
  else {
    const e = await startEngine();
    for (const [k, v] of Object.entries(e.env)) console.log(`export ${k}=${v}`);
  }
}
