import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT } from '../support/paths';

/**
 * `server/` is the engine shared by the language server and the CLI; it runs outside VS Code, so it must never
 * import `vscode` — directly, or through client/ or webview/ code.
 */

const VSCODE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]vscode['"]/m;

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.(ts|mts|cts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The graph esbuild sees from every server entry point (npm packages external, as in the real bundles). */
async function serverImportGraph(): Promise<esbuild.Metafile> {
  const entries = ['server/src/server.ts', 'server/src/cli.ts', 'server/src/image/imageWorker.ts']
    .map((p) => path.join(ROOT, p)).filter((p) => fs.existsSync(p));
  const r = await esbuild.build({
    entryPoints: entries, bundle: true, write: false, metafile: true, outdir: path.join(ROOT, 'out/arch-check'),
    platform: 'node', format: 'cjs', packages: 'external', logLevel: 'silent',
  });
  return r.metafile;
}

describe('architecture: server/ never imports vscode', () => {
  it('the import detector recognises every import form (so the scan below can fail)', () => {
    for (const bad of ["import * as vscode from 'vscode';", 'import { window } from "vscode"', "const v = require('vscode');",
      "await import('vscode')", "import 'vscode';", "export { Uri } from 'vscode';"]) {
      assert.ok(VSCODE_IMPORT.test(bad), bad);
    }
    for (const ok of ["import * as x from 'vscode-languageserver';", "import { TextDocument } from 'vscode-languageserver-textdocument';",
      "// mentions vscode in a comment", "const s = 'vscode';"]) {
      assert.ok(!VSCODE_IMPORT.test(ok), ok);
    }
  });

  it('no source file under server/ imports vscode', () => {
    const files = walk(path.join(ROOT, 'server'));
    assert.ok(files.length > 10, `only ${files.length} files under server/`);
    const offenders = files.filter((f) => VSCODE_IMPORT.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
    assert.deepEqual(offenders, []);
  });

  it('the bundled server, CLI and workers reach neither vscode nor client/ or webview/ code', async () => {
    const meta = await serverImportGraph();
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.some((i) => i.endsWith('server/src/server.ts')), 'the server entry was not bundled');
    const foreign = inputs.filter((i) => /(^|\/)(client|webview)\/src\//.test(i));
    assert.deepEqual(foreign, [], 'server bundles pull in extension-side code');
    const vscodeImports = Object.entries(meta.inputs).flatMap(([file, info]) =>
      info.imports.filter((imp) => imp.path === 'vscode').map(() => file));
    assert.deepEqual(vscodeImports, []);
  });
});
