/**
 * Tree items of the `strata.images` view, built one way for every group (the explorer's own nodes and the groups that
 * extend it, e.g. Containers): a label plus the fields that node sets, so a node is one declaration, not a run of
 * assignments repeated in each provider.
 */
import * as vscode from 'vscode';

export interface TreeItemFields {
  /** Default: not collapsible (a leaf). */
  collapsible?: vscode.TreeItemCollapsibleState;
  description?: string;
  tooltip?: string | vscode.MarkdownString;
  /** A codicon name, or a ThemeIcon when it needs a colour. */
  icon?: string | vscode.ThemeIcon;
  contextValue?: string;
  command?: vscode.Command;
  id?: string;
}

export function treeItem(label: string, f: TreeItemFields): vscode.TreeItem {
  const item = new vscode.TreeItem(label, f.collapsible ?? vscode.TreeItemCollapsibleState.None);
  // Only the fields given are set: an item without an id keeps VS Code's own (label-and-position) identity.
  if (f.description !== undefined) item.description = f.description;
  if (f.tooltip !== undefined) item.tooltip = f.tooltip;
  if (f.icon !== undefined) item.iconPath = typeof f.icon === 'string' ? new vscode.ThemeIcon(f.icon) : f.icon;
  if (f.contextValue !== undefined) item.contextValue = f.contextValue;
  if (f.command !== undefined) item.command = f.command;
  if (f.id !== undefined) item.id = f.id;
  return item;
}

/** A one-line message node ("Not connected to a Docker engine", "No containers", an error), as every group shows it. */
export function messageItem(m: { text: string; tooltip: string; icon: string }): vscode.TreeItem {
  return treeItem(m.text, { tooltip: m.tooltip, icon: m.icon, contextValue: 'message' });
}
