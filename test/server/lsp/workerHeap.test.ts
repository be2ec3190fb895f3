/**
 * withSemiSpace: the diagnostics worker gets a 16–64 MB young generation even when the process runs with
 * `--max-semi-space-size=1` (as the extension client starts the server), and workers created afterwards get the
 * process's own setting back. The scenario runs in a child process started with that flag (this file, re-run).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { withSemiSpace } from '../../../server/src/lsp/workerHeap';

/** A worker that churns through short-lived objects, then reports its new space's capacity in MB. */
const CHURN = `const v8 = require('v8');
let keep = [];
for (let i = 0; i < 2e6; i++) { keep.push({ i }); if (keep.length > 1e5) keep = []; }
require('worker_threads').parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;

function newSpaceMb(create: () => Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = create();
    w.once('message', (mb: number) => {
      void w.terminate();
      resolve(mb);
    });
    w.once('error', reject);
  });
}

async function scenario(): Promise<void> {
  const before = await newSpaceMb(() => new Worker(CHURN, { eval: true }));
  const diagnostics = await newSpaceMb(() => withSemiSpace({ min: 16, max: 64 }, () => new Worker(CHURN, { eval: true })));
  const afterwards = await newSpaceMb(() => new Worker(CHURN, { eval: true }));
  let thrown = '';
  try {
    withSemiSpace({ min: 16, max: 64 }, () => {
      throw new Error('no worker');
    });
  } catch (e) {
    thrown = (e as Error).message;
  }
  const afterThrow = await newSpaceMb(() => new Worker(CHURN, { eval: true }));
  process.stdout.write(JSON.stringify({ before, diagnostics, afterwards, thrown, afterThrow }));
}

if (process.env.STRATA_WORKER_HEAP_SCENARIO === '1') {
  void scenario();
} else {
  describe('withSemiSpace', () => {
    it('under --max-semi-space-size=1: the diagnostics worker gets 16+ MB, workers before and after it stay small', () => {
      const r = spawnSync(process.execPath, ['--max-semi-space-size=1', __filename], {
        encoding: 'utf8', env: { ...process.env, STRATA_WORKER_HEAP_SCENARIO: '1', NODE_TEST_CONTEXT: '' },
      });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout) as { before: number; diagnostics: number; afterwards: number; thrown: string; afterThrow: number };
      assert.ok(got.before <= 3, `a worker before: ${got.before} MB`);
      assert.ok(got.diagnostics >= 16, `the diagnostics worker: ${got.diagnostics} MB`);
      assert.ok(got.afterwards <= 3, `a worker created after it: ${got.afterwards} MB`);
      assert.equal(got.thrown, 'no worker', 'a worker that cannot be created: the error reaches the caller');
      assert.ok(got.afterThrow <= 3, `and the flags are put back: ${got.afterThrow} MB`);
    });
  });
}
