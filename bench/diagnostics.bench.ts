/**
 * Diagnostics cost against dockerfile-ast's bare parse of the same text, measured in the same run:
 *  1. a 3,000-line Dockerfile assembled from the corpus (goal: full diagnostics ≤ 30 ms);
 *  2. the corpus median per file (goal ≤ 5 ms), cold (first check of each text) and warm (re-check, as an editor
 *     does on each keystroke: RUN scripts hit the shell-parse memo);
 *  and where the time goes (dockerfile-utils' syntax validation vs Strata's scan + BuildKit checks + rules).
 * Also prints per-rule hit counts over the corpus (the noise figure of issue 6).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { checkDockerfile } from '../server/src/rules/checkDockerfile';
import { validateSyntax } from '../server/src/rules/syntaxValidation';

const ROOT = process.env.STRATA_ROOT ?? process.cwd();
const DIR = path.resolve(ROOT, '../shared/corpus/dockerfiles');
const files = readFileSync(path.join(DIR, 'SOURCES.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0]);
const texts = files.map((f) => readFileSync(path.join(DIR, f), 'utf8'));
const quick = process.env.STRATA_BENCH_QUICK === '1';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

// 1. A 3,000-line Dockerfile: whole corpus files (Linux ones, escape `\`) concatenated until 3,000 lines.
let big = '';
let bigLines = 0;
for (const t of texts) {
  if (/^#\s*escape\s*=\s*`/m.test(t)) continue;
  const norm = t.replace(/\r\n/g, '\n');
  big += norm.endsWith('\n') ? norm : norm + '\n';
  bigLines += norm.split('\n').length;
  if (bigLines >= 3000) break;
}
big = big.split('\n').slice(0, 3000).join('\n') + '\n';

// Warm up JIT on everything once.
for (const t of texts.slice(0, 50)) { DockerfileParser.parse(t); checkDockerfile(t); }

const reps = quick ? 3 : 9;
const bigParse: number[] = [];
const bigFullCold: number[] = [];
const bigFull: number[] = [];
const bigSyntax: number[] = [];
for (let i = 0; i < reps; i++) {
  // A unique trailing comment defeats the shell memo for the "cold" figure only in the instruction it touches, so
  // perturb every RUN instead: a different text per repetition.
  const cold = big.replace(/^RUN /gm, `RUN : ${i} && `);
  bigParse.push(time(() => DockerfileParser.parse(big)));
  bigFullCold.push(time(() => checkDockerfile(cold)));
  bigFull.push(time(() => checkDockerfile(big)));
  bigSyntax.push(time(() => validateSyntax(big, 3001)));
}
const bp = median(bigParse);
console.log(`3,000-line Dockerfile: bare parse ${bp.toFixed(1)} ms · full diagnostics ${median(bigFull).toFixed(1)} ms warm (${(median(bigFull) / bp).toFixed(2)}× parse), `
  + `${median(bigFullCold).toFixed(1)} ms cold (${(median(bigFullCold) / bp).toFixed(2)}×) · of which dockerfile-utils syntax validation ${median(bigSyntax).toFixed(1)} ms (${(median(bigSyntax) / bp).toFixed(2)}×) · goal ≤ 30 ms`);

// 2. Corpus median per file.
const parse: number[] = [];
const fullCold: number[] = [];
const fullWarm: number[] = [];
const syntax: number[] = [];
const counts = new Map<string, number>();
const filesHit = new Map<string, number>();
texts.forEach((t, i) => {
  if (quick && i % 4 !== 0) return;
  parse.push(Math.min(time(() => DockerfileParser.parse(t)), time(() => DockerfileParser.parse(t))));
  let found: ReturnType<typeof checkDockerfile> = [];
  fullCold.push(time(() => { found = checkDockerfile(t); }));
  fullWarm.push(Math.min(time(() => checkDockerfile(t)), time(() => checkDockerfile(t))));
  syntax.push(time(() => validateSyntax(t, 1000)));
  const seen = new Set<string>();
  for (const d of found) {
    counts.set(d.rule, (counts.get(d.rule) ?? 0) + 1);
    if (!seen.has(d.rule)) { seen.add(d.rule); filesHit.set(d.rule, (filesHit.get(d.rule) ?? 0) + 1); }
  }
});
const mp = median(parse);
console.log(`corpus (${parse.length} files) median: bare parse ${mp.toFixed(2)} ms · full diagnostics ${median(fullWarm).toFixed(2)} ms warm (${(median(fullWarm) / mp).toFixed(2)}× parse), `
  + `${median(fullCold).toFixed(2)} ms cold (${(median(fullCold) / mp).toFixed(2)}×) · syntax validation alone ${median(syntax).toFixed(2)} ms (${(median(syntax) / mp).toFixed(2)}×) · goal ≤ 5 ms`);

console.log('\nper-rule hits over the corpus (findings, files):');
for (const [rule, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)} ${String(filesHit.get(rule)).padStart(4)}  ${rule}`);
