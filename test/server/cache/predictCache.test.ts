import { describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import * as assert from 'node:assert/strict';
import type { BuildRecord } from '../../../server/src/build/buildRecord';
import type { BuildInputs } from '../../../server/src/cache/buildInputs';
import { computeBuildInputs, markContextProblem, type ImageResolver } from '../../../server/src/cache/computeBuildInputs';
import { HashResults } from '../../../server/src/cache/contextHashPool';
import { ContextIndex } from '../../../server/src/cache/contextIndex';
import { HashStatus } from '../../../server/src/cache/fileHasher';
import { predictCache, type Prediction } from '../../../server/src/cache/predictCache';
import type { RemoteResolver } from '../../../server/src/cache/remoteSources';
import { crlf } from '../../support/paths';
import { MemoryContext, type MemEntry } from './memoryContextFs';

interface Opts { args?: Record<string, string>; target?: string | null; resolve?: ImageResolver; maxFileBytes?: number; remote?: RemoteResolver }

async function snapshot(ctx: MemoryContext, dockerfile: string, o: Opts = {}, index?: ContextIndex, manifest = true): Promise<BuildInputs> {
  const idx = index ?? new ContextIndex(ctx.fs(), { maxFileBytes: o.maxFileBytes });
  await idx.scan();
  return computeBuildInputs({
    dockerfile: '/ctx/Dockerfile', context: '/ctx', dockerfileText: dockerfile, target: o.target ?? null,
    buildArgs: o.args ?? {}, index: idx, resolveImage: o.resolve ?? (async (ref) => `sha256:${ref.length}`), resolveRemote: o.remote, manifest,
  });
}

function record(inputs: BuildInputs): BuildRecord {
  return {
    version: 1, id: 'b1', builtAt: '2026-01-01T00:00:00Z', dockerfile: '/ctx/Dockerfile', context: '/ctx', target: inputs.target,
    buildArgs: inputs.buildArgs, tags: [], inputs, steps: [], image: { id: null, layers: [{ diffId: 'sha256:x', size: 12_300_000, line: 3, createdBy: '' }] },
    exitCode: 0, durationMs: 0,
  };
}

/** v1 snapshot as baseline, apply `change`, predict v2. */
async function scenario(files: Record<string, string | MemEntry>, v1: string, change: (c: MemoryContext) => void, v2 = v1, o1: Opts = {}, o2: Opts = o1): Promise<Prediction> {
  const ctx = new MemoryContext(files);
  const base = await snapshot(ctx, v1, o1);
  change(ctx);
  // The baseline carries its manifest (as build records do); the current side is asked of the live index, as the
  // language server does.
  const idx = new ContextIndex(ctx.fs(), { maxFileBytes: o2.maxFileBytes });
  const current = await snapshot(ctx, v2, o2, idx, false);
  assert.equal(current.files, undefined);
  return predictCache(current, record(base), undefined, (s) => idx.selectionKeys(s));
}

const first = (p: Prediction) => p.instructions.find((i) => i.cache === 'miss' || i.cache === 'unknown');
const at = (p: Prediction, line: number) => p.instructions.find((i) => i.line === line)!;

const D = 'FROM base\nWORKDIR /app\nCOPY src/ ./src/\nARG V=1\nENV E=1\nRUN make\nLABEL a=b\n';
const FILES = { 'src/main.txt': 'hello', 'src/lib/u.txt': 'u', 'other.txt': 'o' };

for (const eol of ['LF', 'CRLF'] as const) {
  const t = (s: string) => (eol === 'CRLF' ? crlf(s) : s);
  describe(`predictCache (${eol})`, () => {
    it('everything hits when nothing changed, with the baseline layer size', async () => {
      const p = await scenario(FILES, t(D), () => {});
      assert.deepEqual(p.instructions.map((i) => i.cache), ['hit', 'hit', 'hit', 'hit', 'hit', 'hit', 'hit']);
      assert.equal(at(p, 3).size, 12_300_000);
      assert.equal(at(p, 7).reason.code, 'config-only');
    });
    it('no baseline → unknown with no-baseline, never hit', async () => {
      const ctx = new MemoryContext(FILES);
      const p = predictCache(await snapshot(ctx, t(D)), null);
      assert.ok(p.instructions.every((i) => i.cache === 'unknown' && i.reason.code === 'no-baseline'));
    });
    it('file-changed names the path; later steps re-run with parent-miss', async () => {
      const p = await scenario(FILES, t(D), (c) => c.set('src/main.txt', 'v2'));
      assert.deepEqual([first(p)!.line, first(p)!.reason.code, first(p)!.reason.paths], [3, 'file-changed', ['src/main.txt']]);
      assert.deepEqual([at(p, 6).cache, at(p, 6).reason.message], ['miss', 're-runs: line 3 missed']);
    });
    it('file-added, file-removed, metadata-changed, empty dir', async () => {
      assert.equal(first(await scenario(FILES, t(D), (c) => c.set('src/n.txt', 'n')))!.reason.code, 'file-added');
      assert.equal(first(await scenario(FILES, t(D), (c) => c.delete('src/lib/u.txt')))!.reason.code, 'file-removed');
      assert.equal(first(await scenario(FILES, t(D), (c) => c.set('src/main.txt', { content: 'hello', mode: 0o755 })))!.reason.code, 'metadata-changed');
      assert.equal(first(await scenario(FILES, t(D), (c) => c.set('src/empty', { type: 'dir' })))!.reason.code, 'file-added');
    });
    it('mtime alone and unselected files change nothing', async () => {
      assert.equal(first(await scenario(FILES, t(D), (c) => c.set('src/main.txt', { content: 'hello', mtimeMs: 5 }))), undefined);
      assert.equal(first(await scenario(FILES, t(D), (c) => c.set('other.txt', 'o2'))), undefined);
    });
    it('.dockerignore exclusion → ignore-changed; edits of ignored files → nothing', async () => {
      assert.equal(first(await scenario(FILES, t(D), (c) => c.set('.dockerignore', 'src/lib\n')))!.reason.code, 'ignore-changed');
      const ig = { ...FILES, '.dockerignore': '**/*.md\n!src/keep.md\n', 'src/x.md': 'x', 'src/keep.md': 'k' };
      assert.equal(first(await scenario(ig, t(D), (c) => c.set('src/x.md', 'x2'))), undefined);
      assert.equal(first(await scenario(ig, t(D), (c) => c.set('src/keep.md', 'k2')))!.reason.code, 'file-changed');
    });
    it('ARG default change and --build-arg: arg-changed on the RUN, not on COPY', async () => {
      const p = await scenario(FILES, t(D), () => {}, t(D.replace('ARG V=1', 'ARG V=2')));
      assert.deepEqual([first(p)!.line, first(p)!.reason.code], [6, 'arg-changed']);
      assert.equal(first(await scenario(FILES, t(D), () => {}, t(D), {}, { args: { V: '1' } })), undefined);
      assert.equal(first(await scenario(FILES, t(D), () => {}, t(D), {}, { args: { V: '9' } }))!.reason.code, 'arg-changed');
    });
    it('ENV change → env-changed; LABEL/comment edits → nothing', async () => {
      assert.equal(first(await scenario(FILES, t(D), () => {}, t(D.replace('ENV E=1', 'ENV E=2'))))!.reason.code, 'env-changed');
      assert.equal(first(await scenario(FILES, t(D), () => {}, t(D.replace('LABEL a=b', 'LABEL a=c\n# note\nEXPOSE 80')))), undefined);
    });
    it('RUN text change → instruction-changed; WORKDIR change misses at WORKDIR', async () => {
      assert.equal(first(await scenario(FILES, t(D), () => {}, t(D.replace('RUN make', 'RUN make all'))))!.reason.code, 'instruction-changed');
      const p = await scenario(FILES, t(D), () => {}, t(D.replace('WORKDIR /app', 'WORKDIR /srv')));
      assert.deepEqual([first(p)!.line, first(p)!.reason.code], [2, 'instruction-changed']);
    });
    it('USER change re-runs a later WORKDIR (its mkdir runs as that user) and RUN', async () => {
      const d = 'FROM base\nUSER nobody\nWORKDIR /w\nRUN id\n';
      const p = await scenario({}, t(d), () => {}, t(d.replace('USER nobody', 'USER root')));
      assert.deepEqual([first(p)!.line, first(p)!.reason.code, at(p, 4).reason.code], [3, 'user-changed', 'parent-miss']);
    });
    it('base digest change → base-changed, everything after re-runs', async () => {
      let digest = 'sha256:aaa';
      const resolve: ImageResolver = async () => digest;
      const ctx = new MemoryContext(FILES);
      const base = await snapshot(ctx, t(D), { resolve });
      digest = 'sha256:bbb';
      const p = predictCache(await snapshot(ctx, t(D), { resolve }), record(base));
      assert.deepEqual([first(p)!.line, first(p)!.reason.code], [1, 'base-changed']);
      assert.equal(at(p, 3).reason.code, 'parent-miss');
    });
    it('ARG before FROM selects the base', async () => {
      const d = 'ARG IMG=base:1\nFROM $IMG\nRUN x\n';
      const p = await scenario({}, t(d), () => {}, t(d), {}, { args: { IMG: 'base:2' } });
      assert.deepEqual([first(p)!.line, first(p)!.reason.code], [2, 'base-changed']);
    });
    const M = 'FROM base AS build\nRUN make\nFROM base AS unused\nCOPY other.txt /o\nFROM base AS app\nCOPY --from=build /out /out\n';
    it('skipped stages, stage rename, COPY --from a stage that re-runs → unknown', async () => {
      const p = await scenario(FILES, t(M), (c) => c.set('other.txt', 'changed'));
      assert.deepEqual(p.instructions.map((i) => i.cache), ['hit', 'hit', 'skipped', 'skipped', 'hit', 'hit']);
      const renamed = M.replace('AS build', 'AS compile').replace('--from=build', '--from=compile');
      assert.equal(first(await scenario(FILES, t(M), () => {}, t(renamed))), undefined);
      const r = await scenario(FILES, t(M), () => {}, t(M.replace('RUN make', 'RUN make 2')));
      assert.deepEqual([at(r, 6).cache, at(r, 6).reason.code], ['unknown', 'stage-changed']);
      const target = await scenario(FILES, t(M), () => {}, t(M), { target: 'unused' });
      assert.deepEqual(target.instructions.map((i) => i.cache), ['skipped', 'skipped', 'hit', 'hit', 'skipped', 'skipped']);
    });
    it('circular --from and undefined variables give unknown/clear results, no crash', async () => {
      const p = await scenario(FILES, t('FROM base AS a\nCOPY --from=b /x /x\nFROM base AS b\nCOPY --from=a /y /y\n'), () => {});
      assert.equal(at(p, 2).cache, 'unknown');
      assert.match(at(p, 2).reason.message, /circular/);
      const u = await scenario(FILES, t('FROM base\nCOPY src/${NOPE}main.txt /m\n'), () => {});
      assert.equal(at(u, 2).cache, 'hit');
    });
  });
}

/** A fake web: URL → content (absent: 404), as `httpRemoteResolver` would report it. */
function web(pages: Record<string, string>): RemoteResolver {
  return async (url) => (url in pages
    ? { digest: `sha256:${createHash('sha256').update(pages[url]!).digest('hex')}`, size: pages[url]!.length }
    : { problem: `${url}: HTTP 404 Not Found (the build would fail)` });
}

describe('ADD <url>: the content behind the URL is the input', () => {
  const U = 'https://example.test/app.tgz';
  const DU = `FROM base\nADD ${U} /app.tgz\nRUN tar -xzf /app.tgz\n`;
  for (const eol of ['LF', 'CRLF'] as const) {
    const t = (s: string) => (eol === 'CRLF' ? crlf(s) : s);
    it(`same content → hit; new content → remote-changed naming the URL, then the RUN re-runs (${eol})`, async () => {
      const same = await scenario({}, t(DU), () => {}, t(DU), { remote: web({ [U]: 'v1' }) });
      assert.deepEqual(same.instructions.map((i) => i.cache), ['hit', 'hit', 'hit']);
      const p = await scenario({}, t(DU), () => {}, t(DU), { remote: web({ [U]: 'v1' }) }, { remote: web({ [U]: 'v2' }) });
      assert.deepEqual([first(p)!.line, first(p)!.cache, first(p)!.reason.code, first(p)!.reason.paths], [2, 'miss', 'remote-changed', [U]]);
      assert.match(first(p)!.reason.message, /^https:\/\/example\.test\/app\.tgz changed since the last build \([0-9a-f]{12}, 2 bytes → [0-9a-f]{12}, 2 bytes\)$/);
      assert.deepEqual([at(p, 3).cache, at(p, 3).reason.message], ['miss', 're-runs: line 2 missed']);
      assert.ok(at(p, 2).explanation.some((l) => l.startsWith(`- content of ${U} (downloaded`)));
    });
  }
  it('without downloading (the default) the step is unknown and says how to enable it, never a hit', async () => {
    const p = await scenario({}, DU, () => {}, DU, { remote: web({ [U]: 'v1' }) }, {});
    assert.equal(at(p, 2).cache, 'unknown');
    assert.match(at(p, 2).reason.message, /downloads remote sources on every build; enable .*strata\.prediction\.checkRemoteSources.*--check-remote/);
    assert.equal(at(p, 3).cache, 'unknown');
  });
  it('a baseline without the digest → unknown, not a miss', async () => {
    const p = await scenario({}, DU, () => {}, DU, {}, { remote: web({ [U]: 'v1' }) });
    assert.deepEqual([at(p, 2).cache, at(p, 2).reason.message], ['unknown', `the last build recorded no content digest for ${U}`]);
  });
  it('a failed download names the URL and the status', async () => {
    const p = await scenario({}, DU, () => {}, DU, { remote: web({ [U]: 'v1' }) }, { remote: web({}) });
    assert.deepEqual([at(p, 2).cache, at(p, 2).reason.message], ['unknown', `${U}: HTTP 404 Not Found (the build would fail)`]);
  });
  it('git sources and remote+context mixes stay unknown with their reason', async () => {
    const git = await scenario({}, 'FROM base\nADD https://example.test/r.git#main /src\n', () => {}, undefined, { remote: web({}) });
    assert.match(at(git, 2).reason.message, /git sources are re-checked on every build/);
    const mix = await scenario({ 'a.txt': 'a' }, `FROM base\nADD ${U} a.txt /d/\n`, () => {}, undefined, { remote: web({ [U]: 'v1' }) });
    assert.match(at(mix, 2).reason.message, /mixing remote and context sources/);
  });
});

describe('bad contexts give unknown with a reason', () => {
  const D2 = 'FROM base\nCOPY . /all/\n';
  it('FIFO and socket', async () => {
    const p = await scenario({ 'a.txt': 'a', 'pipe': { type: 'fifo' } }, D2, () => {});
    assert.deepEqual([at(p, 2).cache, at(p, 2).reason.message], ['unknown', 'pipe is a fifo; docker build cannot send it']);
  });
  it('unreadable file and unreadable dir', async () => {
    const p = await scenario({ 'a.txt': 'a', 'secret': { content: 's', error: 'EACCES' } }, D2, () => {});
    assert.match(at(p, 2).reason.message, /secret cannot be read \(EACCES\)/);
    const q = await scenario({ 'a.txt': 'a', 'd/x': 'x', 'd': { type: 'dir', error: 'EACCES' } }, D2, () => {});
    assert.match(at(q, 2).reason.message, /d cannot be listed/);
  });
  it('huge file over the hashing limit', async () => {
    const p = await scenario({ 'big.bin': { content: '', size: 2 ** 30 } }, D2, () => {}, D2, { maxFileBytes: 1 << 20 });
    assert.match(at(p, 2).reason.message, /over the 1048576-byte hashing limit/);
  });
  it('symlink loop is recorded by target, never followed', async () => {
    const p = await scenario({ 'loop': { link: 'loop' }, 'a': { link: 'b' }, 'b': { link: 'a' } }, D2, (c) => c.set('a', { link: 'c' }));
    assert.equal(at(p, 2).reason.code, 'file-changed');
  });
  it('file vanishing while hashed', async () => {
    const ctx = new MemoryContext({ 'a.txt': 'a' });
    const fs = ctx.fs();
    const idx = new ContextIndex({ ...fs, hashFiles: async (req) => {
      const out = new HashResults(req.count);
      out.status.fill(HashStatus.error);
      for (let k = 0; k < req.count; k++) out.errors.set(k, 'ENOENT');
      req.onBatch(0, out);
    } });
    await idx.scan();
    const inputs = await computeBuildInputs({ dockerfile: '/D', context: '/c', dockerfileText: D2, target: null, buildArgs: {}, index: idx });
    assert.match(inputs.steps[1]!.problem!, /vanished/);
  });
  it('missing COPY source', async () => {
    const p = await scenario({}, 'FROM base\nCOPY nope.txt /x\n', () => {});
    assert.match(at(p, 2).reason.message, /not found in the build context/);
  });
});

describe('ContextIndex walk with .dockerignore exceptions', () => {
  it('an excluded dir is walked for a ! exception and kept only as the parent of what it re-includes', async () => {
    const ctx = new MemoryContext({ '.dockerignore': 'docs\n!docs/keep.md\nempty\n!empty/none\n', 'docs/keep.md': 'k', 'docs/drop.md': 'd', 'empty/x': 'x' });
    const idx = new ContextIndex(ctx.fs());
    await idx.scan();
    assert.deepEqual(idx.paths(), ['.dockerignore', 'docs', 'docs/keep.md']);
    assert.deepEqual(idx.select(['docs']).paths, ['docs', 'docs/keep.md']);
  });
});

describe('incremental and cancellable hashing', () => {
  it('after one edit only that file is rehashed', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++) files[`src/f${i}.txt`] = `content ${i}`;
    const ctx = new MemoryContext(files);
    const idx = new ContextIndex(ctx.fs());
    await snapshot(ctx, D, {}, idx);
    assert.equal(ctx.hashes, 200);
    ctx.set('src/f7.txt', { content: 'edited', mtimeMs: Date.now() + 1000 });
    assert.equal(await idx.refresh(['src/f7.txt']), true);
    const inputs = await computeBuildInputs({ dockerfile: '/D', context: '/c', dockerfileText: D, target: null, buildArgs: {}, index: idx });
    assert.equal(ctx.hashes, 201);
    assert.equal(inputs.steps[2]!.sources!.count, 201); // src and its 200 files
    assert.match(idx.selectionKeys(['src'])['src/f7.txt']!, /^file:644:[0-9a-f]{64}$/);
    // A full rescan also reuses unchanged digests.
    await idx.scan();
    await computeBuildInputs({ dockerfile: '/D', context: '/c', dockerfileText: D, target: null, buildArgs: {}, index: idx });
    assert.equal(ctx.hashes, 201);
  });
  it('an aborted snapshot rejects', async () => {
    const ctx = new MemoryContext({ 'src/a': 'a' });
    const idx = new ContextIndex(ctx.fs());
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(idx.scan(ac.signal), /abort/i);
  });
});

describe('a context that cannot be walked', () => {
  it('gives unknown with the reason on build steps, not "file not found"', async () => {
    const idx = new ContextIndex(new MemoryContext({ 'a': 'a' }).fs(), { maxEntries: 0 });
    await assert.rejects(idx.scan(), /more than 0 entries/);
    const inputs = await computeBuildInputs({ dockerfile: '/D', context: '/c', dockerfileText: 'FROM b\nCOPY a /a\nRUN x\n', target: null, buildArgs: {}, index: idx });
    markContextProblem(inputs, 'build context /c: more than 0 entries');
    const p = predictCache(inputs, record(inputs));
    assert.deepEqual(p.instructions.map((i) => [i.cache, i.reason.code]), [['hit', 'unchanged'], ['unknown', 'cannot-tell'], ['unknown', 'cannot-tell']]);
    assert.match(p.instructions[1]!.reason.message, /more than 0 entries/);
  });
});
