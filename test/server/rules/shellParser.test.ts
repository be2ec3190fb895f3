/**
 * The RUN shell parser: unit cases for the constructs rules rely on, and a differential test against mvdan-sh
 * (mvdan/sh compiled to JavaScript, a complete POSIX/bash parser) on RUN scripts from the corpus: both must find the
 * same simple commands (names, order, pipeline positions) and agree on which scripts are invalid.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CORPUS } from '../../support/paths';
import { parseShellScript } from '../../../server/src/rules/shellParser';
import { scanDockerfile } from '../../../server/src/rules/dockerfileScan';
import { runScriptText } from '../../../server/src/rules/shellScript';

const names = (src: string) => parseShellScript(src).commands.map((c) => c.words.map((w) => w.value).join(' '));

describe('shell parser', () => {
  it('splits && || ; & and newlines', () => assert.deepEqual(names('a 1 && b || c; d & e\nf'), ['a 1', 'b', 'c', 'd', 'e', 'f']));
  it('removes quotes and keeps expansions', () => assert.deepEqual(names(`echo 'a b' "c $HOME" \\$x $(date +%s) \`id\` \${V:-1}`), ['echo a b c $HOME $x $(date +%s) `id` ${V:-1}', 'date +%s', 'id']));
  it('joins line continuations and records positions', () => {
    const r = parseShellScript('apt-get update \\\n  && apt-get install -y \\\n     curl');
    assert.deepEqual(r.commands.map((c) => [c.words[0].line, c.words[0].col, c.words.length]), [[0, 0, 2], [1, 5, 4]]);
  });
  it('records the column of every word after long words, quotes, expansions and an escaped `;`', () => {
    const r = parseShellScript('longcommandname --some-flag=value && x "q q" $V; yy zz \\; other');
    assert.deepEqual(r.commands.map((c) => c.words.map((w) => `${w.value}@${w.line}:${w.col}`)),
      [['longcommandname@0:0', '--some-flag=value@0:16'], ['x@0:37', 'q q@0:39', '$V@0:45'], ['yy@0:49', 'zz@0:52', ';@0:55', 'other@0:58']]);
  });
  it('marks pipelines and what feeds them', () => {
    const r = parseShellScript('curl -fsSL x | tar -xz | sort; echo ok');
    assert.deepEqual(r.commands.map((c) => [c.words[0].value, c.pipeIndex, c.pipeLength, c.pipedFrom.join(',')]),
      [['curl', 0, 3, ''], ['tar', 1, 3, 'curl'], ['sort', 2, 3, 'curl,tar'], ['echo', 0, 1, '']]);
    assert.equal(r.hasPipe, true);
  });
  it('descends into subshells, groups, if/for/while/case and functions', () => {
    const src = '(cd /x && make); { a; }; if t; then b; elif u; then c; else d; fi; for i in 1 2; do e $i; done; while f; do g; done; case "$x" in a|b) h ;; *) i ;; esac; fn() { j; }';
    assert.deepEqual(names(src), ['cd /x', 'make', 'a', 't', 'b', 'u', 'c', 'd', 'e $i', 'f', 'g', 'h', 'i', 'j']);
    assert.deepEqual(parseShellScript('(cd /x && make); cd /y').commands.map((c) => c.inSubshell), [true, true, false]);
  });
  it('skips heredoc bodies, comments and redirections', () => {
    assert.deepEqual(names('cat <<EOF > /etc/x\nnot a command\nEOF\n# comment\nb 2>/dev/null >> log < in'), ['cat', 'b']);
    assert.deepEqual(names('cat <<-"END"\n\tbody\n\tEND\nc'), ['cat', 'c']);
  });
  it('keeps assignments apart from words', () => {
    const c = parseShellScript('DEBIAN_FRONTEND=noninteractive apt-get install -y x').commands[0];
    assert.deepEqual([c.assigns, c.words[0].value], [['DEBIAN_FRONTEND=noninteractive'], 'apt-get']);
  });
  it('rejects unterminated quotes and stray operators', () => {
    assert.throws(() => parseShellScript('echo "abc'));
    assert.throws(() => parseShellScript('&& b'));
    assert.throws(() => parseShellScript('if a; then b'));
  });
});

const DECL = new Set(['export', 'local', 'readonly', 'declare', 'typeset']);

interface MvdanSyntax { NewParser(): { Parse(s: string, n: string): unknown }; Walk(n: unknown, f: (n: unknown) => boolean): void; NodeType(n: unknown): string }

/** Command names in source order as mvdan-sh sees them (literal first words only). */
function mvdanNames(sh: MvdanSyntax, parser: { Parse(s: string, n: string): unknown }, src: string): string[] | null {
  let file: unknown;
  try { file = parser.Parse(src, ''); } catch { return null; }
  const out: [number, number, string][] = [];
  sh.Walk(file, (n) => {
    if (n && sh.NodeType(n) === 'CallExpr') {
      const args = (n as { Args: { Parts: { Value?: string }[]; Pos(): { Line(): number; Col(): number } }[] }).Args;
      if (args.length > 0) {
        const w = args[0];
        const lit = w.Parts.length === 1 && sh.NodeType(w.Parts[0]) === 'Lit' ? String(w.Parts[0].Value) : '?';
        out.push([w.Pos().Line(), w.Pos().Col(), lit]);
      }
    }
    return true;
  });
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
}

describe('shell parser agrees with mvdan-sh on corpus RUN scripts', () => {
  it('finds the same commands in at least 97% of sampled scripts', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sh = (require('mvdan-sh') as { syntax: MvdanSyntax }).syntax;
    const parser = sh.NewParser();
    const files = readFileSync(path.join(CORPUS, 'dockerfiles/SOURCES.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0]);
    let compared = 0;
    const mismatches: string[] = [];
    files.forEach((f, fi) => {
      if (fi % 6 !== 0) return; // a sixth of the corpus keeps the oracle (slow: GopherJS) under a few seconds
      const scan = scanDockerfile(readFileSync(path.join(CORPUS, 'dockerfiles', f), 'utf8'));
      for (const ins of scan.instructions) {
        if (ins.upper !== 'RUN') continue;
        const src = runScriptText(ins, scan.lines, scan.escape);
        if (!src) continue;
        const theirs = mvdanNames(sh, parser, src.text);
        let ours: string[] | null;
        try {
          // mvdan-sh models export/local/readonly/declare as declarations, not calls.
          ours = parseShellScript(src.text).commands.filter((c) => !DECL.has(c.words[0].value))
            .map((c) => (/[$`'"\\]/.test(c.words[0].value) ? '?' : c.words[0].value));
        } catch { ours = null; }
        compared++;
        const a = JSON.stringify(ours?.map((n) => (n === '?' ? '?' : n)));
        const b = JSON.stringify(theirs);
        if (theirs === null && ours === null) continue;
        if (a !== b) mismatches.push(`${f}:${ins.startLine + 1}\n  ours:   ${a}\n  mvdan:  ${b}`);
      }
    });
    assert.ok(compared > 300, `compared ${compared}`);
    const rate = 1 - mismatches.length / compared;
    console.log(`shell parser vs mvdan-sh: ${compared - mismatches.length}/${compared} scripts agree (${(rate * 100).toFixed(1)}%)`);
    assert.ok(rate >= 0.97, `agreement ${(rate * 100).toFixed(1)}% over ${compared} scripts; first mismatches:\n${mismatches.slice(0, 8).join('\n')}`);
  });
});
