/**
 * Image reader benchmark: open time of a large image (all layer trees) against the standard tools in the same run.
 *
 *   docker-archive (uncompressed layers): trees ready  vs  `tar -tf` of every layer tar;
 *                      fully verified (every byte hashed)  vs  `sha256sum` of every layer tar, serially
 *   OCI gzip                              vs  serial `gzip -dc | tar -t` of every layer
 *   OCI zstd                              vs  `zstd -dc | tar -t` of every layer, for each decoder: Node's built-in
 *                                         zlib zstd (when the runtime has it, else under a Node ≥ 22.15 binary when
 *                                         one is found, labelled) driven on worker threads, and as a main-thread
 *                                         stream (the previous path); the `zstd -dc` process; fzstd (pure JS)
 *   layer list (metadata only), peak RSS (each measurement in a fresh child process), bytes per entry (heap delta)
 * The machine's load average is printed with the figures: on a shared machine only same-run ratios mean anything.
 *
 * The image: a Debian bookworm `debootstrap --variant=minbase` rootfs imported into the real engine plus an
 * `apt-get install` layer, saved with `docker save` and converted with skopeo — when an engine (DOCKER_HOST) and
 * debootstrap are available. Otherwise a synthetic image made with real tar/gzip/zstd (the output says which).
 * Everything is cached under /var/tmp/strata-bench (STRATA_BENCH_DIR) so reruns are fast.
 * STRATA_BENCH_RUNS=N (default 2) runs of each; STRATA_BENCH_FZSTD=0 skips the slow fzstd rows;
 * STRATA_BENCH_ONLY=docker measures the docker-archive rows only, STRATA_BENCH_ONLY=zstd the OCI zstd rows only;
 * STRATA_BENCH_ZSTD_STREAM=0 skips the rows of the older zstd stream paths, STRATA_BENCH_BUILTIN=0 the Node ≥ 22.15 rows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openImage } from '../server/src/image/imageReader';
import { zstdDecoder } from '../server/src/image/layerReader';
import { zstdWorkerLayers } from '../server/src/image/imageWorkerPool';
import { nodeWithZlibZstd } from '../test/server/image/imageFixtures';

const DIR = process.env.STRATA_BENCH_DIR ?? '/var/tmp/strata-bench';
const DOCKER = process.env.STRATA_DOCKER ?? '/usr/bin/docker';
const RUNS = Number(process.env.STRATA_BENCH_RUNS ?? 2);

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts, env: { ...process.env, ...opts.env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-500)}`);
  return r.stdout;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

interface Archives {
  kind: string;
  docker: string;
  ociGzip: string;
  ociZstd: string;
}

// ---------------------------------------------------------------------------------------------------- the image

function engineImage(): Archives | null {
  const docker = path.join(DIR, 'bookworm-docker.tar');
  const ociGzip = path.join(DIR, 'bookworm-oci-gzip.tar');
  const ociZstd = path.join(DIR, 'bookworm-oci-zstd.tar');
  const kind = 'engine: debootstrap --variant=minbase bookworm, imported, + apt-get install layer; docker save + skopeo';
  if ([docker, ociGzip, ociZstd].every(existsSync)) return { kind, docker, ociGzip, ociZstd };
  if (!process.env.DOCKER_HOST || !have('debootstrap') || !have('skopeo')) return null;
  const rootfs = path.join(DIR, 'rootfs');
  if (!existsSync(path.join(rootfs, 'usr/bin/apt-get'))) {
    console.log('bench: debootstrap --variant=minbase bookworm (once, cached)…');
    sh('debootstrap', ['--variant=minbase', 'bookworm', rootfs, 'http://deb.debian.org/debian']);
  }
  console.log('bench: importing the rootfs and installing packages with the engine (once, cached)…');
  spawnSync('sh', ['-c', `tar -C '${rootfs}' -c . | '${DOCKER}' import - strata-bench/bookworm:1`], { stdio: 'inherit' });
  const ctx = path.join(DIR, 'ctx');
  mkdirSync(ctx, { recursive: true });
  writeFileSync(path.join(ctx, 'Dockerfile'), [
    'FROM strata-bench/bookworm:1',
    'RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*',
    'RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/cache/apt',
    '',
  ].join('\n'));
  sh(DOCKER, ['build', '-q', '-t', 'strata-bench/bookworm-dev:1', ctx]);
  sh(DOCKER, ['save', '-o', docker, 'strata-bench/bookworm-dev:1']);
  sh('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'gzip', `docker-archive:${docker}`, `oci-archive:${ociGzip}:dev`]);
  sh('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'zstd', `docker-archive:${docker}`, `oci-archive:${ociZstd}:dev`]);
  return { kind, docker, ociGzip, ociZstd };
}

/** Fallback: ~57k entries over 4 layers from generated files, packed by real tar, gzip and zstd. */
function syntheticImage(): Archives {
  const base = path.join(DIR, 'synthetic');
  const docker = path.join(base, 'docker.tar');
  const ociGzip = path.join(base, 'oci-gzip.tar');
  const ociZstd = path.join(base, 'oci-zstd.tar');
  const kind = 'synthetic: 4 layers, ~57k entries, ~600 MB, packed with GNU tar/gzip/zstd';
  if ([docker, ociGzip, ociZstd].every(existsSync)) return { kind, docker, ociGzip, ociZstd };
  console.log('bench: generating a synthetic image (once, cached)…');
  rmSync(base, { recursive: true, force: true });
  const layers: string[] = [];
  const sizes = [[20000, 12000], [20000, 9000], [15000, 8000], [2000, 20000]];
  for (const [li, [files, avg]] of sizes.entries()) {
    const root = path.join(base, `l${li}`);
    // files of pseudo-random text (compresses like real binaries + text would, roughly 3:1)
    sh('python3', ['-c', `
import os, random
random.seed(${li})
root = ${JSON.stringify(root)}
words = [bytes(random.choice(b'abcdefghijklmnopqrstuvwxyz') for _ in range(random.randint(2, 9))) for _ in range(4000)]
for i in range(${files}):
    d = os.path.join(root, 'usr', 'share', 'pkg%d' % (i % 700), 'sub%d' % (i % 7))
    os.makedirs(d, exist_ok=True)
    n = random.randint(1, ${avg} * 2)
    chunks = []
    size = 0
    while size < n:
        w = random.choice(words) + (os.urandom(8) if random.random() < 0.3 else b' ')
        chunks.append(w); size += len(w)
    open(os.path.join(d, 'f%d' % i), 'wb').write(b''.join(chunks)[:n])
`]);
    if (li === 3) sh('sh', ['-c', `mkdir -p '${root}/usr/share/pkg1' && touch '${root}/usr/share/pkg1/.wh..wh..opq' '${root}/usr/share/.wh.pkg2'`]);
    const tar = path.join(base, `layer${li}.tar`);
    sh('tar', ['-C', root, '--sort=name', '--owner=0', '--group=0', '-cf', tar, '.']);
    rmSync(root, { recursive: true, force: true });
    layers.push(tar);
  }
  // assemble docker-archive (legacy) and OCI archives around the layer tars with tar itself
  const sha = (f: string) => sh('sha256sum', [f]).split(' ')[0]!;
  const diffIds = layers.map(sha);
  const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds.map((d) => `sha256:${d}`) }, history: layers.map((_, i) => ({ created_by: `synthetic layer ${i}` })) });
  const stage = path.join(base, 'stage-docker');
  mkdirSync(stage, { recursive: true });
  const cfgHex = sh('sha256sum', ['-'], { input: cfg }).split(' ')[0]!;
  writeFileSync(path.join(stage, `${cfgHex}.json`), cfg);
  const layerPaths = diffIds.map((d, i) => {
    mkdirSync(path.join(stage, d), { recursive: true });
    sh('mv', [layers[i]!, path.join(stage, d, 'layer.tar')]);
    return `${d}/layer.tar`;
  });
  writeFileSync(path.join(stage, 'manifest.json'), JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: ['synthetic:1'], Layers: layerPaths }]));
  sh('tar', ['-C', stage, '-cf', docker, '.']);
  for (const [c, out, mt] of [['gzip', ociGzip, 'tar+gzip'], ['zstd', ociZstd, 'tar+zstd']] as const) {
    const oci = path.join(base, `stage-${c}`);
    const blobs = path.join(oci, 'blobs/sha256');
    mkdirSync(blobs, { recursive: true });
    const descs = layerPaths.map((p) => {
      const tmp = path.join(oci, 'tmp');
      sh('sh', ['-c', `${c === 'gzip' ? 'gzip -6 -c' : 'zstd -3 -q -c'} '${path.join(stage, p)}' > '${tmp}'`]);
      const d = sha(tmp);
      sh('mv', [tmp, path.join(blobs, d)]);
      return { mediaType: `application/vnd.oci.image.layer.v1.${mt}`, digest: `sha256:${d}`, size: statSync(path.join(blobs, d)).size };
    });
    writeFileSync(path.join(blobs, cfgHex), cfg);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${cfgHex}`, size: cfg.length }, layers: descs });
    const mHex = sh('sha256sum', ['-'], { input: manifest }).split(' ')[0]!;
    writeFileSync(path.join(blobs, mHex), manifest);
    writeFileSync(path.join(oci, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${mHex}`, size: manifest.length }] }));
    writeFileSync(path.join(oci, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    sh('tar', ['-C', oci, '-cf', out, 'oci-layout', 'index.json', 'blobs']);
    rmSync(oci, { recursive: true, force: true });
  }
  rmSync(stage, { recursive: true, force: true });
  return { kind, docker, ociGzip, ociZstd };
}

// ---------------------------------------------------------------------------------------------------- baselines

/** Extracts an archive's layer blobs once (for the baselines only; the reader never extracts anything). */
function layerBlobs(archive: string): string[] {
  const out = `${archive}.blobs`;
  if (!existsSync(path.join(out, '.done'))) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    sh('tar', ['-C', out, '-xf', archive]);
    writeFileSync(path.join(out, '.done'), '');
  }
  if (existsSync(path.join(out, 'index.json')) && !existsSync(path.join(out, 'manifest.json'))) {
    const index = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8'));
    const m = JSON.parse(readFileSync(path.join(out, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
    return m.layers.map((l: { digest: string }) => path.join(out, 'blobs/sha256', l.digest.slice(7)));
  }
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  return manifest[0].Layers.map((l: string) => path.join(out, l));
}

/**
 * A baseline command, sampled right before each of our runs it is compared with (interleaved, so both see the
 * same machine load); its figure is the best sample of the whole bench run.
 */
/**
 * Runs a command under GNU time: wall-clock and CPU (user + system of the process, its threads and the children it
 * waited for — zstd processes, worker threads). On a shared machine at high load CPU time is the steadier figure.
 */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { stdout: string; cpuMs: number } {
  const r = spawnSync('/usr/bin/time', ['-f', 'STRATA-TIME %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-500)}`);
  const m = /STRATA-TIME ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return { stdout: r.stdout, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

/**
 * A baseline command, sampled right before each of our runs it is compared with (interleaved, so both see the
 * same machine load); its figures are the best samples of the whole bench run.
 */
class Baseline {
  best = Infinity;
  bestCpu = Infinity;
  constructor(readonly label: string, private readonly commands: Array<[string, string[]]>) {}
  sample(): void {
    const t = process.hrtime.bigint();
    let cpu = 0;
    for (const [cmd, args] of this.commands) cpu += timed(cmd, args).cpuMs;
    this.best = Math.min(this.best, Number(process.hrtime.bigint() - t) / 1e6);
    this.bestCpu = Math.min(this.bestCpu, cpu);
  }
}

function pipeList(label: string, decompress: string, blobs: string[]): Baseline {
  return new Baseline(label, blobs.map((b) => ['sh', ['-c', `${decompress} '${b}' | tar -t > /dev/null`]]));
}

// ---------------------------------------------------------------------------------------------------- ours

interface ChildResult {
  /** Open until `done`: trees read and (with verification) every digest checked. */
  ms: number;
  /** Open until `treesReady`. */
  treesMs: number;
  decoder: string;
  /** CPU of the whole child process (node start, metadata-only open, full open; threads and zstd children). */
  cpuMs: number;
  metaMs: number;
  maxRssMB: number;
  entries: number;
  /** zstd layers decoded on worker threads (imageWorkerPool's count), to check which path a row measured. */
  zstdWorkerLayers: number;
  heapBytesPerEntry: number;
  indexBytesPerEntry: number;
}

/** One measurement in a fresh process, so peak RSS belongs to this open alone. */
function measure(archive: string, bases: Baseline[], env: NodeJS.ProcessEnv = {}, node = process.execPath): ChildResult {
  const runs: ChildResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (const b of bases) b.sample();
    // the reader hashes uncompressed layers in dist/imageWorker.js (built by scripts/build.mjs)
    const worker = path.join(process.env.STRATA_ROOT ?? process.cwd(), 'dist/imageWorker.js');
    const out = timed(node, ['--expose-gc', __filename, '--child', archive], { STRATA_IMAGE_WORKER: worker, ...env });
    runs.push({ ...(JSON.parse(out.stdout.trim().split('\n').pop()!) as ChildResult), cpuMs: out.cpuMs });
  }
  // best of N per figure (trees and full verification are separate figures); the highest peak RSS
  return {
    ...runs[0]!,
    ms: Math.min(...runs.map((r) => r.ms)),
    treesMs: Math.min(...runs.map((r) => r.treesMs)),
    metaMs: Math.min(...runs.map((r) => r.metaMs)),
    cpuMs: Math.min(...runs.map((r) => r.cpuMs)),
    maxRssMB: Math.max(...runs.map((r) => r.maxRssMB)),
  };
}

async function child(archive: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  gc();
  const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  let t = process.hrtime.bigint();
  const meta = await openImage(archive, { metadataOnly: true, verify: process.env.STRATA_BENCH_VERIFY !== '0' });
  const metaMs = Number(process.hrtime.bigint() - t) / 1e6;
  await meta.close();
  t = process.hrtime.bigint();
  const img = await openImage(archive, { verify: process.env.STRATA_BENCH_VERIFY !== '0' });
  await img.treesReady;
  const treesMs = Number(process.hrtime.bigint() - t) / 1e6;
  await img.done;
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (img.info.verification === 'mismatch' || img.info.verification === 'error') throw new Error(`verification: ${img.info.verification}`);
  const failed = img.info.images.flatMap((i) => i.layers.filter((l) => l.status !== 'read'));
  if (failed.length) throw new Error(`layers failed: ${failed.map((l) => l.error).join('; ')}`);
  const entries = img.info.images.reduce((s, i) => s + i.layers.reduce((a, l) => a + (l.entryCount ?? 0), 0), 0);
  gc();
  const heap1 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  // the index's own size (typed arrays + interned strings + maps), from the tree behind the public API
  const trees = ((img as unknown as { images?: { tree: { memoryEstimate(): number } }[] }).images ?? []).map((i) => i.tree);
  const indexBytesPerEntry = Math.round(trees.reduce((s, t) => s + t.memoryEstimate(), 0) / entries);
  process.stdout.write(`${JSON.stringify({ ms, treesMs, decoder: zstdDecoder(), zstdWorkerLayers: zstdWorkerLayers.builtin + zstdWorkerLayers.process, metaMs, maxRssMB, entries, heapBytesPerEntry: Math.round((heap1 - heap0) / entries), indexBytesPerEntry })}\n`);
  await img.close();
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!);
  mkdirSync(DIR, { recursive: true });
  const a = engineImage() ?? syntheticImage();
  console.log(`image: ${a.kind}`);
  console.log(`  docker-archive ${(statSync(a.docker).size / 1e6).toFixed(0)} MB, OCI gzip ${(statSync(a.ociGzip).size / 1e6).toFixed(0)} MB, OCI zstd ${(statSync(a.ociZstd).size / 1e6).toFixed(0)} MB; best of ${RUNS} runs; ${os.availableParallelism()} cores; node ${process.version}`);
  console.log(`  load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  // rendered at the end, so every ratio uses its baseline's best sample of the whole run
  const rows: Array<() => string> = [];
  const line = (label: string, ms: number, base: Baseline, target: number | null) => rows.push(() => {
    const ratio = ms / base.best;
    const goal = target === null ? '(no target)' : `(target ≤ ${target}) ${ratio <= target ? 'ok' : 'MISSED'}`;
    return `${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  vs ${base.label.padEnd(28)} ${base.best.toFixed(0).padStart(6)} ms  ratio ${ratio.toFixed(2)} ${goal}`;
  });
  const cpu = (label: string, ours: ChildResult, base: Baseline) => rows.push(() =>
    `${''.padEnd(44)} CPU ${label} ${ours.cpuMs.toFixed(0)} ms vs ${base.label} ${base.bestCpu.toFixed(0)} ms: ratio ${(ours.cpuMs / base.bestCpu).toFixed(2)}`);
  const detail = (ours: ChildResult) => {
    rows.push(() => `${''.padEnd(44)} layer list ${ours.metaMs.toFixed(0)} ms (target ≤ 300), peak RSS ${ours.maxRssMB.toFixed(0)} MB (target ≤ 300), ${ours.entries} entries, index ${ours.indexBytesPerEntry} B/entry (target ≤ 200), heap growth ${ours.heapBytesPerEntry} B/entry`);
  };
  const only = process.env.STRATA_BENCH_ONLY;
  if (only !== 'zstd') {
  const dockerBlobs = layerBlobs(a.docker);
  const tarBase = new Baseline('tar -tf each layer', dockerBlobs.map((b) => ['tar', ['-tf', b]]));
  // Hashing is bound by bytes: `tar -t` seeks over contents, so no verifying reader can match it. The fair
  // baseline for "fully verified" is hashing the same layer tars with coreutils, one after the other.
  const shaBase = new Baseline('sha256sum each layer, serial', dockerBlobs.map((b) => ['sha256sum', [b]]));
  const dv = measure(a.docker, [tarBase, shaBase]);
  const dn = measure(a.docker, [tarBase], { STRATA_BENCH_VERIFY: '0' });
  line('docker-archive verified: trees ready', dv.treesMs, tarBase, 1.0);
  line('docker-archive verified: fully verified', dv.ms, shaBase, null);
  line('', dv.ms, tarBase, null);
  cpu('(whole process, verified)', dv, shaBase);
  detail(dv);
  line('docker-archive --no-verify: trees', dn.ms, tarBase, 1.0);
  cpu('(whole process)', dn, tarBase);
  detail(dn);
  if (only === 'docker') {
    // the docker-archive rows alone (a few seconds): for comparing changes to the seeking tree read
    for (const r of rows) console.log(r());
    console.log(`  load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    return;
  }
  const gzBase = pipeList('gzip -dc | tar -t serial', 'gzip -dc', layerBlobs(a.ociGzip));
  const g = measure(a.ociGzip, [gzBase]);
  line(`OCI gzip verified (stream workers ${os.availableParallelism() > 2 ? 'on' : 'off'})`, g.ms, gzBase, 0.75);
  cpu('(whole process, verified)', g, gzBase);
  detail(g);
  } // STRATA_BENCH_ONLY=zstd: the OCI zstd rows alone
  const zstdBase = pipeList('zstd -dc | tar -t serial', 'zstd -dc -q', layerBlobs(a.ociZstd));
  const decoders: Array<[string, NodeJS.ProcessEnv, string]> = [];
  const builtinRows = process.env.STRATA_BENCH_BUILTIN !== '0';
  const builtinNode = !builtinRows ? null : zstdDecoder() === 'builtin' ? process.execPath : nodeWithZlibZstd();
  if (builtinNode) {
    const v = builtinNode === process.execPath ? `node ${process.version}` : `${sh(builtinNode, ['--version']).trim()} binary`;
    decoders.push([`built-in zlib zstd driven on worker threads, ${v}`, { STRATA_ZSTD: 'builtin' }, builtinNode]);
    // the previous built-in path, for before/after in the same run: zlib's zstd stream, parsed on the main thread
    if (process.env.STRATA_BENCH_ZSTD_STREAM !== '0') decoders.push([`built-in zlib zstd as a stream on the main thread, ${v}`, { STRATA_ZSTD: 'builtin', STRATA_ZSTD_PIPE: '0' }, builtinNode]);
  }
  decoders.push(['zstd -dc process, read by worker threads', { STRATA_ZSTD: 'zstd' }, process.execPath]);
  // the previous default, for before/after in the same run: the process's stdout as a stream on the main thread
  if (process.env.STRATA_BENCH_ZSTD_STREAM !== '0') decoders.push(['zstd -dc process, stream on the main thread', { STRATA_ZSTD: 'zstd', STRATA_ZSTD_PIPE: '0' }, process.execPath]);
  if (process.env.STRATA_BENCH_FZSTD !== '0') decoders.push(['fzstd, pure JS', { STRATA_ZSTD: 'fzstd' }, process.execPath]);
  for (const [label, env, node] of decoders) {
    const n = measure(a.ociZstd, [zstdBase], { ...env, STRATA_BENCH_VERIFY: '0' }, node);
    const v = measure(a.ociZstd, [zstdBase], env, node);
    if (v.decoder !== env.STRATA_ZSTD) throw new Error(`${label}: the reader used ${v.decoder}`);
    const onWorkers = env.STRATA_ZSTD_PIPE !== '0' && env.STRATA_ZSTD !== 'fzstd';
    if (onWorkers !== (v.zstdWorkerLayers > 0)) throw new Error(`${label}: ${v.zstdWorkerLayers} layers decoded on worker threads`);
    rows.push(() => `OCI zstd (${label}):`);
    line('  --no-verify, trees', n.ms, zstdBase, 1.0);
    line('  verified: trees ready', v.treesMs, zstdBase, null);
    line('  verified: fully verified', v.ms, zstdBase, null);
    cpu('(whole process, --no-verify)', n, zstdBase);
    cpu('(whole process, verified)', v, zstdBase);
    detail(v);
  }
  for (const r of rows) console.log(r());
  console.log(`  load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().catch((e) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exit(1);
});
