/**
 * Quick fixes: applying a finding's fix gives the expected text, and the finding is gone afterwards (LF and CRLF).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crlf } from '../../support/paths';
import { checkDockerfile, type StrataDiagnosticWithFix } from '../../../server/src/rules/checkDockerfile';
import type { TextEdit } from '../../../server/src/rules/ruleContext';

/** Applies edits (0-based line/character) to a text, keeping its line endings. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const offsets: number[] = [];
  let o = 0;
  for (const l of lines) { offsets.push(o); o += l.length + eol.length; }
  const at = (line: number, ch: number) => (line >= lines.length ? text.length : offsets[line] + ch);
  const sorted = [...edits].sort((a, b) => at(b.line, b.character) - at(a.line, a.character));
  let out = text;
  for (const e of sorted) out = out.slice(0, at(e.line, e.character)) + e.newText.replace(/\n/g, eol) + out.slice(at(e.endLine, e.endCharacter));
  return out;
}

const CASES: [string, string, string][] = [
  ['FromAsCasing', 'FROM scratch as base\n', 'FROM scratch AS base\n'],
  ['StageNameCasing', 'FROM scratch AS Base\n', 'FROM scratch AS base\n'],
  ['MaintainerDeprecated', 'FROM scratch\nMAINTAINER Jane "J" Doe\n', 'FROM scratch\nLABEL org.opencontainers.image.authors="Jane \\"J\\" Doe"\n'],
  ['JSONArgsRecommended', 'FROM scratch\nCMD node server.js --port 80\n', 'FROM scratch\nCMD ["node", "server.js", "--port", "80"]\n'],
  ['LegacyKeyValueFormat', 'FROM scratch\nENV A b c\n', 'FROM scratch\nENV A="b c"\n'],
  ['size/no-install-recommends', 'FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n',
    'FROM debian:12\nRUN apt-get update && apt-get install --no-install-recommends -y curl && rm -rf /var/lib/apt/lists/*\n'],
  ['size/apt-lists-kept', 'FROM debian:12\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends curl\n',
    'FROM debian:12\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends curl \\\n    && rm -rf /var/lib/apt/lists/*\n'],
  ['cache/copy-before-install', 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n',
    'FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD ["node", "index.js"]\n'],
  ['cache/copy-before-install', 'FROM python:3.12-slim\nCOPY . /srv\nRUN pip install --no-cache-dir -r requirements.txt\n',
    'FROM python:3.12-slim\nCOPY requirements.txt /srv/\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . /srv\n'],
];

for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
  describe(`quick fixes (${eol})`, () => {
    for (const [rule, before, after] of CASES) {
      it(`${rule}: ${before.split('\n')[1] || before.split('\n')[0]}`, () => {
        const found = checkDockerfile(fix(before)).filter((d) => d.rule === rule) as StrataDiagnosticWithFix[];
        assert.equal(found.length, 1, JSON.stringify(found));
        assert.equal(found[0].fixable, true);
        const fixed = applyEdits(fix(before), found[0].fix!.edits);
        assert.equal(fixed, fix(after));
        assert.deepEqual(checkDockerfile(fixed).filter((d) => d.rule === rule), []);
      });
    }
    it('offers no fix where it is not certain', () => {
      const shellCmd = checkDockerfile(fix('FROM scratch\nCMD node $APP && echo done\n')).find((d) => d.rule === 'JSONArgsRecommended');
      assert.equal(shellCmd?.fixable, false);
      const busyRun = checkDockerfile(fix('FROM node:20\nCOPY . .\nRUN npm ci && npm run build\n')).find((d) => d.rule === 'cache/copy-before-install');
      assert.equal(busyRun?.fixable, false);
    });
  });
}
