/**
 * Code actions for Strata's diagnostics: the rule's fix as a preferred quick fix, the suppress-comment action
 * (`# strata-ignore` for ours, `# check=skip=` for BuildKit's per-instruction rules), fix-all in file as a quick fix
 * and as `source.fixAll.strata`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeActionParams, Diagnostic, TextEdit } from 'vscode-languageserver';
import { computeCodeActions, FIX_ALL_KIND } from '../../../server/src/lsp/codeActions';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';
import { crlf } from '../../support/paths';

const uri = 'file:///w/Dockerfile';

function lspDiagnostics(text: string): Diagnostic[] {
  return checkDockerfile(text).map((d) => ({
    range: { start: { line: d.line, character: d.character }, end: { line: d.endLine, character: d.endCharacter } },
    source: 'strata', code: d.rule, message: d.message,
  }));
}

function params(text: string, only?: string[], diagnostics = lspDiagnostics(text)): CodeActionParams {
  return { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics, only } };
}

function apply(text: string, edits: TextEdit[]): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const off = (l: number, c: number) => lines.slice(0, l).reduce((n, s) => n + s.length + eol.length, 0) + c;
  let out = text;
  for (const e of [...edits].sort((a, b) => off(b.range.start.line, b.range.start.character) - off(a.range.start.line, a.range.start.character))) {
    out = out.slice(0, off(e.range.start.line, e.range.start.character)) + e.newText + out.slice(off(e.range.end.line, e.range.end.character));
  }
  return out;
}

for (const [eol, fix] of [['LF', (s: string) => s], ['CRLF', crlf]] as const) {
  describe(`code actions (${eol})`, () => {
    const text = fix('FROM debian:12 as build\nRUN apt-get update && apt-get install -y curl\nCMD run\n');
    it('offers each certain fix as a preferred quick fix', () => {
      const actions = computeCodeActions(text, params(text));
      const fromAs = actions.find((a) => a.title === "Change 'as' to 'AS'");
      assert.ok(fromAs?.isPreferred);
      assert.equal(apply(text, fromAs!.edit!.changes![uri]), text.replace(' as ', ' AS '));
      assert.ok(actions.some((a) => a.title === 'Add --no-install-recommends'));
    });
    it('offers suppression comments that silence the finding', () => {
      const actions = computeCodeActions(text, params(text));
      const ignore = actions.find((a) => a.title === 'Ignore size/apt-lists-kept for this instruction')!;
      const after = apply(text, ignore.edit!.changes![uri]);
      assert.ok(after.includes('# strata-ignore size/apt-lists-kept'));
      assert.deepEqual(checkDockerfile(after).filter((d) => d.rule === 'size/apt-lists-kept'), []);
      const skip = actions.find((a) => a.title.startsWith('Skip JSONArgsRecommended'))!;
      const skipped = apply(text, skip.edit!.changes![uri]);
      assert.ok(skipped.includes('# check=skip=JSONArgsRecommended'));
      assert.deepEqual(checkDockerfile(skipped).filter((d) => d.rule === 'JSONArgsRecommended'), []);
    });
    it('fixes everything fixable at once (quick fix and source.fixAll)', () => {
      const all = computeCodeActions(text, params(text)).find((a) => a.title.startsWith('Fix all'))!;
      const fixed = apply(text, all.edit!.changes![uri]);
      const left = checkDockerfile(fixed).map((d) => d.rule);
      for (const r of ['FromAsCasing', 'size/no-install-recommends', 'size/apt-lists-kept', 'JSONArgsRecommended']) assert.ok(!left.includes(r), `${r} in ${left}`);
      const source = computeCodeActions(text, params(text, [FIX_ALL_KIND], []));
      assert.equal(source.length, 1);
      assert.equal(source[0].kind, FIX_ALL_KIND);
      assert.equal(apply(text, source[0].edit!.changes![uri]), fixed);
    });
    it('returns nothing without Strata diagnostics', () => {
      assert.deepEqual(computeCodeActions(text, params(text, undefined, [])), []);
    });
  });
}
