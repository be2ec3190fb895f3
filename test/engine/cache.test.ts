// The cache model against a real BuildKit: for each kind of change, build v1, record the baseline (our snapshot +
// the step outcomes parsed from the log), apply the change, predict, build v2, and check that every step's predicted
// outcome equals what BuildKit did (`CACHED` or not) and that the first cause is the expected one.
// Each case's first RUN echoes a per-run nonce, so no cache from earlier runs or other cases can make a miss a hit.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BuildRecord } from '../../server/src/build/buildRecord';
import { predictCache, type Prediction } from '../../server/src/cache/predictCache';
import { snapshotBuildInputs } from '../../server/src/cache/snapshotBuildInputs';
import { httpRemoteResolver } from '../../server/src/cache/remoteSources';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { crlf } from '../support/paths';
import { BASE, docker, engineAvailable, parseBuildLog, type StepOutcome } from './cacheEngineKit';

const RUN_ID = randomBytes(4).toString('hex');
const REPO = `strata-cache-test-${RUN_ID}`;
const ALT = `${REPO}/alt:1`;
const TAGGED = `${REPO}/tagged:1`;

type FileSpec = string | { content?: string; mode?: number; link?: string; dir?: boolean };

interface Ctx {
  dir: string;
  write(rel: string, content: string): Promise<void>;
  rm(rel: string): Promise<void>;
  dockerfile(text: string): Promise<void>;
  /** Changes what the test's web server serves at `{HTTP}/<rel>` for this case. */
  serve(rel: string, content: string): void;
}

interface Case {
  name: string;
  dockerfile: string;
  files?: Record<string, FileSpec>;
  /** Served at `{HTTP}/<rel>` (a real HTTP server on 127.0.0.1 that BuildKit downloads `ADD <url>` from). */
  web?: Record<string, string>;
  args?: Record<string, string>;
  target?: string;
  change(c: Ctx): Promise<void>;
  args2?: Record<string, string>;
  /** Reason code of the first step that does not hit; null: everything hits. */
  expect: string | null;
  /** Line of that step. */
  line?: number;
  /** Lines whose outcome the model must call unknown (it depends on what a re-run outputs). */
  unknown?: number[];
  crlf?: boolean;
}

const COPY_FILES: Record<string, FileSpec> = {
  'src/main.txt': 'hello\n',
  'src/lib/util.txt': 'util\n',
  'src/link': { link: 'main.txt' },
  'other/readme.md': 'readme\n',
  'notcopied.txt': 'n\n',
};
const D_COPY = `FROM {BASE}
RUN echo {NONCE} > /nonce
WORKDIR /app
COPY src/ ./src/
RUN cat src/main.txt > /out
COPY other/readme.md ./
RUN ls -la > /ls
`;
const D_ARGS = `FROM {BASE}
RUN echo {NONCE} > /nonce
ARG V=1
ARG UNUSED=a
COPY src/main.txt /m
RUN echo hi > /x
ENV E=1
RUN echo e > /e
USER nobody
RUN id > /tmp/id
`;
const D_FLAGS = `FROM {BASE}
RUN echo {NONCE} > /nonce
WORKDIR /w
COPY --chmod=644 src/main.txt ./m
SHELL ["/bin/sh", "-c"]
RUN echo x > y
ENV D=/d
COPY src/main.txt $D/
`;
const D_USER_WD = `FROM {BASE}
RUN echo {NONCE} > /nonce
USER nobody
WORKDIR /wd
RUN id > /tmp/id
`;
const D_BASE = `ARG B={BASE}
FROM $B
RUN echo {NONCE} > /nonce
RUN echo a > /a
`;
const D_MULTI = `FROM {BASE} AS build
RUN echo {NONCE} > /nonce
COPY src/main.txt /m
RUN cat /m > /out
FROM {BASE} AS unused
RUN echo {NONCE} unused > /u
COPY other/readme.md /r
FROM {BASE} AS final
RUN echo {NONCE} final > /f
COPY --from=build /out /out
RUN cat /out
`;
const D_ALL = `FROM {BASE}
RUN echo {NONCE} > /nonce
COPY *.txt /t/
COPY . /all/
`;

const edit = (rel: string, content: string) => async (c: Ctx) => c.write(rel, content);
const dfEdit = (from: string, to: string) => async (c: Ctx) => {
  const text = await fs.readFile(path.join(c.dir, 'Dockerfile'), 'utf8');
  const lf = text.replace(/\r\n/g, '\n');
  assert.ok(lf.includes(from), `test bug: ${JSON.stringify(from)} not in the Dockerfile`);
  const next = lf.replace(from, to);
  await c.dockerfile(text.includes('\r\n') ? crlf(next) : next);
};

const D_URL = `FROM {BASE}
RUN echo {NONCE} > /nonce
ADD {HTTP}/app.txt /app.txt
RUN cat /app.txt > /copy
`;

const CASES: Case[] = [
  // COPY from the context: content, metadata, selection.
  { name: 'edit a copied file', dockerfile: D_COPY, files: COPY_FILES, change: edit('src/main.txt', 'hello v2\n'), expect: 'file-changed', line: 4 },
  { name: 'add a file in a copied dir', dockerfile: D_COPY, files: COPY_FILES, change: edit('src/new.txt', 'new\n'), expect: 'file-added', line: 4, crlf: true },
  { name: 'remove a copied file', dockerfile: D_COPY, files: COPY_FILES, change: async (c) => c.rm('src/lib/util.txt'), expect: 'file-removed', line: 4 },
  { name: 'chmod a copied file', dockerfile: D_COPY, files: COPY_FILES, change: async (c) => fs.chmod(path.join(c.dir, 'src/main.txt'), 0o755), expect: 'metadata-changed', line: 4 },
  { name: 'retarget a copied symlink', dockerfile: D_COPY, files: COPY_FILES, change: async (c) => { await c.rm('src/link'); await fs.symlink('lib/util.txt', path.join(c.dir, 'src/link')); }, expect: 'file-changed', line: 4, crlf: true },
  { name: 'add an empty dir in a copied dir', dockerfile: D_COPY, files: COPY_FILES, change: async (c) => fs.mkdir(path.join(c.dir, 'src/empty')), expect: 'file-added', line: 4 },
  { name: 'touch a copied file (mtime only)', dockerfile: D_COPY, files: COPY_FILES, change: async (c) => { const t = new Date(Date.now() + 60_000); await fs.utimes(path.join(c.dir, 'src/main.txt'), t, t); }, expect: null },
  { name: 'edit the file of a later COPY', dockerfile: D_COPY, files: COPY_FILES, change: edit('other/readme.md', 'readme v2\n'), expect: 'file-changed', line: 6 },
  { name: 'edit a file no COPY selects', dockerfile: D_COPY, files: COPY_FILES, change: edit('notcopied.txt', 'n2\n'), expect: null, crlf: true },
  { name: '.dockerignore now excludes a copied dir', dockerfile: D_COPY, files: COPY_FILES, change: edit('.dockerignore', 'src/lib\n'), expect: 'ignore-changed', line: 4 },
  { name: 'edit an ignored file', dockerfile: D_COPY, files: { ...COPY_FILES, '.dockerignore': 'src/*.md\n', 'src/notes.md': 'x\n' }, change: edit('src/notes.md', 'y\n'), expect: null },
  { name: 'edit a file re-included by a ! exception', dockerfile: D_COPY, files: { ...COPY_FILES, '.dockerignore': 'src/lib/*\n!src/lib/keep.txt\n', 'src/lib/keep.txt': 'k\n' }, change: edit('src/lib/keep.txt', 'k2\n'), expect: 'file-changed', line: 4 },
  { name: 'edit a file excluded under a ! exception', dockerfile: D_COPY, files: { ...COPY_FILES, '.dockerignore': 'src/lib/*\n!src/lib/keep.txt\n', 'src/lib/keep.txt': 'k\n' }, change: edit('src/lib/util.txt', 'u2\n'), expect: null, crlf: true },
  { name: '** pattern excludes a nested file', dockerfile: D_COPY, files: COPY_FILES, change: edit('.dockerignore', '**/util.txt\n'), expect: 'ignore-changed', line: 4 },
  // Instruction text.
  { name: 'change a RUN command', dockerfile: D_COPY, files: COPY_FILES, change: dfEdit('cat src/main.txt > /out', 'cat src/main.txt > /out2'), expect: 'instruction-changed', line: 5 },
  { name: 'comment lines only', dockerfile: D_COPY, files: COPY_FILES, change: dfEdit('RUN ls -la > /ls\n', '# listing\nRUN ls -la \\\n# inside a continuation\n> /ls\n'), expect: null },
  // BuildKit keeps the indentation a continuation brings into a RUN command: re-wrapping is a text change.
  { name: 're-wrap a RUN with an indented continuation', dockerfile: D_COPY, files: COPY_FILES, change: dfEdit('RUN ls -la > /ls\n', 'RUN ls -la \\\n    > /ls\n'), expect: 'instruction-changed', line: 7 },
  { name: 'LABEL/EXPOSE/CMD added', dockerfile: D_COPY, files: COPY_FILES, change: dfEdit('RUN ls -la > /ls\n', 'LABEL a=b\nRUN ls -la > /ls\nEXPOSE 80\nCMD ["sh"]\n'), expect: null, crlf: true },
  { name: 'insert a RUN step', dockerfile: D_COPY, files: COPY_FILES, change: dfEdit('WORKDIR /app\n', 'WORKDIR /app\nRUN echo inserted\n'), expect: 'instruction-changed', line: 4 },
  { name: 'swap two COPY steps', dockerfile: D_COPY, files: COPY_FILES, change: dfEdit('COPY src/ ./src/\nRUN cat src/main.txt > /out\nCOPY other/readme.md ./\n', 'COPY other/readme.md ./\nCOPY src/ ./src/\nRUN cat src/main.txt > /out\n'), expect: 'instruction-changed', line: 4 },
  // ARG / ENV / USER / WORKDIR / SHELL.
  { name: 'ARG default used by no command changes', dockerfile: D_ARGS, files: COPY_FILES, change: dfEdit('ARG UNUSED=a', 'ARG UNUSED=b'), expect: 'arg-changed', line: 6 },
  { name: 'ARG default changes', dockerfile: D_ARGS, files: COPY_FILES, change: dfEdit('ARG V=1', 'ARG V=2'), expect: 'arg-changed', line: 6, crlf: true },
  { name: '--build-arg equal to the default', dockerfile: D_ARGS, files: COPY_FILES, change: async () => {}, args2: { V: '1' }, expect: null },
  { name: '--build-arg different from the default', dockerfile: D_ARGS, files: COPY_FILES, change: async () => {}, args2: { V: '3' }, expect: 'arg-changed', line: 6 },
  { name: '--build-arg of an undeclared ARG', dockerfile: D_ARGS, files: COPY_FILES, change: async () => {}, args2: { NOPE: 'x' }, expect: null },
  { name: 'ENV value changes', dockerfile: D_ARGS, files: COPY_FILES, change: dfEdit('ENV E=1', 'ENV E=2'), expect: 'env-changed', line: 8 },
  { name: 'USER changes', dockerfile: D_ARGS, files: COPY_FILES, change: dfEdit('USER nobody', 'USER root'), expect: 'user-changed', line: 10 },
  { name: 'USER changes before a WORKDIR', dockerfile: D_USER_WD, change: dfEdit('USER nobody', 'USER root'), expect: 'user-changed', line: 4 },
  { name: 'WORKDIR changes', dockerfile: D_FLAGS, files: COPY_FILES, change: dfEdit('WORKDIR /w', 'WORKDIR /w2'), expect: 'instruction-changed', line: 3 },
  { name: 'COPY --chmod changes', dockerfile: D_FLAGS, files: COPY_FILES, change: dfEdit('--chmod=644', '--chmod=600'), expect: 'instruction-changed', line: 4, crlf: true },
  { name: 'SHELL changes', dockerfile: D_FLAGS, files: COPY_FILES, change: dfEdit('SHELL ["/bin/sh", "-c"]', 'SHELL ["/bin/sh", "-ec"]'), expect: 'shell-changed', line: 6 },
  { name: 'ENV expanded in a COPY destination', dockerfile: D_FLAGS, files: COPY_FILES, change: dfEdit('ENV D=/d', 'ENV D=/e'), expect: 'env-changed', line: 8 },
  // Base image.
  { name: 'ARG before FROM picks another base', dockerfile: D_BASE, change: async () => {}, args2: { B: ALT }, expect: 'base-changed', line: 2 },
  { name: 'same FROM text, tag now points elsewhere', dockerfile: D_BASE.replace('{BASE}', TAGGED), change: async () => { await docker(['tag', ALT, TAGGED]); }, expect: 'base-changed', line: 2, crlf: true },
  // Stages.
  { name: 'rename a stage (and its references)', dockerfile: D_MULTI, files: COPY_FILES, change: dfEdit('AS build\n', 'AS compile\n').bind(null), expect: null },
  { name: 'edit a file only a skipped stage copies', dockerfile: D_MULTI, files: COPY_FILES, change: edit('other/readme.md', 'r2\n'), expect: null },
  { name: 'source stage re-runs with new output', dockerfile: D_MULTI, files: COPY_FILES, change: edit('src/main.txt', 'changed\n'), expect: 'file-changed', line: 3, unknown: [10, 11] },
  { name: 'source stage re-runs with the same output', dockerfile: D_MULTI, files: COPY_FILES, change: dfEdit('RUN cat /m > /out', 'RUN cat /m >/out'), expect: 'instruction-changed', line: 4, unknown: [10, 11] },
  // Wildcards and the whole context.
  { name: 'wildcard source gains a match', dockerfile: D_ALL, files: { 'a.txt': 'a\n', 'b.md': 'b\n' }, change: edit('c.txt', 'c\n'), expect: 'file-added', line: 3 },
  { name: 'COPY . sees a Dockerfile edit', dockerfile: D_ALL, files: { 'a.txt': 'a\n' }, change: dfEdit('COPY . /all/\n', 'COPY . /all/\nLABEL x=y\n'), expect: 'file-changed', line: 4 },
  // ADD of a URL: BuildKit downloads it on every build and keys the step by the content.
  { name: 'ADD <url>: the served file changes', dockerfile: D_URL, web: { 'app.txt': 'v1\n' }, change: async (c) => c.serve('app.txt', 'v2\n'), expect: 'remote-changed', line: 3 },
  { name: 'ADD <url>: the same content served again', dockerfile: D_URL, web: { 'app.txt': 'v1\n' }, change: async () => {}, expect: null, crlf: true },
  { name: 'COPY . with the Dockerfile ignored', dockerfile: D_ALL, files: { 'a.txt': 'a\n', '.dockerignore': 'Dockerfile\n' }, change: dfEdit('COPY . /all/\n', 'COPY . /all/\nLABEL x=y\n'), expect: null, crlf: true },
];

// The rename case also renames the reference.
CASES.find((c) => c.name.startsWith('rename a stage'))!.change = async (c) => {
  await dfEdit('AS build\n', 'AS compile\n')(c);
  await dfEdit('--from=build', '--from=compile')(c);
};

async function writeFiles(dir: string, files: Record<string, FileSpec>): Promise<void> {
  for (const [rel, spec] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await fs.mkdir(path.dirname(p), { recursive: true });
    if (typeof spec === 'string') await fs.writeFile(p, spec);
    else if (spec.link) await fs.symlink(spec.link, p);
    else if (spec.dir) await fs.mkdir(p, { recursive: true });
    else await fs.writeFile(p, spec.content ?? '');
    if (typeof spec !== 'string' && spec.mode !== undefined) await fs.chmod(p, spec.mode);
  }
}

async function build(dir: string, tag: string, args: Record<string, string>, target: string | undefined): Promise<string> {
  const argv = ['build', '--progress=plain', '-t', tag];
  for (const [k, v] of Object.entries(args)) argv.push('--build-arg', `${k}=${v}`);
  if (target) argv.push('--target', target);
  argv.push(dir);
  const r = await docker(argv);
  assert.equal(r.code, 0, `docker build failed:\n${r.out.split('\n').slice(-30).join('\n')}`);
  return r.out;
}

function record(inputs: unknown, dir: string, outcomes: StepOutcome[], c: Case): BuildRecord {
  return {
    version: 1, id: randomBytes(8).toString('hex'), builtAt: new Date().toISOString(),
    dockerfile: path.join(dir, 'Dockerfile'), context: dir, target: c.target ?? null, buildArgs: c.args ?? {}, tags: [],
    inputs,
    steps: outcomes.map((o) => ({ line: o.line, endLine: o.line, stage: '', instruction: '', vertex: o.vertex, outcome: o.cached ? 'cached' : 'built', durationMs: null })),
    image: null, exitCode: 0, durationMs: 0,
  };
}

function compare(c: Case, p: Prediction, actual: StepOutcome[]): void {
  const byLine = new Map(p.instructions.map((i) => [i.line, i]));
  const table = p.instructions.map((i) => `${i.line} ${i.instruction} ${i.cache} [${i.reason.code}] ${i.reason.message} | buildkit: ${actual.find((a) => a.line === i.line)?.cached ?? '-'}`).join('\n');
  for (const a of actual) {
    const pred = byLine.get(a.line);
    assert.ok(pred, `no prediction for line ${a.line}\n${table}`);
    if (pred.instruction === 'FROM') continue; // BuildKit reports no CACHED for a local image's FROM
    if (pred.cache === 'unknown') {
      assert.ok(c.unknown?.includes(a.line), `line ${a.line} predicted unknown (${pred.reason.message})\n${table}`);
      continue;
    }
    assert.notEqual(pred.cache, 'skipped', `line ${a.line} predicted skipped but BuildKit ran it\n${table}`);
    assert.equal(pred.cache === 'hit', a.cached, `line ${a.line}: predicted ${pred.cache}, BuildKit ${a.cached ? 'CACHED' : 'built'}\n${table}`);
  }
  for (const i of p.instructions) {
    if (i.cache === 'skipped') assert.ok(!actual.some((a) => a.line === i.line), `line ${i.line} predicted skipped but BuildKit ran it`);
  }
  for (const l of c.unknown ?? []) assert.equal(byLine.get(l)?.cache, 'unknown', `line ${l} should be unknown\n${table}`);
  const first = p.instructions.find((i) => i.cache === 'miss' || i.cache === 'unknown');
  assert.equal(first?.reason.code ?? null, c.expect, `first cause\n${table}`);
  if (c.line !== undefined) assert.equal(first?.line, c.line, `first cause line\n${table}`);
}

describe('cache model vs BuildKit (real engine)', { concurrency: 4, skip: engineAvailable() ? false : 'no Docker engine (DOCKER_HOST unset): run through `node scripts/test.mjs engine`' }, () => {
  const dirs: string[] = [];
  const tags: string[] = [];
  // dockerd (and its BuildKit) runs in the host's network namespace, so it downloads from 127.0.0.1 like we do.
  const served = new Map<string, string>();
  const web = http.createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (body === undefined) res.writeHead(404);
    res.end(body);
  });
  let webBase = '';
  before(async () => {
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webBase = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-cache-alt-'));
    dirs.push(dir);
    await fs.writeFile(path.join(dir, 'Dockerfile'), `FROM ${BASE}\nRUN echo ${RUN_ID} > /alt\n`);
    await build(dir, ALT, {}, undefined);
    const t = await docker(['tag', BASE, TAGGED]);
    assert.equal(t.code, 0, t.out);
    tags.push(ALT, TAGGED);
  });
  after(async () => {
    web.closeAllConnections();
    web.close();
    await docker(['image', 'rm', '-f', ...tags]);
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  it('covers at least 25 kinds of change', () => {
    assert.ok(CASES.length >= 25);
    assert.ok(new Set(CASES.map((c) => c.expect)).size >= 10);
  });

  for (const [n, c] of CASES.entries()) {
    it(`${c.name}${c.crlf ? ' (CRLF)' : ''}`, { timeout: 300_000 }, async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-cache-case-'));
      dirs.push(dir);
      const nonce = `${RUN_ID}-${n}`;
      let text = c.dockerfile.replaceAll('{BASE}', BASE).replaceAll('{NONCE}', nonce).replaceAll('{HTTP}', `${webBase}/${n}`);
      for (const [rel, content] of Object.entries(c.web ?? {})) served.set(`/${n}/${rel}`, content);
      if (c.crlf) text = crlf(text);
      await writeFiles(dir, c.files ?? {});
      await fs.writeFile(path.join(dir, 'Dockerfile'), text);
      const tag = `${REPO}/case:${n}`;
      tags.push(tag);
      const args1 = c.args ?? {};
      const snap = (args: Record<string, string>) => snapshotBuildInputs({ dockerfile: path.join(dir, 'Dockerfile'), context: dir, target: c.target ?? null, buildArgs: args, resolveRemote: httpRemoteResolver() });
      const inputs = await snap(args1);
      const log1 = await build(dir, tag, args1, c.target);
      const base = record(inputs, dir, parseBuildLog(log1, text, args1, c.target ?? null), c);

      const ctx: Ctx = {
        dir,
        write: async (rel, content) => { await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true }); await fs.writeFile(path.join(dir, rel), content); },
        rm: (rel) => fs.rm(path.join(dir, rel), { recursive: true, force: true }),
        dockerfile: (t) => fs.writeFile(path.join(dir, 'Dockerfile'), t),
        serve: (rel, content) => { served.set(`/${n}/${rel}`, content); },
      };
      await c.change(ctx);
      const args2 = c.args2 ?? args1;
      const prediction = predictCache(await snap(args2), base);
      const text2 = await fs.readFile(path.join(dir, 'Dockerfile'), 'utf8');
      const log2 = await build(dir, tag, args2, c.target);
      compare(c, prediction, parseBuildLog(log2, text2, args2, c.target ?? null));
    });
  }
});
