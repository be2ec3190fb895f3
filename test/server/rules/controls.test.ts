/**
 * Suppression and severity control: `# strata-ignore`, `# check=skip=` (BuildKit's and ours), `# hadolint ignore=`,
 * `# hadolint global ignore=`, .hadolint.yaml `ignored:`/`override:`, .strata.json/.yaml and `strata.rules` settings,
 * `BUILDKIT_DOCKERFILE_CHECK`, `error=true`, experimental rules; and rule isolation (a rule that throws).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crlf } from '../../support/paths';
import { checkDockerfile, type CheckOptions } from '../../../server/src/rules/checkDockerfile';
import { loadWorkspaceConfig } from '../../../server/src/rules/strataConfig';
import { mapContextReader } from '../../../server/src/rules/checkSettings';
import { STRATA_RULES } from '../../../server/src/rules/ruleTable';
import type { StrataRule } from '../../../server/src/rules/ruleContext';

const APT = 'FROM debian:12\nRUN apt-get update && apt-get install -y curl\n';

for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
  const ids = (text: string, o: CheckOptions = {}) => checkDockerfile(fix(text), o).map((d) => `${d.line + 1}:${d.rule}:${d.severity}`);
  describe(`controls (${eol})`, () => {
    it('reports the apt example by default', () => {
      assert.deepEqual(ids(APT), ['2:size/apt-lists-kept:warning', '2:size/no-install-recommends:info']);
    });
    it('# strata-ignore on the line before silences the listed ids for that instruction only', () => {
      const t = 'FROM debian:12\n# strata-ignore size/apt-lists-kept, size/no-install-recommends\nRUN apt-get update && apt-get install -y curl\nRUN apt-get update && apt-get install -y curl\n';
      assert.deepEqual(ids(t), ['4:size/apt-lists-kept:warning', '4:size/no-install-recommends:info']);
    });
    it('# hadolint ignore= applies through equivalents', () => {
      const t = 'FROM debian:12\n# hadolint ignore=DL3009\nRUN apt-get update && apt-get install -y curl\n';
      assert.deepEqual(ids(t), ['3:size/no-install-recommends:info']);
    });
    it('# hadolint global ignore= applies to the file', () => {
      const t = '# hadolint global ignore=DL3015,DL3009\nFROM debian:12\nRUN apt-get update && apt-get install -y curl\n';
      assert.deepEqual(ids(t), []);
    });
    it('# check=skip= names our rules too, per instruction and for the file', () => {
      assert.deepEqual(ids('# check=skip=size/apt-lists-kept\n' + APT), ['3:size/no-install-recommends:info']);
      assert.deepEqual(ids('FROM debian:12\n# check=skip=size/no-install-recommends\nRUN apt-get update && apt-get install -y curl\n'), ['3:size/apt-lists-kept:warning']);
    });
    it('settings override severities and turn rules off or on', () => {
      assert.deepEqual(ids(APT, { severities: { 'size/apt-lists-kept': 'error', 'size/no-install-recommends': 'off' } }), ['2:size/apt-lists-kept:error']);
      assert.deepEqual(ids('FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n',
        { severities: { 'pinning/apt-versions': 'warning' } }), ['2:pinning/apt-versions:warning']);
      assert.deepEqual(ids('FROM scratch AS A\n', { severities: { StageNameCasing: 'info' } }), ['1:StageNameCasing:info']);
      assert.deepEqual(ids('FROM scratch AS A\n', { severities: { StageNameCasing: 'off' } }), []);
    });
    it('.strata.json, .strata.yaml and .hadolint.yaml are read and settings win over them', () => {
      const json = loadWorkspaceConfig(mapContextReader({ '.strata.json': '{"rules": {"size/apt-lists-kept": "off"}}' }));
      assert.deepEqual(json.errors, []);
      assert.deepEqual(ids(APT, { config: json.config }), ['2:size/no-install-recommends:info']);
      assert.deepEqual(ids(APT, { config: json.config, severities: { 'size/apt-lists-kept': 'warning' } }), ['2:size/apt-lists-kept:warning', '2:size/no-install-recommends:info']);
      const yaml = loadWorkspaceConfig(mapContextReader({ '.strata.yaml': 'rules:\n  size/no-install-recommends: error\n' }));
      assert.deepEqual(ids(APT, { config: yaml.config }), ['2:size/apt-lists-kept:warning', '2:size/no-install-recommends:error']);
      const h = loadWorkspaceConfig(mapContextReader({ '.hadolint.yaml': 'ignored:\n  - DL3009\noverride:\n  error:\n    - DL3015\n' }));
      assert.deepEqual(ids(APT, { config: h.config }), ['2:size/no-install-recommends:error']);
      const bad = loadWorkspaceConfig(mapContextReader({ '.strata.json': '{"rules": {"x/y": "loud"}}' }));
      assert.equal(bad.errors.length, 1);
    });
    it('BUILDKIT_DOCKERFILE_CHECK replaces the file directive; error=true raises BuildKit findings to errors', () => {
      const t = '#check=skip=all\nFROM scratch as base\ncopy Dockerfile .\n';
      assert.deepEqual(ids(t), []);
      assert.deepEqual(ids(t, { buildArgs: new Map([['BUILDKIT_DOCKERFILE_CHECK', 'skip=ConsistentInstructionCasing;error=true']]) }), ['2:FromAsCasing:error']);
    });
    it('experimental rules are off unless enabled', () => {
      const t = '# foo this is not about bar\nARG bar=1\nFROM scratch\n';
      assert.deepEqual(ids(t), []);
      assert.deepEqual(ids('# check=experimental=InvalidDefinitionDescription\n' + t), ['3:InvalidDefinitionDescription:warning']);
    });
    it('an invalid check directive is reported and disables BuildKit checks', () => {
      assert.deepEqual(ids('# check=skip\nFROM scratch AS A\n'), ['1:syntax/check-directive:error']);
    });
    it('reads .dockerignore through the context reader (CopyIgnoredFile)', () => {
      const t = 'FROM scratch\nCOPY secret.txt /\n';
      assert.deepEqual(ids(t), []);
      assert.deepEqual(ids(t, { context: mapContextReader({ '.dockerignore': 'secret.txt\n' }) }), ['2:CopyIgnoredFile:warning']);
    });
    it('a rule that throws is isolated: reported once through onRuleError, the others still report', () => {
      const thrower: StrataRule = {
        id: 'test/throws', severity: 'warning', title: 't', equivalents: [], rationale: '', examples: { bad: '', good: '' },
        check() { throw new Error('boom'); },
      };
      (STRATA_RULES as StrataRule[]).unshift(thrower);
      try {
        const errors: string[] = [];
        const found = checkDockerfile(fix(APT), { onRuleError: (r, e) => errors.push(`${r}: ${(e as Error).message}`) });
        assert.deepEqual(errors, ['test/throws: boom']);
        assert.deepEqual(found.map((d) => d.rule), ['size/apt-lists-kept', 'size/no-install-recommends']);
      } finally {
        (STRATA_RULES as StrataRule[]).shift();
      }
    });
  });
}
