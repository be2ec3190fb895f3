import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DIST } from '../support/paths';

function strata(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), ...args], { encoding: 'utf8', cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function dockerfile(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-cli-'));
  writeFileSync(path.join(dir, 'Dockerfile'), text);
  return dir;
}

describe('strata check', () => {
  it('exits 1 and prints JSON with 1-based lines for a finding', () => {
    const dir = dockerfile('FROM alpine\nFOO bar\n');
    const r = strata(['check', '--json', '--context', dir]);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout);
    const d = json.files[0].diagnostics.find((x: { rule: string }) => x.rule === 'syntax/unknown-instruction');
    assert.ok(d, r.stdout);
    assert.equal(d.line, 2);
    assert.equal(d.column, 1);
    assert.deepEqual(d.equivalents, []);
    assert.equal(typeof d.fixable, 'boolean');
  });
  it('exits 0 on a clean Dockerfile', () => {
    assert.equal(strata(['check', path.join(dockerfile('FROM alpine\nRUN echo hi\n'), 'Dockerfile')]).code, 0);
  });
  it('a missing file is a one-line error with exit code 2', () => {
    const r = strata(['check', '/nonexistent/Dockerfile']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'strata: /nonexistent/Dockerfile: no such file\n');
  });
  it('an unknown command is a usage error', () => {
    const r = strata(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^strata: frobnicate: unknown command/);
  });
});

describe('strata predict', () => {
  for (const [name, eol] of [['LF', '\n'], ['CRLF', '\r\n']] as const) {
    it(`a --target that names no stage is a usage error naming it, exit 2 (${name})`, () => {
      const dir = dockerfile(['FROM scratch AS base', 'COPY a /a', ''].join(eol));
      const r = strata(['predict', '--context', dir, '--target', 'nosuch', '--state-dir', path.join(dir, '.state')]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^strata: --target nosuch: stage not found$/m);
      assert.equal(r.stdout, '');
    });
  }
});
