/**
 * Loads syntaxes/dockerfile.tmLanguage.json into vscode-textmate with the real Oniguruma (WASM) — the same engine
 * VS Code uses — and tokenises text line by line as the editor does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INITIAL, Registry, parseRawGrammar, type IGrammar, type StateStack } from 'vscode-textmate';
import { OnigScanner, OnigString, loadWASM } from 'vscode-oniguruma';
import { ROOT } from '../../support/paths';

export const SCOPE = 'source.dockerfile.strata';
let grammar: Promise<IGrammar> | undefined;

function load(): Promise<IGrammar> {
  grammar ??= (async () => {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (sources: string[]) => new OnigScanner(sources),
        createOnigString: (s: string) => new OnigString(s),
      }),
      loadGrammar: async (scopeName: string) => {
        if (scopeName !== SCOPE) return null; // source.shell (embedded) is VS Code's; not needed for our scopes
        const file = path.join(ROOT, 'syntaxes/dockerfile.tmLanguage.json');
        return parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
      },
    });
    const g = await registry.loadGrammar(SCOPE);
    if (!g) throw new Error('grammar did not load');
    return g;
  })();
  return grammar;
}

export interface Token {
  line: number;
  text: string;
  scopes: string[];
}

/**
 * Tokens of `text`. Lines are split on "\n" only, so a CRLF file keeps its "\r" at line ends — what hosts that do
 * not normalise line endings hand to the grammar (VS Code itself strips them).
 */
export async function tokenize(text: string): Promise<Token[]> {
  const g = await load();
  const out: Token[] = [];
  let state: StateStack = INITIAL;
  text.split('\n').forEach((line, i) => {
    const r = g.tokenizeLine(line, state);
    for (const t of r.tokens) out.push({ line: i, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    state = r.ruleStack;
  });
  return out;
}

/** The scopes of the first token (from line `line`, if given) whose text is `text`. */
export function scopesOf(tokens: Token[], text: string, line?: number): string[] {
  // A CRLF file's "\r" is part of the last token of each line; compare without it.
  const t = tokens.find((x) => x.text.replace(/\r$/, '') === text && (line === undefined || x.line === line));
  if (!t) {
    const seen = tokens.filter((x) => line === undefined || x.line === line).map((x) => JSON.stringify(x.text)).join(' ');
    throw new Error(`no token ${JSON.stringify(text)}${line === undefined ? '' : ` on line ${line}`}; tokens: ${seen}`);
  }
  return t.scopes;
}

/** Tokens rendered as `text<TAB>scopes` lines (minus the root scope), for readable failure messages. */
export function dump(tokens: Token[]): string {
  return tokens.map((t) => `${t.line}: ${JSON.stringify(t.text)}\t${t.scopes.slice(1).join(' ')}`).join('\n');
}
