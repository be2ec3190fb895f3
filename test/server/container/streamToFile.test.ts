/**
 * The error path of streamToFile: docker fails before the write stream has opened the file; streamToFile must settle
 * only after the pipeline has, or its removal of the partial file can run first (this failed on the code before).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { streamToFile } from '../../../server/src/container/streamToFile';

describe('streamToFile', () => {
  it('docker fails at once: its error only once the pipeline has settled, and no file left behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-stf-'));
    try {
      // A stage slow to close stands for a write stream still opening its file: the removal must come after it.
      let closed = false;
      const slow = new PassThrough({ destroy(err, cb) { setTimeout(() => { closed = true; cb(err); }, 50); } });
      const exited = Promise.reject(new Error('No such image: app:2'));
      exited.catch(() => undefined);
      await assert.rejects(streamToFile({ stream: new Readable({ read() {} }), exited }, [slow], path.join(dir, 'x.tar')), /No such image/);
      assert.equal(closed, true, 'settled before the pipeline closed');
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
