import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { computeSemanticTokens, SEMANTIC_TOKENS_LEGEND } from '../../../server/src/lsp/semanticTokens';
import { CORPUS, crlf } from '../../support/paths';
import { semanticTokenOutside } from '../../support/documentRanges';

/** Decodes the relative encoding into [line, char, length, typeName] for readable assertions. */
function decode(data: number[]): [number, number, number, string][] {
  const out: [number, number, number, string][] = [];
  let line = 0;
  let char = 0;
  for (let i = 0; i < data.length; i += 5) {
    line += data[i];
    char = data[i] === 0 ? char + data[i + 1] : data[i + 1];
    out.push([line, char, data[i + 2], SEMANTIC_TOKENS_LEGEND.tokenTypes[data[i + 3]]]);
  }
  return out;
}

/**
 * Median CPU time of `f(large)` over that of `f(small)`, measured alternately. CPU time (process.cpuUsage), not wall
 * time: on this shared 2-core machine a run can be descheduled for tens of milliseconds, which would swamp a
 * sub-millisecond measurement.
 */
function cpuRatio(f: (t: string) => unknown, small: string, large: string, runs = 5): number {
  const cpu = (text: string) => {
    const before = process.cpuUsage();
    for (let k = 0; k < 3; k++) f(text);
    const d = process.cpuUsage(before);
    return d.user + d.system;
  };
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(cpu(small));
    b.push(cpu(large));
  }
  const median = (x: number[]) => x.sort((p, q) => p - q)[x.length >> 1];
  return median(b) / Math.max(1, median(a));
}

describe('semantic tokens (own linear producer)', () => {
  for (const [eol, fix] of [['LF', (t: string) => t], ['CRLF', crlf]] as const) {
    it(`classifies instructions, images, stages, flags, variables, strings and continuations (${eol})`, () => {
      const text = fix('# escape=\\\nFROM golang:1.22 AS build\nARG V=1\nCOPY --from=build "/a b" ${V:-x} \\\n  $HOME\n# note\n');
      const tokens = decode(computeSemanticTokens(text).data);
      const at = (line: number, char: number) => tokens.find((t) => t[0] === line && t[1] === char)?.[3];
      assert.equal(at(0, 2), 'property'); // escape
      assert.equal(at(1, 0), 'keyword'); // FROM
      assert.equal(at(1, 5), 'class'); // golang
      assert.equal(at(1, 12), 'property'); // 1.22
      assert.equal(at(1, 17), 'keyword'); // AS
      assert.equal(at(1, 20), 'namespace'); // build
      assert.equal(at(2, 4), 'variable'); // V (declaration)
      assert.equal(at(3, 5), 'parameter'); // --from
      assert.equal(at(3, 18), 'string'); // "/a b"
      assert.equal(at(3, 25), 'variable'); // ${V
      assert.equal(at(3, 33), 'macro'); // the continuation backslash
      assert.equal(at(4, 2), 'variable'); // $HOME
      assert.equal(at(5, 0), 'comment');
      assert.equal(semanticTokenOutside(computeSemanticTokens(text).data, text), undefined);
    });
  }

  it('skips heredoc bodies and resumes after the terminator', () => {
    const text = 'FROM alpine\nRUN <<EOF\nFROM not-an-instruction\nEOF\nUSER root\n';
    const tokens = decode(computeSemanticTokens(text).data);
    assert.ok(!tokens.some((t) => t[0] === 2), JSON.stringify(tokens));
    assert.deepEqual(tokens.find((t) => t[0] === 4), [4, 0, 4, 'keyword']);
  });

  it('keeps every token inside its line on every corpus Dockerfile', () => {
    const index = readFileSync(path.join(CORPUS, 'dockerfiles/FEATURES.tsv'), 'utf8').trim().split('\n').slice(1);
    for (const row of index) {
      const file = row.split('\t')[0];
      const text = readFileSync(path.join(CORPUS, 'dockerfiles', file), 'utf8');
      assert.equal(semanticTokenOutside(computeSemanticTokens(text).data, text), undefined, file);
    }
  });

  it('is linear: 8× the variables or continuation lines take well under 8²/2× the time', () => {
    // A quadratic producer (dockerfile-language-service's) takes 64× for 8× the input; linear takes ~8×.
    for (const make of [(n: number) => 'FROM a\nRUN echo' + ' $A'.repeat(n) + '\n', (n: number) => 'FROM a\nRUN x \\\n' + ' $A b \\\n'.repeat(n) + ' c\n']) {
      const small = make(4_000);
      const large = make(32_000);
      computeSemanticTokens(small); // warm up the JIT
      computeSemanticTokens(large);
      const ratio = cpuRatio(computeSemanticTokens, small, large);
      assert.ok(ratio < 24, `8× input took ${ratio.toFixed(1)}× the CPU time`);
      console.log(`semantic tokens: 8× input, ${ratio.toFixed(1)}× CPU time`);
    }
  });
});
