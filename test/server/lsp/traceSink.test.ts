/** Where STRATA_TRACE_DIAGNOSTICS sends trace lines: off, the LSP log, or a file (appended, one line per trace). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { traceSink } from '../../../server/src/lsp/traceSink';

describe('traceSink', () => {
  it('is off when unset or 0', () => {
    assert.equal(traceSink(undefined, () => undefined), null);
    assert.equal(traceSink('', () => undefined), null);
    assert.equal(traceSink('0', () => undefined), null);
  });

  it('1 (or any value that is not an absolute path) logs through the LSP log', () => {
    const logged: string[] = [];
    traceSink('1', (l) => logged.push(l))!('a');
    traceSink('relative/file.log', (l) => logged.push(l))!('b');
    assert.deepEqual(logged, ['a', 'b']);
  });

  it('an absolute path appends each line to that file, after what it held', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-trace-'));
    try {
      const file = path.join(dir, 'trace.log');
      writeFileSync(file, 'earlier\n');
      const logged: string[] = [];
      const sink = traceSink(file, (l) => logged.push(l))!;
      sink('diagnostics trace v2: x');
      sink('diagnostics trace v3: y');
      assert.equal(readFileSync(file, 'utf8'), 'earlier\ndiagnostics trace v2: x\ndiagnostics trace v3: y\n');
      assert.deepEqual(logged, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file that cannot be opened says so in the log and traces go there', () => {
    const logged: string[] = [];
    const sink = traceSink('/proc/strata-no-such-dir/trace.log', (l) => logged.push(l))!;
    sink('t');
    assert.match(logged[0]!, /cannot open \/proc\/strata-no-such-dir\/trace\.log/);
    assert.equal(logged[1], 't');
  });

  it('a write that fails (a full disk: /dev/full) says so once in the log, and later traces go there', () => {
    const logged: string[] = [];
    const sink = traceSink('/dev/full', (l) => logged.push(l))!;
    sink('t1');
    sink('t2');
    assert.equal(logged.length, 3, JSON.stringify(logged));
    assert.match(logged[0]!, /writing \/dev\/full failed \(ENOSPC/);
    assert.deepEqual(logged.slice(1), ['t1', 't2']);
  });
});
