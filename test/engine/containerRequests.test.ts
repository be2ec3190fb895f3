import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContainerInspection } from '../../server/src/container/containerModel';
import type { ContainersListResult, TransferProgressParams } from '../../server/src/protocol/lspMessages';
import { LspSession } from '../support/lspSession';

/**
 * The container requests of the bundled language server (what the Containers group calls), on the real engine:
 * list, inspect (with progress) → an archive the explorer's `strata/image/open` reads, commit, save, load, errors,
 * and the archives' cleanup when the server exits.
 */
const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';
const DOCKER = process.env.STRATA_DOCKER ?? '/usr/bin/docker';
const ID = `${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `strata-test-lspcontainer-${ID}:1`;
const COMMITTED = `strata-test-lspcontainer-${ID}:committed`;
const NAME = `strata-test-lspcontainer-${ID}`;

function docker(...args: string[]): string {
  const r = spawnSync(DOCKER, args, { encoding: 'utf8', env: process.env });
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('container requests of the language server (real engine)', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'strata-lspc-'));
  let session: LspSession;
  const progress: TransferProgressParams[] = [];

  before(async () => {
    writeFileSync(path.join(work, 'Dockerfile'), `FROM ${BASE}\nRUN echo hello > /greeting\n`);
    docker('build', '-q', '-t', IMAGE, work);
    docker('run', '-d', '--name', NAME, IMAGE, 'sh', '-c', 'echo more >> /greeting; rm /bin/true; echo ready; exec sleep 600');
    for (let i = 0; i < 300 && !docker('logs', NAME).includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
    session = new LspSession();
    session.connection.onNotification('strata/containers/progress', (p: TransferProgressParams) => { progress.push(p); });
    await session.initialize();
  });

  after(async () => {
    await session?.close();
    spawnSync(DOCKER, ['container', 'rm', '--force', NAME]);
    spawnSync(DOCKER, ['image', 'rm', '--force', IMAGE, COMMITTED]);
    rmSync(work, { recursive: true, force: true });
  });

  it('lists containers, reads one into an archive the explorer opens, commits, saves and loads', async () => {
    const list = await session.request<ContainersListResult>('strata/containers/list', {});
    assert.equal(list.connected, true);
    const mine = list.containers.find((c) => c.name === NAME);
    assert.ok(mine);
    assert.deepEqual([mine.image, mine.state], [IMAGE, 'running']);

    // A folder left by a server that was killed (its pid no longer exists) is cleaned up on the first read.
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = path.join(os.tmpdir(), `strata-containers-${deadPid}-stale`);
    mkdirSync(path.join(stale, 'strata-container-x'), { recursive: true });
    const ins = await session.request<ContainerInspection>('strata/containers/inspect', { ref: NAME, progressToken: 'p1' });
    assert.ok(!existsSync(stale), 'stale archive folder of a dead server removed');
    assert.equal(ins.writableIndex, 2);
    assert.deepEqual(ins.changes.map((c) => `${c.kind} ${c.path} ${c.from ?? '-'}`).sort(), ['deleted bin/true 0', 'modified bin 0', 'modified greeting 1']);
    assert.equal(ins.preview.wastedBytes, 'hello\n'.length + (ins.changes.find((c) => c.path === 'bin/true')!.oldSize ?? -1));
    assert.ok(progress.some((p) => p.token === 'p1'), 'progress notifications carry the token');
    assert.ok(existsSync(ins.archivePath));

    const opened = await session.request<{ archive: { images: Array<{ layers: Array<{ createdBy: string }> }> } }>('strata/image/open', { handle: 'h1', path: ins.archivePath });
    assert.equal(opened.archive.images[0]!.layers.length, 3);
    assert.match(opened.archive.images[0]!.layers[2]!.createdBy, new RegExp(`^strata: writable layer of container ${NAME}`));
    await session.request('strata/image/close', { handle: 'h1' });

    const committed = await session.request<{ imageId: string; repoTag: string }>('strata/containers/commit', { ref: NAME, repoTag: COMMITTED });
    assert.equal(committed.imageId, docker('image', 'inspect', '--format', '{{.Id}}', COMMITTED).trim());

    const file = path.join(work, 'saved.tar');
    const saved = await session.request<{ fileBytes: number }>('strata/images/save', { ref: COMMITTED, file, gzip: false });
    assert.ok(saved.fileBytes > 100_000 && existsSync(file));
    docker('image', 'rm', COMMITTED);
    const loaded = await session.request<{ tags: string[] }>('strata/images/load', { file });
    assert.deepEqual(loaded.tags, [COMMITTED]);

    await assert.rejects(session.request('strata/containers/inspect', { ref: `no-such-${ID}` }), new RegExp(`no such container: no-such-${ID}`));
    await assert.rejects(session.request('strata/images/load', { file: path.join(work, 'missing.tar') }), /cannot read .*missing\.tar: no such file/);

    // The archives live only as long as the server (a clean LSP shutdown + exit, as editors do).
    const exited = new Promise<void>((resolve) => session.process.once('exit', () => resolve()));
    await session.connection.sendRequest('shutdown');
    await session.connection.sendNotification('exit');
    await exited;
    assert.ok(!existsSync(path.dirname(path.dirname(ins.archivePath))), 'the server deletes its container archives when it exits');
  });
});
