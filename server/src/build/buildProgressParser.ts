/**
 * Parses BuildKit's `--progress=plain` output into vertex events.
 *
 * The plain printer (moby/buildkit util/progress/progressui) writes blocks of `#<n> …` lines per vertex:
 *   `#4 [2/5] RUN npm ci`          header: the vertex started (or is re-announced after another vertex printed)
 *   `#4 sha256:…`                  digest (older printers)
 *   `#4 0.374 some output`         a log line, prefixed with seconds since the vertex started
 *   `#4 transferring context: 2B`  a status line (progress of a sub-task)
 *   `#4 DONE 1.4s` / `#4 CACHED` / `#4 ERROR: …` / `#4 CANCELED` / `#4 ...` (interrupted, continues later)
 * and free text for everything else (the failure summary, `failed to solve …`, warnings).
 *
 * Memory is bounded: per vertex we keep the last `logTailLines` log lines; callers that want the full log stream it.
 */

export type VertexState = 'running' | 'done' | 'cached' | 'error' | 'canceled';

export interface Vertex {
  /** BuildKit's per-build vertex number (`#4`). */
  id: number;
  /** `[stage 2/5] COPY …`, `[internal] load build context`, `exporting to image`. */
  name: string;
  state: VertexState;
  /** Parser clock (ms) when the header first appeared; from `now()`. */
  startedAt: number;
  /** From `DONE 1.4s` (BuildKit's own measurement), else parser clock on completion; 0 for CACHED. */
  durationMs: number | null;
  /** Last log lines (without the timestamp prefix). */
  logTail: string[];
  /** Total number of log lines seen (the tail may hold fewer). */
  logLines: number;
  error?: string;
}

export type ProgressEvent =
  | { type: 'vertex-start'; vertex: Vertex }
  | { type: 'vertex-log'; vertex: Vertex; text: string }
  | { type: 'vertex-status'; vertex: Vertex; text: string }
  | { type: 'vertex-end'; vertex: Vertex }
  /** A line that belongs to no vertex (error summary, warnings, `failed to solve`). */
  | { type: 'message'; text: string };

export interface ParserOptions {
  logTailLines?: number;
  /** Longest line kept (chars); longer lines are cut, so one huge line cannot exhaust memory. */
  maxLineChars?: number;
  now?: () => number;
}

const HEADER_NOISE = /^sha256:[0-9a-f]{64}$/;
const DONE = /^DONE (\d+(?:\.\d+)?)s$/;

export class BuildProgressParser {
  readonly vertices = new Map<number, Vertex>();
  /** Free-text lines, bounded (the last 200). */
  readonly messages: string[] = [];
  private partial = '';
  private readonly tail: number;
  private readonly maxLine: number;
  private readonly now: () => number;

  constructor(private readonly emit: (e: ProgressEvent) => void = () => undefined, opts: ParserOptions = {}) {
    this.tail = opts.logTailLines ?? 40;
    this.maxLine = opts.maxLineChars ?? 4096;
    this.now = opts.now ?? Date.now;
  }

  /** Feeds a chunk of output (any split; CRLF tolerated). */
  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > this.maxLine * 4) {
      // A line with no newline in sight: handle what we have rather than buffer without limit.
      lines.push(this.partial);
      this.partial = '';
    }
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  /** Vertices in the order they started. */
  list(): Vertex[] {
    return [...this.vertices.values()];
  }

  private line(raw: string): void {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length > this.maxLine) line = line.slice(0, this.maxLine) + '…';
    // Hand-rolled prefix parsing: this runs once per output line of chatty builds (see bench/build.bench.ts).
    const space = line.charCodeAt(0) === 35 /* # */ ? line.indexOf(' ') : -1;
    const id = space > 1 ? digitsValue(line, 1, space) : -1;
    if (id < 0) {
      if (line.trim() === '') return;
      this.messages.push(line);
      if (this.messages.length > 200) this.messages.shift();
      this.emit({ type: 'message', text: line });
      return;
    }
    const rest = line.slice(space + 1);
    let v = this.vertices.get(id);
    if (!v) {
      // The first line of a vertex is its name.
      v = { id, name: rest, state: 'running', startedAt: this.now(), durationMs: null, logTail: [], logLines: 0 };
      this.vertices.set(id, v);
      this.emit({ type: 'vertex-start', vertex: v });
      return;
    }
    // Log lines first: they are nearly all of a chatty build's output.
    const logStart = timestampEnd(rest);
    if (logStart > 0) {
      const text = rest.slice(logStart);
      v.logLines++;
      v.logTail.push(text);
      if (v.logTail.length > this.tail) v.logTail.shift();
      this.emit({ type: 'vertex-log', vertex: v, text });
      return;
    }
    if (rest === v.name || rest === '...' || HEADER_NOISE.test(rest)) return;
    const done = DONE.exec(rest);
    if (done) {
      v.state = 'done';
      v.durationMs = Math.round(Number(done[1]) * 1000);
      this.emit({ type: 'vertex-end', vertex: v });
      return;
    }
    if (rest === 'CACHED') {
      v.state = 'cached';
      v.durationMs = 0;
      this.emit({ type: 'vertex-end', vertex: v });
      return;
    }
    if (rest === 'CANCELED') {
      v.state = 'canceled';
      v.durationMs = this.now() - v.startedAt;
      this.emit({ type: 'vertex-end', vertex: v });
      return;
    }
    if (rest.startsWith('ERROR: ') || rest === 'ERROR') {
      v.state = 'error';
      v.error = rest.slice(7).trim() || 'failed';
      v.durationMs = this.now() - v.startedAt;
      this.emit({ type: 'vertex-end', vertex: v });
      return;
    }
    this.emit({ type: 'vertex-status', vertex: v, text: rest });
  }
}

/** The number written with digits in line[from, to), or -1 if anything else is there. */
function digitsValue(line: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** For `12.345 text` (a log line's timestamp), the index where `text` starts; else -1. */
function timestampEnd(rest: string): number {
  let i = 0;
  while (i < rest.length && rest.charCodeAt(i) >= 48 && rest.charCodeAt(i) <= 57) i++;
  if (i === 0 || rest.charCodeAt(i) !== 46 /* . */) return -1;
  const frac = ++i;
  while (i < rest.length && rest.charCodeAt(i) >= 48 && rest.charCodeAt(i) <= 57) i++;
  if (i === frac || rest.charCodeAt(i) !== 32 /* space */) return -1;
  return i + 1;
}

/**
 * The builder's own error about the Dockerfile (parse errors, unknown stage…) with its line when it says one.
 * Covers 20.10 (`dockerfile parse error line 3: …`), newer (`dockerfile parse error on line 3: …`) and the
 * `Dockerfile:3` context block newer clients print above `ERROR: failed to solve: …`.
 */
export function builderError(messages: string[]): { line: number | null; message: string } | null {
  let line: number | null = null;
  let message: string | null = null;
  for (const m of messages) {
    const parse = /parse error (?:on )?line (\d+): (.*)$/.exec(m);
    if (parse) {
      line = Number(parse[1]);
      message = `dockerfile parse error: ${parse[2]}`;
      continue;
    }
    const ctx = /^(?:\S*[\\/])?[^\s:]*:(\d+)$/.exec(m.trim());
    if (ctx && /ockerfile|ontainerfile/.test(m)) line ??= Number(ctx[1]);
    const solve = /(?:^ERROR: )?failed to solve(?: with frontend [^:]+)?: (.*)$/.exec(m);
    if (solve) message ??= solve[1]!.replace(/^failed to create LLB definition: /, '');
    const err = /^(?:ERROR|error): (.*)$/.exec(m);
    if (err && !solve) message ??= err[1]!;
  }
  return message === null && line === null ? null : { line, message: message ?? 'build failed' };
}
