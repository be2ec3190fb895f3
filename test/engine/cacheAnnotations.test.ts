// The editor side of the cache model, end to end: the bundled language server over stdio (as any LSP client
// starts it), a real `strata build` on the engine recording the baseline, then CodeLens / hover / inlay hints.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeLens, Hover, InlayHint } from 'vscode-languageserver-protocol';
import { ContextChangedNotification, PredictionConfigNotification, PredictionRequest, type PredictionResult } from '../../server/src/protocol/lspMessages';
import { LspSession } from '../support/lspSession';
import { DIST } from '../support/paths';
import { BASE, docker, engineAvailable } from './cacheEngineKit';

const TAG = `strata-cache-lsp-${randomBytes(4).toString('hex')}:1`;

async function until<T>(what: string, fn: () => Promise<T>, ok: (t: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: timed out; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}

describe('cache annotations through the language server (real engine)', { skip: engineAvailable() ? false : 'no Docker engine (DOCKER_HOST unset): run through `node scripts/test.mjs engine`' }, () => {
  let dir = '';
  const session = new LspSession();
  after(async () => {
    await session.close();
    await docker(['image', 'rm', '-f', TAG]);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('no baseline → build → hit → file edit → miss with the cause, hover, config only, inlay hints', { timeout: 240_000 }, async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-cache-lsp-'));
    const stateDir = path.join(dir, '.state');
    await fs.mkdir(path.join(dir, 'src'));
    await fs.writeFile(path.join(dir, 'src/main.txt'), 'one\n');
    await fs.writeFile(path.join(dir, '.dockerignore'), '.state\n');
    const text = `FROM ${BASE}\nRUN echo ${randomBytes(4).toString('hex')} > /n\nCOPY src/ /src/\nRUN cat /src/main.txt\n`;
    const dockerfile = path.join(dir, 'Dockerfile');
    await fs.writeFile(dockerfile, text);
    const uri = pathToFileURL(dockerfile).toString();

    const init = await session.initialize();
    assert.ok(init.capabilities.codeLensProvider, 'codeLensProvider advertised');
    assert.ok(init.capabilities.inlayHintProvider, 'inlayHintProvider advertised');
    await session.connection.sendNotification(PredictionConfigNotification.method, { stateDir, annotations: 'codelens' });
    await session.open(uri, text);
    const lenses = () => session.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    const titles = async () => (await lenses()).map((l) => `${l.range.start.line + 1}: ${l.command?.title}`);

    const before = await titles();
    assert.equal(before.length, 4);
    assert.ok(before.every((t) => /no baseline/.test(t)), before.join('\n'));

    const build = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), 'build', '--context', dir, '--state-dir', stateDir, '-t', TAG], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(build.status, 0, `strata build failed: ${build.stderr.slice(-2000)}`);

    // The server notices the new record by itself (it polls the state dir).
    const hit = await until('hits after the build', titles, (t) => t.every((x) => /cache hit/.test(x)));
    assert.match(hit[1]!, /^2: layer · .*cache hit$/);

    await fs.writeFile(path.join(dir, 'src/main.txt'), 'two\n');
    await session.connection.sendNotification(ContextChangedNotification.method, { paths: [path.join(dir, 'src/main.txt')] });
    const miss = await until('miss after the edit', titles, (t) => t.some((x) => /miss/.test(x)));
    assert.deepEqual(miss.slice(2), ['3: layer · cache miss: src/main.txt changed', '4: layer · re-runs: line 3 missed']);

    // The CLI answers the same, in the contract's JSON shape.
    const cli = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), 'predict', '--context', dir, '--state-dir', stateDir, '--json'], { encoding: 'utf8', cwd: dir });
    assert.equal(cli.status, 0, cli.stderr);
    const json = JSON.parse(cli.stdout) as { dockerfile: string; target: null; baseline: { id: string; builtAt: string }; instructions: { line: number; endLine: number; stage: string; stageIndex: number; instruction: string; createsLayer: boolean; cache: string; reason: { code: string; message: string; paths?: string[] } }[] };
    assert.equal(json.dockerfile, 'Dockerfile');
    assert.equal(json.target, null);
    assert.match(json.baseline.id, /^[0-9a-f]+$/);
    assert.deepEqual(json.instructions.map((i) => [i.line, i.instruction, i.createsLayer, i.cache, i.reason.code]), [
      [1, 'FROM', false, 'hit', 'unchanged'], [2, 'RUN', true, 'hit', 'unchanged'],
      [3, 'COPY', true, 'miss', 'file-changed'], [4, 'RUN', true, 'miss', 'parent-miss'],
    ]);
    assert.deepEqual(json.instructions[2]!.reason.paths, ['src/main.txt']);
    assert.deepEqual([json.instructions[2]!.stage, json.instructions[2]!.stageIndex, json.instructions[2]!.endLine], ['stage-0', 0, 3]);

    const hover = await session.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 1 } });
    const value = (hover.contents as { value: string }).value;
    assert.match(value, /src\/main\.txt changed since the last build \[file-changed\]/);
    assert.match(value, /cache key inputs/);

    const p = await session.request<PredictionResult>(PredictionRequest.method, { uri });
    assert.deepEqual([p.summary.hit, p.summary.miss], [2, 2]);

    await session.change(uri, 2, `${text}LABEL a=b\n`);
    const withLabel = await until('config only', titles, (t) => t.length === 5);
    assert.equal(withLabel[4], '5: config only');

    await session.connection.sendNotification(PredictionConfigNotification.method, { annotations: 'inlayHints' });
    assert.deepEqual(await lenses(), []);
    const hints = await session.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 10, character: 0 } } });
    assert.equal(hints.length, 5);
    assert.equal(hints[2]!.label, 'layer · cache miss: src/main.txt changed');
    assert.equal(session.stderr.includes('    at '), false, session.stderr);
  });
});
