/**
 * Runs one LSP feature so that a throw never reaches the connection: the request gets the feature's empty result,
 * and the first failure of each feature (by message) is logged once. Why: a parser bug on one odd document must not
 * take down the server or spam the log on every keystroke.
 */
export class FeatureGuard {
  private readonly seen = new Set<string>();
  readonly errorCounts: Record<string, number> = {};

  constructor(private readonly log: (message: string) => void) {}

  run<T>(feature: string, empty: T, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.record(feature, e);
      return empty;
    }
  }

  async runAsync<T>(feature: string, empty: T, fn: () => Promise<T> | T): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isCancellation(e)) throw e;
      this.record(feature, e);
      return empty;
    }
  }

  /** Logs a notice (not a failure) once per key. */
  notice(key: string, message: string): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.log(message);
  }

  record(feature: string, e: unknown): void {
    this.errorCounts[feature] = (this.errorCounts[feature] ?? 0) + 1;
    const msg = e instanceof Error ? e.message : String(e);
    const key = `${feature}\0${msg}`;
    if (this.seen.has(key)) return;
    if (this.seen.size > 1000) this.seen.clear();
    this.seen.add(key);
    const where = e instanceof Error && e.stack ? ' at ' + (e.stack.split('\n')[1] ?? '').trim() : '';
    this.log(`${feature} failed (returned an empty result): ${msg}${where}`);
  }
}

export function isCancellation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && ((e as { code: number }).code === -32800 || (e as { code: number }).code === -32801);
}
