// Context hashing in worker threads on a real temp directory: the workers give exactly what the in-process hasher
// and an independent sha256 give, cancel mid-file, survive files that vanish or change type between the walk and the
// read, and stream a 1 GB file with flat memory.
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { computeBuildInputs } from '../../../server/src/cache/computeBuildInputs';
import { nodeContextFs } from '../../../server/src/cache/contextFs';
import { contextHashPool, hashFileList, hashFilesInProcess, listRequest } from '../../../server/src/cache/contextHashPool';
import { ContextIndex } from '../../../server/src/cache/contextIndex';
import { DIGEST_BYTES, HashStatus, STAT_SLOTS } from '../../../server/src/cache/fileHasher';

const GiB = 1024 ** 3;
/** sha256 of 1 GiB of zero bytes (`truncate -s 1G f && sha256sum f`). */
const ZEROS_1G = '49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14';

let dir: string;
const files: Record<string, Buffer> = {};

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'strata-hashpool-'));
  const put = (rel: string, content: Buffer, mode = 0o644) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
    chmodSync(path.join(dir, rel), mode);
    files[rel] = content;
  };
  put('empty', Buffer.alloc(0));
  put('small.txt', Buffer.from('hello\n'));
  put('exec.sh', Buffer.from('#!/bin/sh\n'), 0o755);
  // Exactly one read buffer, one byte over (two reads), and several buffers: the streaming edges.
  put('mb/exact.bin', Buffer.alloc(1 << 20, 7));
  put('mb/over.bin', Buffer.alloc((1 << 20) + 1, 9));
  put('mb/three.bin', Buffer.from(Array.from({ length: 3 * (1 << 20) + 12345 }, (_, i) => i % 251)));
  // Paths go to the workers as UTF-8 bytes: multi-byte and 4-byte characters and a space must come back intact.
  put('mb/ünï 日本 😀.txt', Buffer.from('unicode\n'));
  for (let i = 0; i < 300; i++) put(`many/d${i % 7}/f${i}.txt`, Buffer.from(`file ${i}\n`.repeat(i % 13)));
  symlinkSync('small.txt', path.join(dir, 'link'));
});

after(() => {
  contextHashPool().stop();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The in-process hasher over a list of paths, results gathered. */
const inProcess = (base: string, rels: string[], maxFileBytes: number) => {
  const { req, out } = listRequest(rels, { maxFileBytes });
  hashFilesInProcess(base, req);
  return out;
};

describe('context hashing in worker threads', () => {
  it('gives the same stats and digests as the in-process hasher and as sha256 of the content', async () => {
    const rels = Object.keys(files).sort();
    const batchesBefore = contextHashPool().batches;
    const progress: number[] = [];
    const w = await hashFileList(dir, rels, { maxFileBytes: GiB, onProgress: (d) => progress.push(d) });
    assert.ok(contextHashPool().batches > batchesBefore, 'the workers answered');
    // Progress: files done, per batch, increasing to the total.
    assert.ok(progress.length > 1, `progress ${progress}`);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
    assert.equal(progress[progress.length - 1], rels.length);
    const p = inProcess(dir, rels, GiB);
    assert.deepEqual([...w.status], rels.map(() => HashStatus.ok));
    assert.deepEqual(w.status, p.status);
    assert.deepEqual(w.stats, p.stats);
    assert.deepEqual(w.digests, p.digests);
    rels.forEach((rel, k) => {
      assert.equal(Buffer.from(w.digests.subarray(k * DIGEST_BYTES, (k + 1) * DIGEST_BYTES)).toString('hex'), sha(files[rel]!), rel);
      assert.equal(w.stats[k * STAT_SLOTS + 2], files[rel]!.length, `${rel} size`);
    });
    assert.equal(w.stats[rels.indexOf('exec.sh') * STAT_SLOTS + 1], 0o755);
  });

  it('hashes a small job of known size in-process (no worker round trip), with errors at their slots', async () => {
    const rels = ['small.txt', 'nope.txt', 'exec.sh'];
    const batchesBefore = contextHashPool().batches;
    const r = await hashFileList(dir, rels, { maxFileBytes: GiB, knownBytes: 100 });
    assert.equal(contextHashPool().batches, batchesBefore, 'no worker batch');
    assert.deepEqual([...r.status], [HashStatus.ok, HashStatus.error, HashStatus.ok]);
    assert.deepEqual([...r.errors], [[1, 'ENOENT']]);
    assert.equal(Buffer.from(r.digests.subarray(2 * DIGEST_BYTES, 3 * DIGEST_BYTES)).toString('hex'), sha(files['exec.sh']!));
    // The same request through the workers gives the same answer.
    const w = await hashFileList(dir, rels, { maxFileBytes: GiB });
    assert.ok(contextHashPool().batches > batchesBefore, 'the workers answered');
    assert.deepEqual(w.status, r.status);
    assert.deepEqual([...w.errors], [...r.errors]);
    assert.deepEqual(w.digests, r.digests);
  });

  it('gives the same selection digests through the index as the in-process path, and only rehashes an edited file', async () => {
    const D = 'FROM scratch\nCOPY . /all\nCOPY many/ /m/\nCOPY mb/*.bin /b/\n';
    const snap = async (idx: ContextIndex) => {
      await idx.scan();
      return computeBuildInputs({ dockerfile: path.join(dir, 'Dockerfile'), context: dir, dockerfileText: D, target: null, buildArgs: {}, index: idx, manifest: true });
    };
    const seen: [number, number][] = [];
    const viaWorkers = new ContextIndex(nodeContextFs(dir), { onProgress: (done, total) => seen.push([done, total]) });
    const a = await snap(viaWorkers);
    assert.deepEqual(seen[seen.length - 1], [Object.keys(files).length, Object.keys(files).length]);
    assert.deepEqual(viaWorkers.progress, { done: Object.keys(files).length, total: Object.keys(files).length });
    assert.equal(viaWorkers.hashedCount, Object.keys(files).length);
    // The manifest's keys are the content digests of the files.
    assert.equal(a.files!['small.txt'], `file:644:${sha(files['small.txt']!)}`);
    assert.equal(a.files!['link'], 'symlink:777:small.txt');
    assert.equal(a.files!['mb/ünï 日本 😀.txt'], `file:644:${sha(files['mb/ünï 日本 😀.txt']!)}`);
    // In-process: the same hashing code on this thread, fed through a ContextFs that does not use the pool.
    const fs = nodeContextFs(dir);
    const inProc = new ContextIndex({ ...fs, hashFiles: async (req) => hashFilesInProcess(dir, req) });
    const b = await snap(inProc);
    assert.deepEqual(a.steps.map((s) => s.sources?.digest), b.steps.map((s) => s.sources?.digest));
    assert.deepEqual(a.files, b.files);
    // COPY . : every file, the link, mb/, many/ and its 7 subdirs; COPY many/ : the dir itself, 7 subdirs, 300 files.
    assert.deepEqual(a.steps.map((s) => s.sources?.count), [undefined, Object.keys(files).length + 1 + 2 + 7, 1 + 7 + 300, 3]);
    // An edit: the watcher names the file; only it is rehashed, and the steps selecting it change.
    writeFileSync(path.join(dir, 'many/d0/f0.txt'), 'edited');
    files['many/d0/f0.txt'] = Buffer.from('edited');
    const n = viaWorkers.hashedCount;
    assert.equal(await viaWorkers.refresh(['many/d0/f0.txt']), true);
    const c = await computeBuildInputs({ dockerfile: path.join(dir, 'Dockerfile'), context: dir, dockerfileText: D, target: null, buildArgs: {}, index: viaWorkers });
    assert.equal(viaWorkers.hashedCount, n + 1);
    assert.notEqual(c.steps[1]!.sources!.digest, a.steps[1]!.sources!.digest);
    assert.notEqual(c.steps[2]!.sources!.digest, a.steps[2]!.sources!.digest);
    assert.equal(c.steps[3]!.sources!.digest, a.steps[3]!.sources!.digest);
    // A rescan without watcher hints verifies by lstat (in the workers) and rehashes nothing.
    await viaWorkers.scan();
    await computeBuildInputs({ dockerfile: path.join(dir, 'Dockerfile'), context: dir, dockerfileText: D, target: null, buildArgs: {}, index: viaWorkers });
    assert.equal(viaWorkers.hashedCount, n + 1);
  });

  it('a file that vanishes, becomes a FIFO or a symlink between the walk and the read gives a reason, not a crash or a hang', async () => {
    const sub = mkdtempSync(path.join(os.tmpdir(), 'strata-hashpool-race-'));
    try {
      for (const f of ['gone.txt', 'fifo.txt', 'link.txt', 'ok.txt']) writeFileSync(path.join(sub, f), f);
      const idx = new ContextIndex(nodeContextFs(sub));
      await idx.scan();
      unlinkSync(path.join(sub, 'gone.txt'));
      unlinkSync(path.join(sub, 'fifo.txt'));
      assert.equal(spawnSync('mkfifo', [path.join(sub, 'fifo.txt')]).status, 0, 'mkfifo');
      unlinkSync(path.join(sub, 'link.txt'));
      symlinkSync('ok.txt', path.join(sub, 'link.txt'));
      const D = 'FROM scratch\nCOPY gone.txt /a\nCOPY fifo.txt /b\nCOPY link.txt /c\nCOPY ok.txt /d\n';
      const inputs = await computeBuildInputs({ dockerfile: '/D', context: sub, dockerfileText: D, target: null, buildArgs: {}, index: idx });
      assert.match(inputs.steps[1]!.problem ?? '', /gone\.txt vanished while it was being read/);
      assert.match(inputs.steps[2]!.problem ?? '', /fifo\.txt is a fifo; docker build cannot send it/);
      assert.equal(inputs.steps[3]!.problem, undefined);
      assert.equal(idx.entryKey('link.txt'), 'symlink:777:ok.txt');
      assert.equal(inputs.steps[4]!.problem, undefined);
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  });
});

describe('a 1 GB file', () => {
  let big: string;
  before(() => {
    big = mkdtempSync(path.join(os.tmpdir(), 'strata-hashpool-big-'));
    writeFileSync(path.join(big, 'small'), 's');
    const r = spawnSync('truncate', ['-s', '1G', path.join(big, 'huge.bin')]);
    assert.equal(r.status, 0, `truncate: ${r.stderr}`);
  });
  after(() => rmSync(big, { recursive: true, force: true }));

  it('is cancelled mid-file: the request returns at once with the file not done', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const done: number[] = [];
    const pending = hashFileList(big, ['huge.bin', 'small'], { maxFileBytes: 2 * GiB, signal: ac.signal, onProgress: (d) => done.push(d) });
    setTimeout(() => ac.abort(), 100);
    const r = await pending;
    const ms = Date.now() - t0;
    assert.equal(r.status[0], HashStatus.cancelled);
    assert.ok(ms < 3000, `returned after ${ms} ms`);
    // The index keeps nothing of a cancelled request and rejects with the abort.
    const idx = new ContextIndex(nodeContextFs(big), { maxFileBytes: 2 * GiB });
    await idx.scan();
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 100);
    await assert.rejects(idx.digestSelection(['huge.bin'], ac2.signal), /abort/i);
    assert.equal(idx.get('huge.bin')?.digest, undefined);
  });

  it('is streamed in a worker with flat memory and the right digest', { timeout: 120_000 }, async () => {
    const idx = new ContextIndex(nodeContextFs(big), { maxFileBytes: 2 * GiB });
    await idx.scan();
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    let lagMax = 0;
    let last = Date.now();
    const lag = setInterval(() => { const now = Date.now(); lagMax = Math.max(lagMax, now - last - 10); last = now; }, 10);
    try {
      const sel = await idx.digestSelection(['huge.bin']);
      assert.equal(sel.problem, undefined);
    } finally {
      clearInterval(sampler);
      clearInterval(lag);
    }
    assert.equal(idx.entryKey('huge.bin'), `file:644:${ZEROS_1G}`);
    assert.ok(peak - rss0 < 100e6, `RSS grew by ${((peak - rss0) / 1e6).toFixed(0)} MB`);
    // Off the main thread: the event loop kept turning while a gigabyte was hashed.
    assert.ok(lagMax < 1000, `event loop stalled ${lagMax} ms`);
  });

  it('over the size limit is not read and gives the reason', async () => {
    const idx = new ContextIndex(nodeContextFs(big));
    await idx.scan();
    const sel = await idx.digestSelection(['huge.bin']);
    assert.match(sel.problem ?? '', /huge\.bin is 1073741824 bytes, over the 268435456-byte hashing limit/);
  });
});
