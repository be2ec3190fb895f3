/**
 * `strata check` with the rule engine (dist/cli.js): BuildKit check names and messages, `fixable`, hadolint
 * `equivalents`, the build context's .dockerignore, `.strata.json`, `--build-arg BUILDKIT_DOCKERFILE_CHECK`, `--target`.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DIST } from '../support/paths';

function strata(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-rules-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const json = (dir: string, ...extra: string[]) => {
  const r = strata(['check', '--json', '--context', dir, ...extra]);
  return { code: r.code, diags: JSON.parse(r.stdout).files[0].diagnostics as { rule: string; line: number; message: string; fixable: boolean; equivalents: string[]; severity: string }[] };
};

describe('strata check rules', () => {
  it('reports BuildKit checks with their names, messages and fixable flag', () => {
    const { code, diags } = json(project({ Dockerfile: 'FROM scratch as base\nCMD run\n' }));
    assert.equal(code, 1);
    assert.deepEqual(diags.map((d) => [d.rule, d.line, d.fixable]), [['FromAsCasing', 1, true], ['JSONArgsRecommended', 2, true]]);
    assert.equal(diags[0].message, "'as' and 'FROM' keywords' casing do not match");
    assert.deepEqual(diags[1].equivalents, ['DL3025']);
  });
  it('reads .dockerignore from the context and .strata.json', () => {
    const dir = project({
      Dockerfile: 'FROM debian:12\nCOPY secret.txt /\nRUN apt-get update && apt-get install -y curl\n',
      '.dockerignore': 'secret.txt\n',
      '.strata.json': '{"rules": {"size/no-install-recommends": "off", "size/apt-lists-kept": "error"}}',
    });
    const { diags } = json(dir);
    assert.deepEqual(diags.map((d) => [d.rule, d.severity]), [['CopyIgnoredFile', 'warning'], ['size/apt-lists-kept', 'error']]);
  });
  it('BUILDKIT_DOCKERFILE_CHECK as a build arg replaces the file directive', () => {
    const dir = project({ Dockerfile: '#check=skip=all\nFROM scratch as base\ncopy Dockerfile .\n' });
    assert.equal(strata(['check', '--context', dir]).code, 0);
    const { diags } = json(dir, '--build-arg', 'BUILDKIT_DOCKERFILE_CHECK=skip=ConsistentInstructionCasing;error=true');
    assert.deepEqual(diags.map((d) => [d.rule, d.severity]), [['FromAsCasing', 'error']]);
  });
  it('--target limits BuildKit checks to the stages the target needs', () => {
    const dir = project({ Dockerfile: 'FROM scratch AS first\nCOPY $foo .\n\nFROM scratch AS second\nCOPY $bar .\n' });
    assert.deepEqual(json(dir).diags.map((d) => d.line), [2, 5]);
    assert.deepEqual(json(dir, '--target', 'second').diags.map((d) => d.line), [5]);
  });
});
