import * as vscode from 'vscode';

/**
 * One status bar item that shows what Strata is doing. Several sources can be busy at once (`key`); the newest
 * wins, and the item hides when none is busy.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('strata.status', vscode.StatusBarAlignment.Left, 10);
  private readonly busy = new Map<string, { text: string; tooltip?: string }>();

  constructor() {
    this.item.name = 'Strata';
    this.item.command = 'strata.showLog';
  }

  setBusy(key: string, text: string | null, tooltip?: string): void {
    if (text === null) this.busy.delete(key);
    else this.busy.set(key, { text, tooltip });
    const last = [...this.busy.values()].at(-1);
    if (!last) {
      this.item.hide();
      return;
    }
    this.item.text = `$(sync~spin) Strata: ${last.text}`;
    this.item.tooltip = last.tooltip ?? last.text;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
