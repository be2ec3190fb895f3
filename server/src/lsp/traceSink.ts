/**
 * Where `STRATA_TRACE_DIAGNOSTICS` sends each diagnostics run's trace line: `1` → an LSP log message (the editor's
 * output panel); an absolute file path → appended to that file. The benchmark uses a file: a log message is one
 * more pipe write right after each publish, and on a small VM that write (waking the client) costs more than the
 * check itself, so a traced run would measure the tracing (bench/lsp.bench.ts). Null when tracing is off.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import * as path from 'node:path';

export type TraceSink = (line: string) => void;

export function traceSink(setting: string | undefined, log: (line: string) => void): TraceSink | null {
  if (!setting || setting === '0') return null;
  if (!path.isAbsolute(setting)) return log;
  let fd: number | null;
  try {
    fd = openSync(setting, 'a');
  } catch (e) {
    log(`STRATA_TRACE_DIAGNOSTICS: cannot open ${setting} (${(e as Error).message}); traces go to the log`);
    return log;
  }
  process.once('exit', () => {
    if (fd !== null) closeSync(fd);
    fd = null;
  });
  // Synchronous: a file write wakes no reader (~5 µs here), and a trace is never lost in a buffer when the server dies.
  // A failed write (disk full, file gone) must not fail the diagnostics run it describes: traces go to the log then.
  return (line) => {
    if (fd !== null) {
      try {
        writeSync(fd, line + '\n');
        return;
      } catch (e) {
        log(`STRATA_TRACE_DIAGNOSTICS: writing ${setting} failed (${(e as Error).message}); traces go to the log`);
        closeSync(fd);
        fd = null;
      }
    }
    log(line);
  };
}
