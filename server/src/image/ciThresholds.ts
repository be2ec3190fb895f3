/**
 * dive-compatible CI thresholds (`lowestEfficiency`, `highestWastedBytes`, `highestUserWastedPercent`), from
 * command-line flags over a `.dive-ci` file over dive's defaults. Values may be `disabled`; byte sizes accept
 * dive's humanized forms (`20MB` = 20·1000², `20MiB` = 20·1024²).
 */
import { parse as parseYaml } from 'yaml';
import type { ImageSummary } from './imageModel';

export interface CiThresholds {
  lowestEfficiency: number | null;
  highestWastedBytes: number | null;
  highestUserWastedPercent: number | null;
}

export const DIVE_DEFAULTS: CiThresholds = { lowestEfficiency: 0.9, highestWastedBytes: null, highestUserWastedPercent: 0.1 };

export interface CiRuleResult {
  rule: keyof CiThresholds;
  status: 'pass' | 'fail' | 'skip';
  threshold: number | null;
  value: number;
  message: string;
}

const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3,
};

/** Parses `20MB`, `1.5 GiB`, `1024`; null for `disabled`; throws Error for anything else. */
export function parseByteSize(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  const s = String(v).trim().toLowerCase();
  if (s === 'disabled' || s === 'off' || s === '') return null;
  const m = /^([0-9]*\.?[0-9]+)\s*([a-z]*)$/.exec(s);
  if (!m || UNITS[m[2]!] === undefined) throw new Error(`not a byte size: ${String(v)}`);
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

/** Parses a ratio (`0.9`) or a percentage (`90%`); null for `disabled`. */
export function parseRatio(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  const s = String(v).trim().toLowerCase();
  if (s === 'disabled' || s === 'off' || s === '') return null;
  const pct = s.endsWith('%');
  const n = Number(pct ? s.slice(0, -1) : s);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${String(v)}`);
  return pct ? n / 100 : n;
}

/** Reads the `rules:` of a `.dive-ci` YAML document. Unknown keys are ignored (dive ignores them too). */
export function parseDiveCi(text: string): Partial<CiThresholds> {
  const doc = parseYaml(text) as { rules?: Record<string, unknown> } | null;
  const rules = doc && typeof doc === 'object' ? doc.rules ?? {} : {};
  const out: Partial<CiThresholds> = {};
  if ('lowestEfficiency' in rules) out.lowestEfficiency = parseRatio(rules.lowestEfficiency);
  if ('highestWastedBytes' in rules) out.highestWastedBytes = parseByteSize(rules.highestWastedBytes);
  if ('highestUserWastedPercent' in rules) out.highestUserWastedPercent = parseRatio(rules.highestUserWastedPercent);
  return out;
}

export function evaluateCi(summary: ImageSummary, t: CiThresholds): CiRuleResult[] {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const results: CiRuleResult[] = [];
  const rule = (r: keyof CiThresholds, value: number, failed: (th: number) => boolean, show: (x: number) => string, failOp: string, passOp: string) => {
    const th = t[r];
    if (th === null) results.push({ rule: r, status: 'skip', threshold: null, value, message: `${r}: disabled` });
    else {
      const fail = failed(th);
      results.push({ rule: r, status: fail ? 'fail' : 'pass', threshold: th, value, message: `${r}: ${show(value)} ${fail ? failOp : passOp} ${show(th)}` });
    }
  };
  rule('lowestEfficiency', summary.efficiency, (th) => summary.efficiency < th, pct, 'is below', '≥');
  rule('highestWastedBytes', summary.wastedBytes, (th) => summary.wastedBytes > th, (x) => `${x} bytes`, 'is above', '≤');
  rule('highestUserWastedPercent', summary.userWastedPercent, (th) => summary.userWastedPercent > th, pct, 'is above', '≤');
  return results;
}
