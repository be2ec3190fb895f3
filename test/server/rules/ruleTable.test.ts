/**
 * Every Strata rule: a stable `category/kebab-name` id, a docs page, hadolint equivalents well-formed, and its two
 * documented examples behave — the bad one triggers the rule (enabled, for rules off by default), the good one does
 * not — with LF and CRLF line endings.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT, crlf } from '../../support/paths';
import { STRATA_RULES, docsUrlFor, DOCS_BASE } from '../../../server/src/rules/ruleTable';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';
import { mapContextReader } from '../../../server/src/rules/checkSettings';

const enableAll = Object.fromEntries(STRATA_RULES.map((r) => [r.id, r.severity === 'off' ? 'warning' : r.severity]));
const context = mapContextReader({ '.dockerignore': '' });
const hits = (text: string, id: string) => checkDockerfile(text, { severities: enableAll, context }).filter((d) => d.rule === id);

describe('rule table', () => {
  it('has unique ids of the form category/kebab-name', () => {
    const ids = STRATA_RULES.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^(cache|size|security|reliability|pinning|style|correctness)\/[a-z0-9]+(-[a-z0-9]+)*$/);
  });
  it('lists the rules the issue asks for', () => {
    for (const id of ['cache/copy-before-install', 'cache/apt-update-alone', 'size/apt-lists-kept', 'size/no-install-recommends',
      'size/package-cache-kept', 'size/removed-in-later-layer', 'cache/volatile-early', 'cache/add-remote-url', 'cache/copy-dockerfile',
      'security/secret-in-arg-env', 'security/curl-pipe-shell', 'security/root-user', 'reliability/pipefail']) {
      assert.ok(STRATA_RULES.some((r) => r.id === id), id);
    }
  });
  for (const rule of STRATA_RULES) {
    describe(rule.id, () => {
      it('has a docs page linked from its diagnostics', () => {
        assert.equal(docsUrlFor(rule.id), DOCS_BASE + rule.id + '.md');
        const page = path.join(ROOT, 'docs/rules', rule.id + '.md');
        assert.ok(existsSync(page), page);
        assert.match(readFileSync(page, 'utf8'), new RegExp(rule.id.replace('/', '\\/')));
      });
      it('has well-formed hadolint equivalents', () => {
        for (const code of rule.equivalents) assert.match(code, /^DL\d{4}$/);
      });
      for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
        it(`triggers on its bad example (${eol})`, () => {
          const found = hits(fix(rule.examples.bad), rule.id);
          assert.ok(found.length > 0, `no ${rule.id} in:\n${rule.examples.bad}`);
          for (const d of found) {
            assert.ok(d.message.length > 20);
            assert.deepEqual(d.equivalents, rule.equivalents);
            assert.equal(d.docsUrl, docsUrlFor(rule.id));
          }
        });
        it(`is quiet on its good example (${eol})`, () => {
          assert.deepEqual(hits(fix(rule.examples.good), rule.id).map((d) => d.message), []);
        });
      }
    });
  }
});
