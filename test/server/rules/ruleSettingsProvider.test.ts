/**
 * RuleSettingsProvider over a real temporary workspace: the config files it caches between diagnostics runs still
 * apply on the very next run after they are written, changed (same size too) or deleted.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuleSettingsProvider } from '../../../server/src/rules/ruleSettingsProvider';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';
import { toCheckOptions } from '../../../server/src/rules/checkSettings';
import { crlf } from '../../support/paths';

const DOCKERFILE = 'FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n';
const RULE = 'size/no-install-recommends';

describe('RuleSettingsProvider (real files)', () => {
  let root: string;
  let sub: string;
  let uri: string;
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'strata-settings-'));
    sub = path.join(root, 'svc', 'api');
    mkdirSync(sub, { recursive: true });
    uri = pathToFileURL(path.join(sub, 'Dockerfile')).href;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const provider = () => {
    const p = new RuleSettingsProvider();
    p.setRoots([pathToFileURL(root).href]);
    return p;
  };

  for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
    it(`a .strata.json edit applies on the next check (${eol})`, () => {
      const p = provider();
      const check = () => checkDockerfile(fix(DOCKERFILE), toCheckOptions(p.optionsFor(uri))).filter((d) => d.rule === RULE).map((d) => `${d.line}:${d.severity}`);
      const cfg = path.join(root, '.strata.json');
      try {
        assert.deepEqual(check(), ['1:info']);
        writeFileSync(cfg, JSON.stringify({ rules: { [RULE]: 'off' } }));
        assert.deepEqual(check(), []);
        writeFileSync(cfg, JSON.stringify({ rules: { [RULE]: 'error' } }));
        assert.deepEqual(check(), ['1:error']);
        // Same size, and the old mtime put back: the stamp still changes (ctime), so the edit is seen.
        writeFileSync(cfg, JSON.stringify({ rules: { [RULE]: 'info' } }));
        const old = new Date(Date.now() - 3_600_000);
        utimesSync(cfg, old, old);
        assert.deepEqual(check(), ['1:info']);
        writeFileSync(cfg, JSON.stringify({ rules: { [RULE]: 'hint' } }));
        utimesSync(cfg, old, old);
        assert.deepEqual(check(), ['1:hint']);
        unlinkSync(cfg);
        assert.deepEqual(check(), ['1:info']);
      } finally {
        rmSync(cfg, { force: true });
      }
    });
  }

  it('a nearer .hadolint.yaml wins, and its edits and removal apply on the next call', () => {
    const p = provider();
    const near = path.join(sub, '.hadolint.yaml');
    writeFileSync(path.join(root, '.strata.json'), JSON.stringify({ rules: { [RULE]: 'warning' } }));
    try {
      assert.deepEqual(p.optionsFor(uri).config?.rules, { [RULE]: 'warning' });
      writeFileSync(near, 'ignored:\n  - DL3015\n');
      assert.deepEqual(p.optionsFor(uri).config?.hadolintIgnored, ['DL3015']);
      writeFileSync(near, 'ignored:\n  - DL3008\n  - DL3015\n');
      assert.deepEqual(p.optionsFor(uri).config?.hadolintIgnored, ['DL3008', 'DL3015']);
      unlinkSync(near);
      assert.deepEqual(p.optionsFor(uri).config?.rules, { [RULE]: 'warning' });
    } finally {
      rmSync(near, { force: true });
      rmSync(path.join(root, '.strata.json'), { force: true });
    }
  });

  it('the Dockerfile folder\'s .dockerignore is re-read when it changes', () => {
    const p = provider();
    const ignore = path.join(sub, '.dockerignore');
    assert.equal(p.optionsFor(uri).contextFiles?.['.dockerignore'], null);
    writeFileSync(ignore, 'node_modules\n');
    assert.equal(p.optionsFor(uri).contextFiles?.['.dockerignore'], 'node_modules\n');
    writeFileSync(ignore, 'node_modules\n.git\n');
    assert.equal(p.optionsFor(uri).contextFiles?.['.dockerignore'], 'node_modules\n.git\n');
    unlinkSync(ignore);
    assert.equal(p.optionsFor(uri).contextFiles?.['.dockerignore'], null);
  });
});
