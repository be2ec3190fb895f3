/**
 * RuleSettingsProvider over a real temporary workspace: the config files it caches between diagnostics runs still
 * apply on the very next run after they are written, changed (same size too) or deleted; `cachedOptionsFor` (what the
 * LSP uses) makes no file-system call until invalidated, and its background re-check finds edits nobody reported.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuleSettingsProvider } from '../../../server/src/rules/ruleSettingsProvider';
import { FileStampCache } from '../../../server/src/rules/fileStampCache';
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

  describe('cachedOptionsFor', () => {
    /** A provider whose sync file-system calls are counted and whose clock the test moves. */
    const counted = () => {
      const calls: string[] = [];
      const clock = { now: 0 };
      const files = new FileStampCache({
        stat: (f) => { calls.push(f); return statSync(f, { throwIfNoEntry: false }); },
        readFile: (f) => readFileSync(f, 'utf8'),
      });
      const p = new RuleSettingsProvider(files, 1000, () => clock.now);
      p.setRoots([pathToFileURL(root).href]);
      return { p, calls, clock };
    };
    const cfg = () => path.join(root, '.strata.json');

    it('answers from the cache without file-system calls until a file it read is reported changed', () => {
      const { p, calls } = counted();
      try {
        const first = p.cachedOptionsFor(uri);
        assert.ok(calls.length > 0);
        assert.ok(calls.includes(cfg()) && calls.includes(path.join(sub, '.dockerignore')), 'absent files are read too');
        calls.length = 0;
        assert.equal(p.cachedOptionsFor(uri), first, 'the same object');
        assert.deepEqual(calls, []);
        writeFileSync(cfg(), JSON.stringify({ rules: { [RULE]: 'off' } }));
        assert.equal(p.invalidate([path.join(root, 'unrelated.txt')]), false);
        assert.equal(p.cachedOptionsFor(uri), first, 'an unrelated path keeps the cache');
        assert.equal(p.invalidate([cfg()]), true);
        assert.deepEqual(p.cachedOptionsFor(uri).config?.rules, { [RULE]: 'off' });
        // A folder reported (deleted, renamed) drops what was read below it.
        assert.equal(p.invalidate([path.join(root, 'svc')]), true);
        p.cachedOptionsFor(uri);
        assert.equal(p.invalidateUris([pathToFileURL(cfg()).href]), true);
        const again = p.cachedOptionsFor(uri);
        p.forget(uri);
        assert.notEqual(p.cachedOptionsFor(uri), again, 'forget (didClose) drops the entry');
      } finally {
        rmSync(cfg(), { force: true });
      }
    });

    it('a settings change drops the cache', () => {
      const { p } = counted();
      const first = p.cachedOptionsFor(uri);
      p.setSettings({ rules: { FromAsCasing: 'off' } });
      const second = p.cachedOptionsFor(uri);
      assert.notEqual(second, first);
      assert.deepEqual(second.severities, { FromAsCasing: 'off' });
    });

    for (const [eol, fix] of [['LF', (t: string) => t], ['CRLF', crlf]] as const) {
      it(`the background re-check finds an unreported .hadolint.yaml edit and calls onStale (${eol})`, async () => {
        const { p, calls, clock } = counted();
        let stale = 0;
        p.onStale = () => { stale++; };
        const hadolint = path.join(sub, '.hadolint.yaml');
        // The re-check reads files asynchronously: wait for it to finish, however loaded the machine is.
        const settled = () => p.backgroundCheck;
        try {
          const first = p.cachedOptionsFor(uri);
          calls.length = 0;
          clock.now = 999;
          writeFileSync(hadolint, fix('ignored:\n  - DL3015\n'));
          assert.equal(p.cachedOptionsFor(uri), first, 'within the interval: no re-check');
          await settled();
          assert.equal(stale, 0);
          clock.now = 1000;
          assert.equal(p.cachedOptionsFor(uri), first, 'the re-check runs in the background; this run keeps the old options');
          assert.deepEqual(calls, [], 'no synchronous file-system call');
          await settled();
          assert.equal(stale, 1);
          const next = p.cachedOptionsFor(uri);
          assert.deepEqual(next.config?.hadolintIgnored, ['DL3015']);
          assert.deepEqual(checkDockerfile(fix(DOCKERFILE), toCheckOptions(next)).filter((d) => d.rule === RULE), []);
          // Nothing changed since: the next re-check keeps the entry and stays quiet.
          clock.now = 5000;
          assert.equal(p.cachedOptionsFor(uri), next);
          await settled();
          assert.equal(stale, 1);
          assert.equal(p.cachedOptionsFor(uri), next);
        } finally {
          rmSync(hadolint, { force: true });
        }
      });
    }
  });
});
