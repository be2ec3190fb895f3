import * as vscode from 'vscode';

export type LineState = { kind: 'running' } | { kind: 'built'; ms: number | null } | { kind: 'cached' } | { kind: 'failed' } | { kind: 'canceled' };

/**
 * End-of-line annotations on the Dockerfile of the last build: `running…` while a step runs, then `built in 12.3 s`,
 * `CACHED` or `failed`. Kept per document and re-applied when an editor for it becomes visible.
 */
export class BuildDecorations implements vscode.Disposable {
  private readonly types: Record<LineState['kind'], vscode.TextEditorDecorationType>;
  private readonly state = new Map<string, Map<number, LineState>>();
  private readonly sub: vscode.Disposable;

  constructor() {
    const after = (color: string) => vscode.window.createTextEditorDecorationType({
      after: { margin: '0 0 0 2em', color: new vscode.ThemeColor(color), fontStyle: 'italic' },
      isWholeLine: true,
    });
    this.types = {
      running: after('editorCodeLens.foreground'),
      built: after('editorCodeLens.foreground'),
      cached: after('editorCodeLens.foreground'),
      failed: after('editorError.foreground'),
      canceled: after('editorWarning.foreground'),
    };
    this.sub = vscode.window.onDidChangeVisibleTextEditors((eds) => eds.forEach((e) => this.apply(e)));
  }

  /** Forget a document's annotations (a new build starts). */
  reset(uri: vscode.Uri): void {
    this.state.set(uri.toString(), new Map());
    this.refresh(uri);
  }

  /** `line` is 1-based. */
  set(uri: vscode.Uri, line: number, s: LineState): void {
    let m = this.state.get(uri.toString());
    if (!m) this.state.set(uri.toString(), (m = new Map()));
    m.set(line, s);
    this.refresh(uri);
  }

  get(uri: vscode.Uri): ReadonlyMap<number, LineState> {
    return this.state.get(uri.toString()) ?? new Map();
  }

  private refresh(uri: vscode.Uri): void {
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.toString() === uri.toString()) this.apply(e);
  }

  private apply(editor: vscode.TextEditor): void {
    const m = this.state.get(editor.document.uri.toString());
    const byKind = new Map<LineState['kind'], vscode.DecorationOptions[]>();
    for (const [line, s] of m ?? []) {
      if (line < 1 || line > editor.document.lineCount) continue;
      const range = editor.document.lineAt(line - 1).range;
      const list = byKind.get(s.kind) ?? [];
      list.push({ range, renderOptions: { after: { contentText: label(s) } }, hoverMessage: `Strata build: ${label(s)}` });
      byKind.set(s.kind, list);
    }
    for (const kind of Object.keys(this.types) as LineState['kind'][]) editor.setDecorations(this.types[kind], byKind.get(kind) ?? []);
  }

  dispose(): void {
    this.sub.dispose();
    for (const t of Object.values(this.types)) t.dispose();
  }
}

export function label(s: LineState): string {
  switch (s.kind) {
    case 'running': return '⟳ running…';
    case 'built': return s.ms === null ? 'built' : `built in ${(s.ms / 1000).toFixed(1)} s`;
    case 'cached': return 'CACHED';
    case 'failed': return 'failed';
    case 'canceled': return 'cancelled';
  }
}
