import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DIST } from '../support/paths';

/** `strata build` faults that need no engine: they must fail fast with one clear line, before or instead of docker. */
function strata(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, STRATA_DEBUG: '', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function project(dockerfile = 'FROM scratch\nCOPY a /a\n'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-build-cli-'));
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  writeFileSync(path.join(dir, 'a'), 'a');
  return dir;
}

describe('strata build (no engine needed)', () => {
  it('a missing context folder is a usage error (exit 2, one line)', () => {
    const state = mkdtempSync(path.join(os.tmpdir(), 'strata-state-'));
    const r = strata(['build', '--context', '/nonexistent/ctx', '--file', path.join(project(), 'Dockerfile'), '--state-dir', state]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'strata: /nonexistent/ctx: build context folder does not exist\n');
  });

  it('a missing Dockerfile is a usage error', () => {
    const dir = project();
    const r = strata(['build', '--context', dir, '--file', path.join(dir, 'Nope'), '--state-dir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^strata: .*Nope: no such Dockerfile\n$/);
  });

  it('a docker binary that does not exist names the setting to fix', () => {
    const dir = project();
    const r = strata(['build', '--context', dir, '--state-dir', dir], { STRATA_DOCKER: '/nonexistent/docker' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^strata: build: docker client "\/nonexistent\/docker" not found; .*strata\.dockerPath/);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  });

  it('--docker overrides STRATA_DOCKER', () => {
    const dir = project();
    const r = strata(['build', '--context', dir, '--state-dir', dir, '--docker', '/nonexistent/other'], { STRATA_DOCKER: '/nonexistent/docker' });
    assert.match(r.stderr, /"\/nonexistent\/other" not found/);
  });

  // Needs a docker client binary (not an engine): the engine at DOCKER_HOST is unreachable on purpose.
  const docker = ['/usr/bin/docker'].find((p) => existsSync(p));
  it('an unreachable engine says which DOCKER_HOST was tried and how to start one; exit = docker\'s status', { skip: docker ? false : 'no docker client binary installed (docker.io)' }, () => {
    const dir = project();
    const r = strata(['build', '--context', dir, '--state-dir', dir], { STRATA_DOCKER: docker!, DOCKER_HOST: 'unix:///nonexistent/strata.sock' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /strata: build: cannot reach the Docker engine at DOCKER_HOST=unix:\/\/\/nonexistent\/strata\.sock: not running or unreachable; start Docker/);
    // Nothing reached BuildKit: no record replaces the previous baseline, and the lock is released.
    const keyDirs = readdirSync(path.join(dir, 'builds'));
    assert.deepEqual(keyDirs.flatMap((k) => readdirSync(path.join(dir, 'builds', k))), []);
  });
});
