/**
 * `strata inspect ARCHIVE_OR_LAYOUT [--json] [--summary] [--platform P] [--no-verify] [--ci …]`: layers, per-layer
 * changes, wasted space and efficiency of an image archive (docker save, OCI archive, OCI layout).
 * Exit codes: 0 ok, 1 a --ci threshold failed, 2 usage error or unreadable input (a layer that fails to read).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  DIVE_DEFAULTS, evaluateCi, parseByteSize, parseDiveCi, parseRatio, type CiRuleResult, type CiThresholds,
} from '../image/ciThresholds';
import type { ImageInfo, ImageSummary, OpenedImage } from '../image/imageModel';
import { openImage } from '../image/imageReader';
import { ImageReadError } from '../image/imageReadError';
import { contractType } from '../image/treeViews';
import type { ParsedArgs } from './cliArgs';
import { CliError } from './cliError';
import type { CliIO } from './cliIO';

const KNOWN_SWITCHES = new Set(['json', 'summary', 'ci', 'no-verify', 'help']);

export async function inspectCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.flags.has('container')) return (await import('./inspectContainer')).inspectContainerCommand(args, io);
  for (const s of args.switches) if (!KNOWN_SWITCHES.has(s)) throw new CliError(`--${s}`, 'unknown option for inspect');
  if (args.positionals.length !== 1) {
    throw new CliError('inspect', args.positionals.length === 0 ? 'needs an image archive or OCI layout (usage: strata inspect ARCHIVE_OR_LAYOUT)' : 'takes one archive');
  }
  const target = path.resolve(io.cwd, args.positionals[0]!);
  const ci = args.switches.has('ci');
  const thresholds = ci ? ciThresholds(args, io) : null;
  const last = (n: string) => args.flags.get(n)?.at(-1);
  const limits: { maxExpandedBytes?: number; maxEntries?: number } = {};
  if (last('max-bytes') !== undefined) limits.maxExpandedBytes = positive(last('max-bytes')!, '--max-bytes', true);
  if (last('max-entries') !== undefined) limits.maxEntries = positive(last('max-entries')!, '--max-entries', false);

  let img: OpenedImage;
  try {
    img = await openImage(target, { platform: last('platform'), verify: !args.switches.has('no-verify'), limits });
    await img.done;
  } catch (e) {
    throw asCliError(e, args.positionals[0]!);
  }
  try {
    const failures: string[] = [];
    for (const im of img.info.images) {
      for (const l of im.layers) if (l.status === 'failed') failures.push(`layer ${l.index} (${l.digest.slice(0, 19)}): ${l.error}`);
    }
    const label = args.positionals[0]!;
    for (const w of img.info.warnings) io.err(`strata: warning: ${label}: ${w}`);
    for (const im of img.info.images) {
      for (const l of im.layers) for (const w of l.warnings) io.err(`strata: warning: ${label}: layer ${l.index}: ${w}`);
    }
    if (failures.length) {
      for (const f of failures.slice(1)) io.err(`strata: ${label}: ${f}`);
      throw new CliError(label, failures[0]!);
    }
    const withChanges = !args.switches.has('summary');
    const images = img.info.images.map((im) => {
      const summary = img.summary(im.index, { topWasted: 10 });
      return { im, summary, ci: thresholds ? evaluateCi(summary, thresholds) : null };
    });
    if (args.common.json) {
      io.out(JSON.stringify(toJson(img, images, withChanges)));
    } else {
      printHuman(io, img, images);
    }
    return images.some((i) => i.ci?.some((r) => r.status === 'fail')) ? 1 : 0;
  } finally {
    await img.close();
  }
}

function positive(v: string, flag: string, bytes: boolean): number {
  let n: number | null;
  try {
    n = bytes ? parseByteSize(v) : Number(v);
  } catch {
    n = NaN;
  }
  if (n === null || !Number.isFinite(n) || n <= 0) throw new CliError(flag, `expected a positive ${bytes ? 'size' : 'number'}, got '${v}'`);
  return n;
}

function asCliError(e: unknown, label: string): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof ImageReadError) {
    // Messages from the reader name the absolute path; show what the user typed.
    const what = path.isAbsolute(e.what) && path.resolve(label) === e.what ? label : e.what;
    return new CliError(what, e.why);
  }
  throw e;
}

/** Flags over `.dive-ci` (from --config, else --context DIR/.dive-ci or ./.dive-ci) over dive's defaults. */
function ciThresholds(args: ParsedArgs, io: CliIO): CiThresholds {
  const t: CiThresholds = { ...DIVE_DEFAULTS };
  const explicit = args.flags.get('config')?.at(-1);
  const candidates = explicit ? [path.resolve(io.cwd, explicit)] : [path.resolve(io.cwd, args.common.context, '.dive-ci'), path.resolve(io.cwd, '.dive-ci')];
  const file = candidates.find((f) => existsSync(f));
  if (explicit && !file) throw new CliError(explicit, 'no such .dive-ci file');
  if (file) {
    try {
      Object.assign(t, parseDiveCi(readFileSync(file, 'utf8')));
    } catch (e) {
      throw new CliError(file, `not a valid .dive-ci file (${(e as Error).message})`);
    }
  }
  const flag = (name: string, key: keyof CiThresholds, parse: (v: string) => number | null) => {
    const v = args.flags.get(name)?.at(-1);
    if (v === undefined) return;
    try {
      t[key] = parse(v);
    } catch {
      throw new CliError(`--${name}`, `not a valid value: '${v}'`);
    }
  };
  flag('lowest-efficiency', 'lowestEfficiency', parseRatio);
  flag('highest-wasted-bytes', 'highestWastedBytes', parseByteSize);
  flag('highest-user-wasted-percent', 'highestUserWastedPercent', parseRatio);
  return t;
}

export interface Row {
  im: ImageInfo;
  summary: ImageSummary;
  ci: CiRuleResult[] | null;
}

export function toJson(img: OpenedImage, rows: Row[], withChanges: boolean): unknown {
  return {
    format: img.info.format,
    flavor: img.info.flavor,
    ...(img.info.platforms.length ? { platforms: img.info.platforms } : {}),
    images: rows.map(({ im, summary, ci }) => ({
      ref: im.ref,
      refs: im.refs,
      platform: im.platform,
      configDigest: im.configDigest,
      manifestDigest: im.manifestDigest,
      layers: im.layers.map((l) => ({
        index: l.index,
        digest: l.digest,
        diffId: l.diffId,
        compression: l.compression,
        size: l.size,
        contentSize: l.contentSize,
        createdBy: l.createdBy,
        ...(l.foreign ? { foreign: true } : {}),
        ...(l.warnings.length ? { warnings: l.warnings } : {}),
        ...(withChanges
          ? { changes: img.layerChanges(im.index, l.index).changes.map((c) => ({ path: c.path, kind: c.kind, type: contractType(c.type), size: c.size })) }
          : {}),
      })),
      wastedBytes: summary.wastedBytes,
      efficiency: summary.efficiency,
      totalSize: summary.totalSize,
      userWastedPercent: summary.userWastedPercent,
      diveEfficiency: summary.diveEfficiency,
      diveWastedBytes: summary.diveWastedBytes,
      topWasted: summary.topWasted,
      ...(ci ? { ci: { passed: !ci.some((r) => r.status === 'fail'), rules: ci } } : {}),
    })),
  };
}

export function humanBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

function printHuman(io: CliIO, img: OpenedImage, rows: Row[]): void {
  io.out(`${img.info.path}: ${img.info.format} (${img.info.flavor})`);
  if (img.info.platforms.length > 1) {
    io.out(`platforms: ${img.info.platforms.map((p) => (p.selected ? `[${p.platform}]` : p.platform)).join(' ')}`);
  }
  for (const { im, summary, ci } of rows) {
    io.out('');
    io.out(`image ${im.ref ?? '(untagged)'}  ${im.platform}  ${im.configDigest.slice(0, 19)}`);
    io.out(`  ${'#'.padStart(3)}  ${'stored'.padStart(9)}  ${'content'.padStart(9)}  ${'compr'.padEnd(5)}  created by`);
    for (const l of im.layers) {
      const by = l.createdBy.replace(/\s+/g, ' ').replace(/^\/bin\/sh -c #\(nop\) /, '').replace(/^\/bin\/sh -c /, 'RUN ');
      io.out(`  ${String(l.index).padStart(3)}  ${humanBytes(l.size).padStart(9)}  ${(l.contentSize === null ? '-' : humanBytes(l.contentSize)).padStart(9)}  ${(l.foreign ? 'frgn' : l.compression).padEnd(5)}  ${by.length > 80 ? by.slice(0, 79) + '…' : by}`);
    }
    io.out(`  total ${humanBytes(summary.totalSize)} (${summary.entryCount} entries), wasted ${humanBytes(summary.wastedBytes)} ` +
      `(${(summary.userWastedPercent * 100).toFixed(1)}% of the ${humanBytes(summary.userSize)} above the base layer), efficiency ${(summary.efficiency * 100).toFixed(2)}%`);
    if (summary.topWasted.length) {
      io.out('  top wasted:');
      for (const w of summary.topWasted) {
        io.out(`    ${humanBytes(w.size).padStart(9)}  ${w.path}  (written by layer ${w.writtenBy.join(', ')}; ${w.how} by layer ${w.hiddenBy})`);
      }
    }
    if (ci) {
      const failed = ci.filter((r) => r.status === 'fail').length;
      for (const r of ci) io.out(`  ${r.status.toUpperCase().padEnd(4)}  ${r.message}`);
      io.out(`  CI: ${failed ? 'FAIL' : 'PASS'} (${ci.filter((r) => r.status === 'pass').length} passed, ${failed} failed, ${ci.filter((r) => r.status === 'skip').length} skipped)`);
    }
  }
}
