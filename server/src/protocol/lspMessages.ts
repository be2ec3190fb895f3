/**
 * Every custom LSP message between the extension (client/) and the language server (server/), defined once.
 * Both sides import these constants and types; nothing else names a custom method.
 * Recipe "add a message": add a `RequestType` here with its params/result types, handle it in
 * server/src/lsp/strataServer.ts (through `guard`), call it from client/ with `sendStrataRequest` (which applies the timeout).
 */
import { RequestType, NotificationType } from 'vscode-languageserver-protocol';

/** Default time a client waits for a custom request before giving up with a visible error. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ServerStatus {
  version: string;
  uptimeMs: number;
  openDocuments: number;
  featureErrors: Record<string, number>;
}
/** Health/diagnostic information about the server; used by tests and the "Show Log" command. */
export const StatusRequest = new RequestType<void, ServerStatus, void>('strata/status');

/** The server tells the client that it is busy (status bar). `null` text: idle. */
export interface BusyParams { text: string | null; tooltip?: string }
export const BusyNotification = new NotificationType<BusyParams>('strata/busy');
