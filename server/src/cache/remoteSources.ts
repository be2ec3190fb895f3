/**
 * What an `ADD <url>` step's cache key depends on: the content behind the URL. BuildKit's http source
 * (source/http/httpsource.go, `CacheKey`) downloads the file on every build (or asks with If-None-Match when it has an
 * ETag) and keys the step by the sha256 of the content (with the file name and permissions, which the instruction
 * text already fixes). So a prediction can only tell by downloading it too: the same content → the step hits.
 *
 * Fetching is I/O behind a narrow interface (`RemoteResolver`); the language server asks only when the user enabled
 * `strata.prediction.checkRemoteSources` in a trusted workspace, `strata predict` only with `--check-remote`, and a
 * build always records it (the build downloads the file anyway).
 */
import { createHash } from 'node:crypto';

/** The sha256 of the content behind a URL, or why it is not known. */
export type RemoteDigest = { digest: string; size: number } | { problem: string };

export type RemoteResolver = (url: string, signal?: AbortSignal) => Promise<RemoteDigest>;

export interface HttpResolverOptions {
  /** Whole download, headers included (ms). */
  timeoutMs?: number;
  /** Bigger files are not hashed (the step stays `unknown` with that reason). */
  maxBytes?: number;
  /** Fetch implementation (tests may pass one; default: the global fetch of Node 18+). */
  fetch?: typeof fetch;
}

const REMOTE_TIMEOUT_MS = 15_000;
const REMOTE_MAX_BYTES = 512 * 1024 * 1024;

/** An http(s) URL BuildKit downloads; git sources (`git@…`, `….git`) are not fetched here. */
export function isHttpSource(src: string): boolean {
  return /^https?:\/\//i.test(src) && !/\.git(#.*)?$/i.test(src);
}

/**
 * Downloads `url` streaming into sha256 (nothing is kept in memory or written to disk), with a time and size cap.
 * Never throws: a failure is a `problem` naming the URL and the cause.
 */
export function httpRemoteResolver(o: HttpResolverOptions = {}): RemoteResolver {
  const timeoutMs = o.timeoutMs ?? REMOTE_TIMEOUT_MS;
  const maxBytes = o.maxBytes ?? REMOTE_MAX_BYTES;
  const doFetch = o.fetch ?? globalThis.fetch;
  return async (url, signal) => {
    if (!isHttpSource(url)) return { problem: `${url}: only http(s) sources can be checked` };
    const timeout = AbortSignal.timeout(timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await doFetch(url, { redirect: 'follow', signal: both });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        return { problem: `${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} (the build would fail)` };
      }
      const claimed = Number(res.headers.get('content-length') ?? NaN);
      if (claimed > maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        return { problem: `${url}: ${claimed} bytes, over the ${maxBytes}-byte limit for checking remote sources` };
      }
      const hash = createHash('sha256');
      let size = 0;
      if (res.body) {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          size += chunk.byteLength;
          if (size > maxBytes) return { problem: `${url}: over the ${maxBytes}-byte limit for checking remote sources` };
          hash.update(chunk);
        }
      }
      return { digest: `sha256:${hash.digest('hex')}`, size };
    } catch (e) {
      signal?.throwIfAborted();
      if (timeout.aborted) return { problem: `${url}: no answer within ${Math.round(timeoutMs / 1000)} s` };
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      return { problem: `${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}` };
    }
  };
}

/**
 * A resolver that asks `inner` at most once per `ttlMs` per URL, so typing does not download the file on every
 * keystroke; concurrent asks share one download. A failed or aborted download is not kept.
 */
export function cachedRemoteResolver(inner: RemoteResolver, ttlMs = 60_000, now: () => number = Date.now): RemoteResolver {
  const cache = new Map<string, { at: number; value: Promise<RemoteDigest> }>();
  return (url, signal) => {
    const hit = cache.get(url);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    // Not tied to one caller's signal: the shared download serves the next prediction too.
    const value = inner(url).then((r) => {
      if ('problem' in r) cache.delete(url);
      return r;
    }, (e: unknown) => {
      cache.delete(url);
      throw e;
    });
    cache.set(url, { at: now(), value });
    if (cache.size > 256) cache.delete(cache.keys().next().value as string);
    return signal ? raceAbort(value, signal) : value;
  };
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}
