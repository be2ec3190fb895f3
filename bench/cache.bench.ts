// Cache-prediction benchmark: a 30-step Dockerfile over a 10,000-file context.
//  - cold: full prediction (walk + hash every selected file + keys) vs `tar -cf - . | cat > /dev/null` of the same
//    context, measured in the same run (goal ≤ 1.0×). `| cat` matters: GNU tar does not read file contents when its
//    output is /dev/null itself. Both wall time and CPU time (ours: all threads; tar's: tar + cat) are reported, since
//    the machine is shared and wall times swing with its load;
//  - incremental: after editing one file, refresh that path and recompute (goal ≤ 50 ms; only that file rehashed);
//  - memory: RSS and peak RSS after a cold prediction of a 10k- and a 100k-file context, each in a child process of its
//    own, next to the RSS of a child that loads the same code and predicts nothing; then the 100k/10k ratios (goal:
//    flat, ≤ 1.3×). The children run with the language server's memory flags (serverMemoryOptions.ts), as the
//    extension starts it; STRATA_BENCH_PLAIN_CHILD=1 runs them as plain node.
// STRATA_BENCH_QUICK=1 skips the 100k context; STRATA_BENCH_MEMORY_ONLY=1 runs only the memory part.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { computeBuildInputs } from '../server/src/cache/computeBuildInputs';
import { nodeContextFs } from '../server/src/cache/contextFs';
import { contextHashPool } from '../server/src/cache/contextHashPool';
import { ContextIndex } from '../server/src/cache/contextIndex';
import { SERVER_MEMORY_OPTIONS } from '../server/src/cache/serverMemoryOptions';

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

/** Wall and CPU time (tar + cat, from bash's `times`) of tar'ing the context through a pipe. */
function tarTime(dir: string): { wall: number; cpu: number } {
  const t = performance.now();
  const r = spawnSync('bash', ['-c', 'tar -C "$1" -cf - . | cat > /dev/null; times', '_', dir], { encoding: 'utf8' });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  // `times` prints the shell's then the children's user/system times, e.g. "0m0.120s 0m0.310s".
  const lines = r.stdout.trim().split('\n');
  const secs = (lines[lines.length - 1] ?? '').split(/\s+/).map((x) => { const m = /^(\d+)m([\d.]+)s$/.exec(x); return m ? Number(m[1]) * 60 + Number(m[2]) : 0; });
  return { wall, cpu: secs.reduce((a, b) => a + b, 0) * 1000 };
}

async function predict(dir: string, index: ContextIndex, scan: boolean): Promise<number> {
  const t = performance.now();
  if (scan) await index.scan();
  const text = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
  const inputs = await computeBuildInputs({ dockerfile: path.join(dir, 'Dockerfile'), context: dir, dockerfileText: text, target: null, buildArgs: {}, index, resolveImage: async () => null });
  if (inputs.steps.length !== 30) throw new Error(`expected 30 steps, got ${inputs.steps.length}`);
  if (inputs.steps.some((s) => s.problem)) throw new Error(`unexpected problem: ${inputs.steps.find((s) => s.problem)!.problem}`);
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/**
 * Child mode: `--rss <dir|->`: predict cold once (or nothing for '-'), keep the index alive as the server does, then
 * print as JSON (MB): the live JS heap + array buffers after a GC right after the prediction (directory path cache
 * still held), then RSS, peak RSS and live heap once the index is idle (its cache dropped after 2 s), and the
 * bytes the index's columns report.
 */
async function rssChild(dir: string): Promise<void> {
  const index = dir === '-' ? null : new ContextIndex(nodeContextFs(dir));
  if (index) await predict(dir, index, true);
  contextHashPool().stop(); // the workers' memory is freed when they go idle; measure the steady state
  await new Promise((r) => setTimeout(r, 200));
  global.gc?.();
  const busy = process.memoryUsage();
  await new Promise((r) => setTimeout(r, 2300)); // the index drops its directory path cache 2 s after the last request
  global.gc?.();
  const m = process.memoryUsage();
  console.log(JSON.stringify({
    rss: m.rss / 1e6, peak: process.resourceUsage().maxRSS / 1e3, live: (m.heapUsed + m.arrayBuffers) / 1e6,
    busy: (busy.heapUsed + busy.arrayBuffers) / 1e6, entries: index?.size ?? 0, indexBytes: index?.bytes ?? 0,
  }));
}

interface Mem { rss: number; peak: number; live: number; busy: number; entries: number; indexBytes: number }

/** The RSS child runs the way the language server runs (the client's flags and environment), unless told not to. */
const asServer = process.env.STRATA_BENCH_PLAIN_CHILD !== '1';

function rssOf(dir: string): Mem {
  const flags = asServer ? SERVER_MEMORY_OPTIONS.execArgv : [];
  const env = asServer ? { ...process.env, ...SERVER_MEMORY_OPTIONS.env } : process.env;
  const r = spawnSync(process.execPath, [...flags, '--expose-gc', process.argv[1]!, '--rss', dir], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`RSS child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--rss');
  if (i > 0) return rssChild(process.argv[i + 1]!);
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${os.availableParallelism()} cores, ${contextHashPool().size} hash workers`);
  if (process.env.STRATA_BENCH_MEMORY_ONLY !== '1') await timings();
  await memory();
  console.log(`load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

async function timings(): Promise<void> {
  const dir = makeContext(10_000, 2048);
  try {
    tarTime(dir); // warm the page cache for both sides
    const tars: { wall: number; cpu: number }[] = [];
    const colds: number[] = [];
    const coldCpus: number[] = [];
    let index = new ContextIndex(nodeContextFs(dir));
    await predict(dir, index, true); // warm up code paths (and start the workers: a server keeps them while in use)
    for (let r = 0; r < 5; r++) {
      tars.push(tarTime(dir));
      index = new ContextIndex(nodeContextFs(dir));
      const c = cpuMs();
      colds.push(await predict(dir, index, true));
      coldCpus.push(cpuMs() - c);
    }
    const tar = median(tars.map((t) => t.wall));
    const tarCpu = median(tars.map((t) => t.cpu));
    const cold = median(colds);
    const coldCpu = median(coldCpus);
    const ratios = colds.map((c, k) => c / tars[k]!.wall);
    console.log(`cold prediction, 30 steps, 10,000 files (20 MB): ${cold.toFixed(0)} ms; tar -c | cat > /dev/null: ${tar.toFixed(0)} ms; ratio ${(cold / tar).toFixed(2)}× (goal ≤ 1.0×; per-run ratios ${ratios.map((x) => x.toFixed(2)).join(' ')})`);
    console.log(`  CPU time: ours ${coldCpu.toFixed(0)} ms (all threads), tar + cat ${tarCpu.toFixed(0)} ms: ${(coldCpu / tarCpu).toFixed(2)}×`);

    const incs: number[] = [];
    for (let r = 0; r < 5; r++) {
      // Worst case: the index was idle long enough to drop its directory path cache (rebuilt by this request).
      index.releaseScratch();
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
    console.log(`incremental after one edit: ${inc.toFixed(1)} ms (1 file rehashed, path order rebuilt); ${(inc / tar).toFixed(3)}× of tar (goal ≤ 50 ms)`);
    const before = index.hashedCount;
    const full = median([await predict(dir, index, true), await predict(dir, index, true), await predict(dir, index, true)]);
    if (index.hashedCount !== before) throw new Error(`rescan rehashed ${index.hashedCount - before} files`);
    console.log(`rescan without watcher hints (lstat all in the workers, rehash none): ${full.toFixed(0)} ms, ${(full / tar).toFixed(2)}× of tar`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  contextHashPool().stop();
}

async function memory(): Promise<void> {
  const show = (m: Mem) => `RSS ${m.rss.toFixed(0)} MB (peak ${m.peak.toFixed(0)}), live heap ${m.live.toFixed(1)} MB idle, ${m.busy.toFixed(1)} MB right after`;
  const how = asServer
    ? `run as the language server is: ${[...SERVER_MEMORY_OPTIONS.execArgv, ...Object.entries(SERVER_MEMORY_OPTIONS.env).map(([k, v]) => `${k}=${v}`)].join(' ')}; STRATA_BENCH_PLAIN_CHILD=1 for plain node`
    : 'plain node, without the language server\'s memory flags';
  console.log(`memory after a cold prediction, index kept, workers stopped (a child process each, ${how}):`);
  const none = rssOf('-');
  console.log(`  no context: ${show(none)}`);
  const sizes = process.env.STRATA_BENCH_QUICK === '1' ? [10_000] : [10_000, 100_000];
  const seen: Mem[] = [];
  for (const n of sizes) {
    const ctx = makeContext(n, 64);
    try {
      const t = performance.now();
      const m = rssOf(ctx);
      seen.push(m);
      console.log(`  ${n.toLocaleString('en')} files: ${show(m)}; child ran ${(performance.now() - t).toFixed(0)} ms`);
      const per = (mb: number) => ((mb - none.live) * 1e6 / m.entries).toFixed(0);
      console.log(`    per entry (${m.entries} entries): live heap ${per(m.live)} B idle, ${per(m.busy)} B right after; index columns ${(m.indexBytes / m.entries).toFixed(0)} B`);
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
  }
  const [small, big] = seen;
  if (small && big) {
    console.log(`  100,000 / 10,000 files: RSS ${(big.rss / small.rss).toFixed(2)}×, peak ${(big.peak / small.peak).toFixed(2)}× (goal: flat, ≤ 1.3×); above no context: ${(big.rss - none.rss).toFixed(0)} MB vs ${(small.rss - none.rss).toFixed(0)} MB`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
