import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import {
  BuildProgressNotification,
  BuildRequest,
  type BuildProgressParams,
  type BuildResultInfo,
} from '../../server/src/protocol/lspMessages';
import { LspSession } from '../support/lspSession';

/**
 * The Build command's path without VS Code: the real bundled server (dist/server.js) runs `strata/build` on the real
 * engine and streams step progress (what the extension turns into `[3/7] RUN …`, line annotations and diagnostics).
 */
const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';

function project(dockerfile: string): { dir: string; state: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-lsp-build-'));
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  return { dir, state: path.join(dir, '.state') };
}

describe('strata/build over LSP on the real engine', () => {
  const session = new LspSession();
  const progress: BuildProgressParams[] = [];
  session.connection.onNotification(BuildProgressNotification, (p) => { progress.push(p); });
  after(() => session.close());

  it('streams steps (running → done/error with lines), output lines, and returns the failure diagnostic', async () => {
    await session.initialize();
    const p = project(`FROM ${BASE}\nRUN echo lsp-${process.pid}-${Date.now()}\nRUN echo boom >&2; \\\n  exit 7\n`);
    const r: BuildResultInfo = await session.connection.sendRequest(BuildRequest, {
      buildId: 'b1', dockerfile: path.join(p.dir, 'Dockerfile'), context: p.dir, target: null, buildArgs: {}, tags: [], stateDir: p.state,
    });
    assert.equal(r.exitCode, 1);
    assert.equal(r.error, null);
    assert.deepEqual(r.diagnostics.map((d) => [d.line, d.endLine, d.code]), [[3, 4, 'build/step-failed']]);
    assert.match(r.diagnostics[0]!.message, /exit code: 7/);
    assert.match(r.diagnostics[0]!.message, /boom/);
    const mine = progress.filter((x) => x.buildId === 'b1');
    const steps = mine.flatMap((x) => (x.kind === 'step' ? [x.step] : []));
    const run2 = steps.filter((s) => s.line === 2).map((s) => s.state);
    assert.deepEqual(run2, ['running', 'done']);
    const run3 = steps.filter((s) => s.line === 3);
    assert.deepEqual(run3.map((s) => s.state), ['running', 'error']);
    assert.equal(run3[0]!.index, 3);
    assert.equal(run3[0]!.total, 3);
    const lines = mine.flatMap((x) => (x.kind === 'output' ? x.lines : []));
    assert.ok(lines.some((l) => /boom/.test(l)), 'the plain log is streamed');
    assert.ok(r.recordFile);
  });

  it('cancelling the request stops the build; the running step ends canceled', async () => {
    const p = project(`FROM ${BASE}\nRUN echo slow-${process.pid}-${Date.now()}; sleep 60\n`);
    const cts = new CancellationTokenSource();
    const started = Date.now();
    const sub = session.connection.onNotification(BuildProgressNotification, (x) => {
      if (x.buildId === 'b2' && x.kind === 'step' && x.step.line === 2 && x.step.state === 'running') setTimeout(() => cts.cancel(), 500);
    });
    const r: BuildResultInfo = await session.connection.sendRequest(BuildRequest, {
      buildId: 'b2', dockerfile: path.join(p.dir, 'Dockerfile'), context: p.dir, target: null, buildArgs: {}, tags: [], stateDir: p.state,
    }, cts.token);
    sub.dispose();
    assert.ok(Date.now() - started < 30_000);
    assert.equal(r.cancelled, true);
    assert.notEqual(r.exitCode, 0);
    assert.equal(r.steps.find((s) => s.line === 2)?.outcome, 'canceled');
  });

  it('expected failures come back as `error`, not as a dead request: missing context, missing docker', async () => {
    const p = project(`FROM ${BASE}\n`);
    const a: BuildResultInfo = await session.connection.sendRequest(BuildRequest, {
      buildId: 'b3', dockerfile: path.join(p.dir, 'Dockerfile'), context: '/nonexistent/ctx', target: null, buildArgs: {}, tags: [], stateDir: p.state,
    });
    assert.match(a.error!, /build context folder does not exist/);
    const b: BuildResultInfo = await session.connection.sendRequest(BuildRequest, {
      buildId: 'b4', dockerfile: path.join(p.dir, 'Dockerfile'), context: p.dir, target: null, buildArgs: {}, tags: [], stateDir: p.state,
      dockerPath: '/nonexistent/docker',
    });
    assert.match(b.error!, /docker client "\/nonexistent\/docker" not found/);
    assert.doesNotMatch(session.stderr, /at .*\.js:\d+/);
  });
});
