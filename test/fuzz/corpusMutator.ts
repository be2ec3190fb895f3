/**
 * Seeded mutations of corpus Dockerfiles for the fuzz tests: the same seed gives the same sequence of documents, so
 * a failure is reproduced by its seed and iteration number.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CORPUS } from '../support/paths';

/** mulberry32: small, fast, good enough for test-input choice. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function loadCorpus(): { file: string; text: string }[] {
  const index = readFileSync(path.join(CORPUS, 'dockerfiles/FEATURES.tsv'), 'utf8').trim().split('\n').slice(1);
  return index.map((row) => {
    const file = row.split('\t')[0];
    return { file, text: readFileSync(path.join(CORPUS, 'dockerfiles', file), 'utf8') };
  });
}

/** Characters that matter to a Dockerfile lexer, plus ones that break naive code (NUL, lone surrogates, BOM, CR). */
const NASTY = ['\\', '`', '$', '{', '}', '"', "'", '[', ']', '<', '<<', '#', '\n', '\r', '\r\n', ' ', '\t', '=', ':', '-', '--', '\0', '\uD800', '\uDC00', '\uFEFF', '\u2028', 'é', '😀', 'A', 'RUN ', 'FROM ', '${', ':-'];
const ESCAPES = ['`', '\\', 'x', '', ' ', '``', '\\\\', '\uD800', '$', '#'];

export type Mutation = (text: string, r: () => number, corpus: { text: string }[]) => string;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const at = (r: () => number, text: string) => Math.floor(r() * (text.length + 1));

export const MUTATIONS: Record<string, Mutation> = {
  truncate: (t, r) => t.slice(0, at(r, t)),
  flip: (t, r) => {
    let s = t;
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) {
      const p = at(r, s);
      s = s.slice(0, p) + pick(r, NASTY) + s.slice(p + 1);
    }
    return s;
  },
  insert: (t, r) => {
    const p = at(r, t);
    return t.slice(0, p) + pick(r, NASTY) + t.slice(p);
  },
  unterminatedHeredoc: (t, r) => {
    const lines = t.split('\n');
    const i = Math.floor(r() * (lines.length + 1));
    lines.splice(i, 0, pick(r, ['RUN <<EOF', 'RUN <<-"EOT" bash', 'COPY <<A <<B /x', 'RUN cat <<EOF > /f && <<X', 'RUN <<\'EOF\'\n  body']));
    return lines.join('\n');
  },
  oddEscape: (t, r) => `# escape=${pick(r, ESCAPES)}\n${t}`,
  crlf: (t) => t.replace(/\r?\n/g, '\r\n'),
  loneCr: (t) => t.replace(/\r?\n/g, '\r'),
  bom: (t) => '\uFEFF' + t,
  nuls: (t, r) => {
    const p = at(r, t);
    return t.slice(0, p) + '\0'.repeat(1 + Math.floor(r() * 4)) + t.slice(p);
  },
  duplicate: (t, r) => {
    const a = at(r, t);
    const b = Math.min(t.length, a + Math.floor(r() * 400));
    return t.slice(0, b) + t.slice(a, b) + t.slice(b);
  },
  deleteLines: (t, r) => {
    const lines = t.split('\n');
    const i = Math.floor(r() * lines.length);
    lines.splice(i, 1 + Math.floor(r() * 5));
    return lines.join('\n');
  },
  splice: (t, r, corpus) => {
    const other = pick(r, corpus).text.split('\n');
    const lines = t.split('\n');
    const from = Math.floor(r() * other.length);
    lines.splice(Math.floor(r() * lines.length), 0, ...other.slice(from, from + 1 + Math.floor(r() * 10)));
    return lines.join('\n');
  },
  longLine: (t, r) => {
    const p = at(r, t);
    return t.slice(0, p) + pick(r, ['x', '$A ', 'a b ', '\\', '"']).repeat(2_000 + Math.floor(r() * 8_000)) + t.slice(p);
  },
  continuation: (t, r) => `${t}\nRUN echo \\\n${'  a $B \\\n'.repeat(50 + Math.floor(r() * 500))}  end${r() < 0.5 ? '\n' : ' \\\n'}`,
  jsonForm: (t, r) => `${t}\n${pick(r, ['CMD ["a", "b"', 'ENTRYPOINT [\'x\']', 'RUN ["sh", "-c", "echo ${X}"]', 'SHELL ["pwsh"', 'CMD [', 'HEALTHCHECK CMD ["a",'])}`,
};

const NAMES = Object.keys(MUTATIONS);

/** One to three mutations of a random corpus file; returns the text and a description for failure messages. */
export function mutate(r: () => number, corpus: { file: string; text: string }[]): { text: string; what: string } {
  const base = pick(r, corpus);
  let text = base.text;
  const applied: string[] = [];
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const name = pick(r, NAMES);
    text = MUTATIONS[name](text, r, corpus);
    applied.push(name);
  }
  return { text, what: `${base.file} + ${applied.join(',')}` };
}

/** STRATA_FUZZ_SCALE: 1 in `npm test`, 10 under `npm run fuzz`. */
export const FUZZ_SCALE = Math.max(1, Number(process.env.STRATA_FUZZ_SCALE ?? '1') || 1);
/** STRATA_FUZZ_SEED reproduces a failing run; each run prints its seed. */
export const FUZZ_SEED = Number(process.env.STRATA_FUZZ_SEED ?? '') || 20261125;

/**
 * Wall-clock budget of one fuzz test: 20 s × STRATA_FUZZ_SCALE, or STRATA_FUZZ_BUDGET_S seconds (e.g. 3600 to let
 * the in-process fuzz reach its full 100,000 files under `npm run fuzz` on a loaded machine).
 */
export const FUZZ_BUDGET_MS = (Number(process.env.STRATA_FUZZ_BUDGET_S ?? '') || 20 * FUZZ_SCALE) * 1000;
