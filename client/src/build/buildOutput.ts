import * as vscode from 'vscode';

/**
 * The plain build log, in its own "Strata Build" output channel (the "Strata" channel is a log channel whose lines
 * get timestamps and levels, which would garble docker's output). Memory is bounded: after MAX_LINES appended lines
 * the channel is replaced by the last KEEP_LINES, so a build printing gigabytes keeps only its tail.
 */
const MAX_LINES = 20_000;
const KEEP_LINES = 5_000;

export class BuildOutput implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('Strata Build');
  private tail: string[] = [];
  private sinceReplace = 0;

  clear(): void {
    this.tail = [];
    this.sinceReplace = 0;
    this.channel.clear();
  }

  append(lines: string[]): void {
    for (const l of lines) this.tail.push(l);
    if (this.tail.length > KEEP_LINES) this.tail.splice(0, this.tail.length - KEEP_LINES);
    this.sinceReplace += lines.length;
    if (this.sinceReplace > MAX_LINES) {
      this.sinceReplace = 0;
      this.channel.replace(`[strata] earlier output dropped; showing the last ${this.tail.length} lines\n${this.tail.join('\n')}\n`);
    } else {
      this.channel.append(lines.join('\n') + '\n');
    }
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
