/**
 * Build progress parser benchmark: a chatty build (a RUN printing 1,000,000 log lines, ~40 MB of `--progress=plain`)
 * fed in 64 KiB chunks as docker writes it.
 *   - throughput vs the floor in the same run: splitting the same chunks into lines and doing nothing with them;
 *   - memory: heap growth while parsing (the parser keeps a bounded tail, so it must not grow with the log).
 *
 *   npm run bench -- build        (STRATA_BENCH_LINES=N, default 1,000,000)
 */
import { performance } from 'node:perf_hooks';
import { BuildProgressParser } from '../server/src/build/buildProgressParser';

const LINES = Number(process.env.STRATA_BENCH_LINES ?? 1_000_000);

function makeChunks(): string[] {
  const parts: string[] = ['#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n#5 [2/3] RUN ./build.sh\n'];
  for (let i = 0; i < LINES; i++) parts.push(`#5 ${(i / 1000).toFixed(3)} compiling module ${i} of ${LINES}: src/some/longer/path/file${i % 977}.c\n`);
  parts.push('#5 DONE 61.2s\n');
  const text = parts.join('');
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 65536) chunks.push(text.slice(i, i + 65536));
  return chunks;
}

function floor(chunks: string[]): number {
  const t = performance.now();
  let partial = '';
  let n = 0;
  for (const c of chunks) {
    const lines = (partial + c).split('\n');
    partial = lines.pop() ?? '';
    n += lines.length;
  }
  if (n < LINES) throw new Error('floor lost lines');
  return performance.now() - t;
}

function parse(chunks: string[]): { ms: number; heapGrowth: number; logLines: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let maxHeap = heap0;
  const t = performance.now();
  const p = new BuildProgressParser();
  chunks.forEach((c, i) => {
    p.push(c);
    if (i % 64 === 0) maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
  });
  p.end();
  const ms = performance.now() - t;
  const v = p.vertices.get(5)!;
  return { ms, heapGrowth: maxHeap - heap0, logLines: v.logLines };
}

const chunks = makeChunks();
const mb = chunks.reduce((a, c) => a + c.length, 0) / 1e6;
const floors: number[] = [];
const runs: ReturnType<typeof parse>[] = [];
for (let i = 0; i < 3; i++) {
  floors.push(floor(chunks));
  runs.push(parse(chunks));
}
const f = Math.min(...floors);
const best = runs.reduce((a, b) => (a.ms < b.ms ? a : b));
if (best.logLines !== LINES) throw new Error(`parser counted ${best.logLines} log lines, expected ${LINES}`);
console.log(`log: ${LINES} lines, ${mb.toFixed(1)} MB, 64 KiB chunks`);
console.log(`floor (split into lines only): ${f.toFixed(0)} ms`);
console.log(`parser: ${best.ms.toFixed(0)} ms = ${(best.ms / f).toFixed(2)}× the floor, ${(mb / (best.ms / 1000)).toFixed(0)} MB/s`);
console.log(`heap growth while parsing: ${(Math.max(...runs.map((r) => r.heapGrowth)) / 1e6).toFixed(1)} MB for a ${mb.toFixed(0)} MB log (bounded tail)`);
