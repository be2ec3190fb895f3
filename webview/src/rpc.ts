/**
 * The webview's side of the message protocol: numbered requests with a timeout, replies validated against the
 * method's result shape, and every incoming message checked by `parseHostMessage` (anything else is dropped).
 */
import {
  checkResult, parseHostMessage, REQUEST_TIMEOUT_MS, type HostMessage, type RequestMap, type RequestMethod, type WebviewMessage,
} from '../../server/src/protocol/webviewMessages';

/** What `acquireVsCodeApi()` returns (a stub in tests). */
export interface HostApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

interface Pending {
  method: RequestMethod;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Rpc {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly host: HostApi, private readonly timeoutMs = REQUEST_TIMEOUT_MS) {}

  post(message: WebviewMessage): void {
    this.host.postMessage(message);
  }

  request<M extends RequestMethod>(method: M, params: RequestMap[M]['params']): Promise<RequestMap[M]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.post({ type: 'cancel', id });
        reject(new Error(`${method} timed out after ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.post({ type: 'request', id, method, params });
    });
  }

  /** Validates an incoming message; replies settle their request, anything else is returned to the caller. */
  receive(data: unknown): HostMessage | null {
    const msg = parseHostMessage(data);
    if (!msg) return null;
    if (msg.type !== 'reply') return msg;
    const p = this.pending.get(msg.id);
    if (!p) return null; // late reply after a timeout, or an id we never used
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (!msg.ok) p.reject(new Error(msg.error));
    else if (!checkResult(p.method, msg.result)) p.reject(new Error(`malformed ${p.method} reply`));
    else p.resolve(msg.result);
    return null;
  }

  pendingCount(): number {
    return this.pending.size;
  }
}
