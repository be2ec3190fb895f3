/**
 * FileStampCache on a real temporary folder, its fs calls counted: an unchanged file is read once, a changed,
 * recently written, deleted or oversized one is not served from the cache.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStampCache, type AsyncStampFs, type StampFs } from '../../../server/src/rules/fileStampCache';
import { MAX_CONTEXT_FILE_BYTES } from '../../../server/src/rules/fsContextReader';

describe('FileStampCache', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'strata-stamp-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const counted = () => {
    const reads: string[] = [];
    const fs: StampFs = {
      stat: (p) => statSync(p, { throwIfNoEntry: false }),
      readFile: (p) => { reads.push(path.basename(p)); return readFileSync(p, 'utf8'); },
    };
    return { cache: new FileStampCache(fs), reads };
  };
  const writeOld = (file: string, text: string) => {
    writeFileSync(file, text);
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(file, old, old);
  };

  it('reads an unchanged file once, and again after it changes', () => {
    const { cache, reads } = counted();
    const f = path.join(dir, '.strata.json');
    writeOld(f, '{"rules":{}}');
    assert.equal(cache.read(f), '{"rules":{}}');
    assert.equal(cache.read(f), '{"rules":{}}', 'a second read of an unchanged file is served from the cache');
    assert.deepEqual(reads, ['.strata.json']);
    writeFileSync(f, '{"rules":{"a":"off"}}');
    assert.equal(cache.read(f), '{"rules":{"a":"off"}}');
    assert.equal(reads.length, 2);
  });

  it('does not trust a read of a file written moments before (coarse timestamps)', () => {
    const { cache, reads } = counted();
    const f = path.join(dir, 'fresh.yaml');
    writeFileSync(f, 'a: 1\n');
    assert.equal(cache.read(f), 'a: 1\n');
    assert.equal(cache.read(f), 'a: 1\n');
    assert.equal(reads.length, 2);
  });

  it('absent, deleted, directory and oversized files read as undefined', () => {
    const { cache } = counted();
    const f = path.join(dir, '.dockerignore');
    assert.equal(cache.read(f), undefined);
    writeOld(f, 'x\n');
    assert.equal(cache.read(f), 'x\n');
    unlinkSync(f);
    assert.equal(cache.read(f), undefined);
    assert.equal(cache.read(dir), undefined);
    assert.equal(cache.read(path.join(f, 'below-a-missing-file')), undefined);
    const big = path.join(dir, 'big');
    writeOld(big, 'x'.repeat(MAX_CONTEXT_FILE_BYTES + 1));
    assert.equal(cache.read(big), undefined);
  });

  it('readAsync gives the same answers as read, from the same cache', async () => {
    const { cache, reads } = counted();
    const f = path.join(dir, '.hadolint.yaml');
    writeOld(f, 'ignored: []\n');
    assert.equal(cache.read(f), 'ignored: []\n');
    assert.equal(await cache.readAsync(f), 'ignored: []\n');
    assert.deepEqual(reads, ['.hadolint.yaml'], 'an unchanged file is served from the cache');
    writeOld(f, 'ignored: [DL3008]\n');
    assert.equal(await cache.readAsync(f), 'ignored: [DL3008]\n');
    assert.equal(cache.read(f), 'ignored: [DL3008]\n');
    assert.equal(reads.length, 1, 'the async read refreshed the cache (its own reads are not counted)');
    unlinkSync(f);
    assert.equal(await cache.readAsync(f), undefined);
    assert.equal(await cache.readAsync(dir), undefined);
    assert.equal(await cache.readAsync(path.join(dir, 'missing', 'below')), undefined);
  });
  it('readAsync: a failing stat or read answers undefined and drops the cached text', async () => {
    const f = path.join(dir, '.strata.yaml');
    writeOld(f, 'rules: {}\n');
    const reads: string[] = [];
    const fail = { stat: false, read: false };
    const denied = () => Object.assign(new Error('EACCES'), { code: 'EACCES' });
    const asyncFs: AsyncStampFs = {
      stat: async (p) => { if (fail.stat) throw denied(); return statSync(p); },
      readFile: async (p) => { if (fail.read) throw denied(); return readFileSync(p, 'utf8'); },
    };
    const cache = new FileStampCache({
      stat: (p) => statSync(p, { throwIfNoEntry: false }),
      readFile: (p) => { reads.push(path.basename(p)); return readFileSync(p, 'utf8'); },
    }, asyncFs);
    assert.equal(cache.read(f), 'rules: {}\n');
    fail.stat = true;
    assert.equal(await cache.readAsync(f), undefined);
    assert.equal(cache.read(f), 'rules: {}\n');
    assert.equal(reads.length, 2, 'the failed stat dropped the entry: the sync read read the file again');
    fail.stat = false;
    writeOld(f, 'rules: {a: off}\n');
    fail.read = true;
    assert.equal(await cache.readAsync(f), undefined);
    assert.equal(cache.read(f), 'rules: {a: off}\n');
    assert.equal(reads.length, 3, 'the next read reads the file');
  });
});
