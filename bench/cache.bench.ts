// Cache-prediction benchmark: a 30-step Dockerfile over a 10,000-file context.
//  - cold: full prediction (walk + hash every selected file + keys) vs `tar -cf - . | cat > /dev/null` of the same
//    context, measured in the same run (goal ≤ 1.0×);
//  - incremental: after editing one file, refresh that path and recompute (goal ≤ 50 ms; only that file rehashed);
//  - memory: RSS after predicting a 10k- and a 100k-file context.
// STRATA_BENCH_QUICK=1 skips the 100k context.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { computeBuildInputs } from '../server/src/cache/computeBuildInputs';
import { nodeContextFs } from '../server/src/cache/contextFs';
import { ContextIndex } from '../server/src/cache/contextIndex';

function makeContext(files: number, bytes: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-bench-cache-'));
  const made = new Set<string>();
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `pkg${i % 10}`, `d${Math.floor(i / 100)}`);
    if (!made.has(sub)) { mkdirSync(sub, { recursive: true }); made.add(sub); }
    writeFileSync(path.join(sub, `f${i}.txt`), `${i}:`.padEnd(bytes, 'x'));
  }
  const steps = ['FROM base AS build', 'WORKDIR /app', 'ARG V=1', 'ENV A=1'];
  for (let p = 0; p < 10; p++) steps.push(`COPY pkg${p}/ ./pkg${p}/`, `RUN build ${p}`);
  while (steps.length < 30) steps.push(`LABEL n${steps.length}=x`);
  writeFileSync(path.join(dir, 'Dockerfile'), steps.join('\n') + '\n');
  return dir;
}

function tarTime(dir: string): number {
  const t = performance.now();
  const r = spawnSync('bash', ['-c', 'tar -C "$1" -cf - . | cat > /dev/null', '_', dir]);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return performance.now() - t;
}

async function predict(dir: string, index: ContextIndex, scan: boolean): Promise<number> {
  const t = performance.now();
  if (scan) await index.scan();
  const text = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
  const inputs = await computeBuildInputs({ dockerfile: path.join(dir, 'Dockerfile'), context: dir, dockerfileText: text, target: null, buildArgs: {}, index, resolveImage: async () => null });
  if (inputs.steps.length !== 30) throw new Error(`expected 30 steps, got ${inputs.steps.length}`);
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssMb = () => process.memoryUsage().rss / 1e6;

async function main(): Promise<void> {
  const dir = makeContext(10_000, 2048);
  try {
    tarTime(dir); // warm the page cache for both sides
    const tars: number[] = [];
    const colds: number[] = [];
    let index = new ContextIndex(nodeContextFs(dir));
    for (let r = 0; r < 3; r++) {
      tars.push(tarTime(dir));
      index = new ContextIndex(nodeContextFs(dir));
      colds.push(await predict(dir, index, true));
    }
    const tar = median(tars);
    const cold = median(colds);
    console.log(`cold prediction, 30 steps, 10,000 files (20 MB): ${cold.toFixed(0)} ms; tar -c | cat > /dev/null: ${tar.toFixed(0)} ms; ratio ${(cold / tar).toFixed(2)}× (goal ≤ 1.0×)`);

    const incs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const n = 3003 + r * 100;
      const rel = `pkg3/d${Math.floor(n / 100)}/f${n}.txt`;
      writeFileSync(path.join(dir, rel), `edited ${r}`);
      const before = index.hashedCount;
      const t = performance.now();
      if (!(await index.refresh([rel]))) await index.scan();
      await predict(dir, index, false);
      incs.push(performance.now() - t);
      if (index.hashedCount - before !== 1) throw new Error(`incremental rehashed ${index.hashedCount - before} files`);
    }
    const inc = median(incs);
    console.log(`incremental after one edit: ${inc.toFixed(1)} ms (1 file rehashed); ${(inc / tar).toFixed(3)}× of tar (goal ≤ 50 ms)`);
    const full = median([await predict(dir, index, true), await predict(dir, index, true), await predict(dir, index, true)]);
    console.log(`rescan without watcher hints (stat all, rehash none): ${full.toFixed(0)} ms, ${(full / tar).toFixed(2)}× of tar`);
    global.gc?.();
    console.log(`RSS after the 10k-file context: ${rssMb().toFixed(0)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (process.env.STRATA_BENCH_QUICK === '1') return;
  const big = makeContext(100_000, 64);
  try {
    const t = performance.now();
    await predict(big, new ContextIndex(nodeContextFs(big)), true);
    global.gc?.();
    console.log(`100,000 files: cold prediction ${(performance.now() - t).toFixed(0)} ms, RSS ${rssMb().toFixed(0)} MB`);
  } finally {
    rmSync(big, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
