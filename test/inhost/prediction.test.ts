import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import type { PredictionResult } from '../../server/src/protocol/lspMessages';
import { serverPids } from './serverProcess';
import { openEditor, setText, strata, waitFor, workspaceRoot, writeWorkspaceFile } from './strataHost';

/**
 * The cache prediction as a user sees it in a real VS Code, against a baseline recorded by a real build on the test
 * engine: the CodeLens titles before any build (no baseline, never a guessed hit), after "Strata: Build Image" (hits),
 * after a build-context file changes on disk (the file watcher → the server rehashes → the COPY misses and names the
 * file, the next RUN names the line), the same texts as inlay hints, `strata.showPrediction` with build args updating
 * the status bar, those choices surviving a server restart, and the status bar with annotations off. Needs the test
 * engine's environment (DOCKER_HOST…), like build.test.ts.
 */
const BASE = process.env.STRATA_TEST_BASE_IMAGE ?? 'strata-test/busybox:1';
/** Generous: two cores shared by several engineers, and the server polls build records every 3 s. */
const SLOW = 90_000;

type BuildResult = { exitCode: number; error: string | null } | undefined;

/** Strata's prediction lenses of a document as `line (1-based) → title` (other providers' lenses are ignored). */
async function lensTitles(uri: vscode.Uri): Promise<Map<number, string>> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
  const out = new Map<number, string>();
  for (const l of lenses ?? []) {
    if (l.command?.command === 'strata.showPrediction') out.set(l.range.start.line + 1, l.command.title);
  }
  return out;
}

/** The inlay hints of the whole document as `line (1-based) → label text`. */
async function hintTexts(doc: vscode.TextDocument): Promise<Map<number, string>> {
  const range = new vscode.Range(0, 0, doc.lineCount, 0);
  const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', doc.uri, range);
  const out = new Map<number, string>();
  for (const h of hints ?? []) {
    out.set(h.position.line + 1, typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join(''));
  }
  return out;
}

/** Polls the lenses until `ok` accepts them; the failure message shows the last titles seen. */
async function waitForLenses(what: string, uri: vscode.Uri, ok: (t: Map<number, string>) => boolean): Promise<Map<number, string>> {
  let last = new Map<number, string>();
  try {
    return await waitFor(what, async () => {
      last = await lensTitles(uri);
      return ok(last) ? last : undefined;
    }, SLOW);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last lenses: ${JSON.stringify([...last])}`);
  }
}

async function waitForStatus(text: string): Promise<void> {
  const api = await strata();
  let last = api.prediction.status();
  try {
    await waitFor(`the status bar to read ${JSON.stringify(text)}`, () => {
      last = api.prediction.status();
      return last.visible && last.text === text;
    }, SLOW);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last)}`);
  }
}

function docker(args: string[]): Promise<void> {
  return new Promise((resolve) => execFile(process.env.STRATA_DOCKER ?? '/usr/bin/docker', args, () => resolve()));
}

suite('Strata: cache prediction in the editor', function () {
  const stamp = `${Date.now()}`;
  const tag = `strata-inhost-prediction-${stamp}:1`;

  suiteSetup(async function () {
    if (!process.env.DOCKER_HOST) {
      // Stated reason, not a silent pass: the baseline needs a real build, and without the engine variables it would
      // run against the user's default engine.
      this.skip();
    }
    await strata();
  });

  suiteTeardown(async function () {
    this.timeout(60_000);
    await vscode.workspace.getConfiguration('strata').update('annotations', undefined, vscode.ConfigurationTarget.Global);
    if (process.env.DOCKER_HOST) await docker(['image', 'rm', '-f', tag]);
  });

  test('no baseline → build → hits → a context file changes → miss with its cause; inlay hints; build args in the status bar', async function () {
    this.timeout(420_000);
    const dir = `prediction-${stamp}`;
    // Lines: 1 FROM, 2 ARG (config only), 3 RUN using the ARG, 4 COPY of a context file, 5 RUN after it.
    const dockerfile = await writeWorkspaceFile(`${dir}/Dockerfile`, [
      `FROM ${BASE}`,
      'ARG FLAVOR=plain',
      `RUN echo "$FLAVOR-${stamp}" > /flavor`,
      'COPY input.txt /input.txt',
      'RUN cat /input.txt /flavor',
      '',
    ].join('\n'));
    const input = vscode.Uri.joinPath(workspaceRoot(), dir, 'input.txt');
    await vscode.workspace.fs.writeFile(input, new TextEncoder().encode('one\n'));
    const doc = await openEditor(dockerfile);
    const layerLines = [1, 3, 4, 5];

    // 1. Before any build: every step says there is no baseline — never a guessed hit.
    const before = await waitForLenses('the first prediction lenses', dockerfile, (t) => t.size === 5);
    for (const line of layerLines) {
      assert.match(before.get(line)!, /no baseline: build once with Strata: Build Image/, `line ${line}`);
      assert.doesNotMatch(before.get(line)!, /cache hit/, `line ${line}`);
    }
    assert.equal(before.get(2), 'config only');
    await waitForStatus('$(layers) cache: no baseline');

    // 2. Build through the extension's command (as a user would from the palette): the server records the baseline.
    const built = await vscode.commands.executeCommand<BuildResult>('strata.build', { dockerfile: dockerfile.fsPath, tags: [tag] });
    assert.equal(built?.exitCode, 0, built?.error ?? 'the build did not run');

    // 3. The server notices the new record by itself; every layer step now reads `cache hit`, with its layer size.
    const hits = await waitForLenses('cache hits after the build', dockerfile, (t) => layerLines.every((l) => /cache hit$/.test(t.get(l) ?? '')));
    assert.match(hits.get(1)!, /^base( · [^·]+)? · cache hit$/);
    for (const line of [3, 4, 5]) assert.match(hits.get(line)!, /^layer · \d+(\.\d)? (B|kB|MB) · cache hit$/, `line ${line}`);
    assert.equal(hits.get(2), 'config only');
    await waitForStatus('$(layers) 4 hit · 0 miss');

    // 4. Change the copied file on disk (not in an editor): the file watcher tells the server after its debounce.
    await vscode.workspace.fs.writeFile(input, new TextEncoder().encode('two\n'));
    const miss = await waitForLenses('the COPY to miss after input.txt changed', dockerfile, (t) => /miss/.test(t.get(4) ?? ''));
    assert.equal(miss.get(4), 'layer · cache miss: input.txt changed');
    assert.equal(miss.get(5), 'layer · re-runs: line 4 missed');
    assert.match(miss.get(3)!, /cache hit$/, 'the RUN before the COPY still hits');
    await waitForStatus('$(layers) 2 hit · 2 miss');
    const hover = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', dockerfile, new vscode.Position(3, 1));
    const hoverText = (hover ?? []).flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(hoverText, /input\.txt changed since the last build/);

    // 5. The same texts as inlay hints (setting `strata.annotations`); the lenses go away.
    await vscode.workspace.getConfiguration('strata').update('annotations', 'inlayHints', vscode.ConfigurationTarget.Global);
    const hints = await waitFor('inlay hints instead of lenses', async () => {
      const h = await hintTexts(doc);
      return h.size === 5 && (await lensTitles(dockerfile)).size === 0 ? h : undefined;
    }, SLOW);
    assert.deepEqual([...hints].sort((a, b) => a[0] - b[0]), [...miss].sort((a, b) => a[0] - b[0]));
    await vscode.workspace.getConfiguration('strata').update('annotations', 'codelens', vscode.ConfigurationTarget.Global);
    await waitForLenses('the lenses back', dockerfile, (t) => t.size === 5);

    // 6. `strata.showPrediction` with build args (what its picker sends). A value equal to the ARG's default changes
    //    nothing; another value re-runs the RUN that sees it, and the status bar follows.
    const same = await vscode.commands.executeCommand<PredictionResult | undefined>('strata.showPrediction', { dockerfile: dockerfile.fsPath, buildArgs: { FLAVOR: 'plain' } });
    assert.deepEqual(same?.buildArgs, { FLAVOR: 'plain' });
    assert.deepEqual([same?.summary.hit, same?.summary.miss], [2, 2]);
    const spicy = await vscode.commands.executeCommand<PredictionResult | undefined>('strata.showPrediction', { dockerfile: dockerfile.fsPath, buildArgs: { FLAVOR: 'spicy' } });
    assert.deepEqual([spicy?.summary.hit, spicy?.summary.miss], [1, 3]);
    await waitForStatus('$(layers) 1 hit · 3 miss');
    const withArg = await waitForLenses('the RUN to miss for the build arg', dockerfile, (t) => /miss/.test(t.get(3) ?? ''));
    assert.equal(withArg.get(3), 'layer · cache miss: ARG FLAVOR changed: "plain" → "spicy"');
    assert.equal(withArg.get(4), 'layer · re-runs: line 3 missed');

    // 7. The language server dies and is restarted: the build args chosen in this window still apply. (The client
    //    sends them before the state dir, so once line 4 misses again, line 3 shows the new server's final answer.)
    const victim = await waitFor('a running language server process', () => serverPids()[0], SLOW);
    process.kill(victim, 'SIGKILL');
    await waitFor('the client to start a new server', () => serverPids().find((p) => p !== victim), SLOW);
    const restarted = await waitForLenses('lenses from the new server', dockerfile, (t) => t.size === 5 && /miss/.test(t.get(4) ?? ''));
    assert.equal(restarted.get(3), 'layer · cache miss: ARG FLAVOR changed: "plain" → "spicy"');

    // Back to no build args: the prediction returns to the file change alone.
    const reset = await vscode.commands.executeCommand<PredictionResult | undefined>('strata.showPrediction', { dockerfile: dockerfile.fsPath, buildArgs: {} });
    assert.deepEqual([reset?.summary.hit, reset?.summary.miss], [2, 2]);
    await waitForStatus('$(layers) 2 hit · 2 miss');

    // 8. Annotations off: no lenses or hints, but the status bar still follows an (unsaved) edit of the Dockerfile.
    await vscode.workspace.getConfiguration('strata').update('annotations', 'off', vscode.ConfigurationTarget.Global);
    await waitForLenses('the lenses to go away', dockerfile, (t) => t.size === 0);
    assert.equal((await hintTexts(doc)).size, 0);
    const saved = doc.getText();
    await setText(doc, saved.replace(`$FLAVOR-${stamp}`, `$FLAVOR-${stamp}-v2`));
    await waitForStatus('$(layers) 1 hit · 3 miss');
    // Undo the edit by text (not the revert command, which acts on whatever editor the workbench has focused).
    await setText(doc, saved);
    await waitForStatus('$(layers) 2 hit · 2 miss');
    await doc.save(); // leave no dirty editor behind (same text as on disk)

    // …and a Dockerfile opened while annotations are off gets its summary too (no lens request computes it).
    const other = await writeWorkspaceFile(`${dir}-off/Dockerfile`, `FROM ${BASE}\nRUN echo off-${stamp}\n`);
    await openEditor(other);
    await waitForStatus('$(layers) cache: no baseline');
  });
});
