import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { MAIN_THREAD_LIMITS, MainThreadPolicy, mainThreadLimitsFromEnv } from '../../../server/src/lsp/mainThreadPolicy';

const small = 'FROM alpine\nRUN echo hi\n';
const WORKER = false;
const MAIN = true;

describe('MainThreadPolicy', () => {
  it('sends a document\'s first check to the worker, and moves it to the main thread after two cheap checks', () => {
    const p = new MainThreadPolicy();
    assert.equal(p.runsOnMain('a', small, false), false, 'first check: cost unknown');
    p.record('a', small.length, 5, true, WORKER); // the first (full) check
    assert.equal(p.runsOnMain('a', small, false), false, 'its only check took over maxMs');
    p.record('a', small.length, 0.4, false, WORKER);
    assert.equal(p.runsOnMain('a', small, false), false, 'one cheap check is not enough to move');
    p.record('a', small.length, 0.5, false, WORKER);
    assert.equal(p.runsOnMain('a', small, false), true, 'two in a row; taking over costs a full check: 5 ms is under maxFullMs');
    p.record('a', small.length, 0.6, true, MAIN);
    assert.equal(p.runsOnMain('a', small, true), true);
  });

  it('takes a document over (a full check on the main thread) only if its full check was cheap', () => {
    const p = new MainThreadPolicy();
    p.record('a', small.length, MAIN_THREAD_LIMITS.maxFullMs + 1, true, WORKER);
    p.record('a', small.length, 0.5, false, WORKER); // incremental checks in the worker are cheap…
    p.record('a', small.length, 0.5, false, WORKER);
    assert.equal(p.runsOnMain('a', small, false), false, '…but the main thread would start from nothing');
    assert.equal(p.runsOnMain('a', small, true), true, 'with an analysis on the main thread, an incremental check is cheap');
  });

  it('keeps a document on the main thread through jitter, and moves it after two slow checks or one very slow one', () => {
    const p = new MainThreadPolicy();
    const l = MAIN_THREAD_LIMITS;
    p.record('a', small.length, 1, true, MAIN);
    p.record('a', small.length, 1.5 * l.maxMs, false, MAIN);
    assert.equal(p.runsOnMain('a', small, true), true, 'one check over maxMs (a GC pause, a lost core) does not move it');
    p.record('a', small.length, 1.5 * l.maxMs, false, MAIN);
    assert.equal(p.runsOnMain('a', small, true), true, 'nor do checks under 2 × maxMs');
    p.record('a', small.length, 2 * l.maxMs, false, MAIN);
    p.record('a', small.length, 2 * l.maxMs, false, MAIN);
    assert.equal(p.runsOnMain('a', small, true), false, 'two in a row over 2 × maxMs do');
    p.record('a', small.length, 1.5 * l.maxMs, false, WORKER);
    p.record('a', small.length, 1.5 * l.maxMs, false, WORKER);
    assert.equal(p.runsOnMain('a', small, true), false, 'in the worker, checks between maxMs and 2 × maxMs keep it there');
    p.record('a', small.length, 0.5, false, WORKER);
    p.record('a', small.length, 0.5, false, WORKER);
    assert.equal(p.runsOnMain('a', small, true), true, 'cheap again: back on the main thread');
    p.record('a', small.length, l.maxSpikeMs, false, MAIN);
    assert.equal(p.runsOnMain('a', small, true), false, 'a check over maxSpikeMs moves it at once');
  });

  it('keeps big documents and pasted text in the worker', () => {
    const p = new MainThreadPolicy();
    const big = 'x'.repeat(MAIN_THREAD_LIMITS.maxChars + 1);
    p.record('big', big.length, 0.1, true, WORKER);
    p.record('big', big.length, 0.1, false, WORKER);
    assert.equal(p.runsOnMain('big', big, true), false, 'over maxChars');
    p.record('a', small.length, 0.1, true, MAIN);
    p.record('a', small.length, 0.1, false, MAIN);
    const pasted = small + 'RUN x\n'.repeat(MAIN_THREAD_LIMITS.maxGrowth / 4);
    assert.equal(p.runsOnMain('a', pasted, true), false, 'grew by more than maxGrowth');
    assert.equal(p.runsOnMain('a', small + 'RUN x\n', true), true, 'a few characters typed');
  });

  it('forgets a document (didClose): its next check is a first check again', () => {
    const p = new MainThreadPolicy();
    p.record('a', small.length, 0.1, true, MAIN);
    p.forget('a');
    assert.equal(p.runsOnMain('a', small, true), false);
  });

  it('reads STRATA_DIAGNOSTICS_MAIN_THREAD: 0 = never, always = whatever the cost (size limit kept)', () => {
    assert.equal(mainThreadLimitsFromEnv({}), MAIN_THREAD_LIMITS);
    assert.equal(mainThreadLimitsFromEnv({ STRATA_DIAGNOSTICS_MAIN_THREAD: '0' }), false);
    const always = mainThreadLimitsFromEnv({ STRATA_DIAGNOSTICS_MAIN_THREAD: 'always' });
    assert.ok(always);
    const p = new MainThreadPolicy(always);
    p.record('a', small.length, 500, true, WORKER);
    assert.equal(p.runsOnMain('a', small, false), true);
    assert.equal(p.runsOnMain('a', 'x'.repeat(MAIN_THREAD_LIMITS.maxChars + 1), true), false);
  });
});
