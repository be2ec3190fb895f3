import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImagesNode } from '../../client/src/explorer/imagesTreeProvider';
import { strata, waitFor } from './strataHost';

/**
 * The Containers group in a real VS Code on the real engine: a container shows up under "Containers" with its
 * image; expanding it reads the writable layer (commit preview first, then the writable layer on top of the
 * image's layers), and "Open Writable Layer" opens it in the layer explorer. Needs the test engine's environment.
 */
const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';
const DOCKER = process.env.STRATA_DOCKER ?? '/usr/bin/docker';

suite('Strata: Containers group', function () {
  const id = `${process.pid}-${Date.now().toString(36)}`;
  const image = `strata-test-inhost-container-${id}:1`;
  const name = `strata-test-inhost-container-${id}`;
  const docker = (...args: string[]) => {
    const r = spawnSync(DOCKER, args, { encoding: 'utf8', env: process.env });
    assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  suiteSetup(async function () {
    // Stated reason, not a silent pass: without the engine variables this would use the user's default engine.
    if (!process.env.DOCKER_HOST) this.skip();
    this.timeout(120_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-inhost-c-'));
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${BASE}\nRUN echo hello > /greeting\n`);
    docker('build', '-q', '-t', image, dir);
    rmSync(dir, { recursive: true, force: true });
    docker('run', '-d', '--name', name, image, 'sh', '-c', 'echo changed >> /greeting; echo new > /new.txt; echo ready; exec sleep 600');
    await waitFor('the container to be ready', () => docker('logs', name).includes('ready'), 30_000);
    await strata();
  });

  suiteTeardown(() => {
    spawnSync(DOCKER, ['container', 'rm', '--force', name]);
    spawnSync(DOCKER, ['image', 'rm', '--force', image]);
  });

  test('the Containers group lists the container; expanding it shows the commit preview and the writable layer', async function () {
    this.timeout(120_000);
    const api = await strata();
    await vscode.commands.executeCommand('strata.refreshImages');
    const tree = api.explorer.tree;
    const roots = await tree.getChildren();
    const group = roots.find((n) => n.kind === 'ext' && tree.getTreeItem(n).label === 'Containers');
    assert.ok(group, `no Containers group among ${roots.map((n) => String(tree.getTreeItem(n).label)).join(', ')}`);
    const containers = await tree.getChildren(group);
    const mine = containers.find((n) => tree.getTreeItem(n).label === name);
    assert.ok(mine, `container ${name} not listed`);
    assert.match(String(tree.getTreeItem(mine).description), new RegExp(`^${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} · running$`));
    const children = await tree.getChildren(mine);
    assert.equal(tree.getTreeItem(children[0]!).label, 'Commit preview');
    assert.match(String(tree.getTreeItem(children[0]!).description), /1 added, 1 modified, 0 deleted/);
    const top = children[1] as Extract<ImagesNode, { kind: 'layer' }>;
    assert.equal(top.kind, 'layer');
    assert.match(top.layer.createdBy, /^strata: writable layer of container /);
    assert.equal(children.length, 2 + 2, 'preview + writable layer + the RUN layer + busybox');

    const handle = await vscode.commands.executeCommand<string>('strata.containers.openWritableLayer', name);
    assert.ok(handle);
    await waitFor('the layer explorer panel', () => api.explorer.panels().some((p) => p.opened.handle === handle));
    const preview = await vscode.commands.executeCommand<{ wastedBytes: number; added: number }>('strata.containers.commitPreview', name);
    assert.equal(preview?.wastedBytes, 'hello\n'.length);
    assert.equal(preview?.added, 1);
  });
});
