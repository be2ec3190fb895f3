import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUILD_RECORD_VERSION, type BuildRecord } from './buildRecord';

/**
 * Where build records live: `--state-dir`, else STRATA_STATE_DIR, else `$XDG_CACHE_HOME/strata` (`~/.cache/strata`).
 * The extension passes its own storage folder as the flag.
 */
export function resolveStateDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  if (env.STRATA_STATE_DIR) return path.resolve(env.STRATA_STATE_DIR);
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'strata');
}

/** Records of one (Dockerfile, context, target) live together; the key hashes the absolute paths. */
export function recordKey(key: { dockerfile: string; context: string; target: string | null }): string {
  return createHash('sha256')
    .update(`${path.resolve(key.dockerfile)}\0${path.resolve(key.context)}\0${key.target ?? ''}`)
    .digest('hex')
    .slice(0, 24);
}

export function newBuildId(): string {
  return randomBytes(8).toString('hex');
}

/** Saves atomically (write to a temp file, fsync, rename), as `<key>/latest.json` and `<key>/<id>.json`. */
export async function saveBuildRecord(stateDir: string, record: BuildRecord): Promise<string> {
  const dir = path.join(stateDir, 'builds', recordKey({ dockerfile: record.dockerfile, context: record.context, target: record.target }));
  await fs.mkdir(dir, { recursive: true });
  const data = JSON.stringify(record, null, 1);
  const file = path.join(dir, `${record.id}.json`);
  await writeAtomic(file, data);
  await writeAtomic(path.join(dir, 'latest.json'), data);
  return file;
}

async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
}

export interface LoadedRecord {
  record: BuildRecord | null;
  /** Why no record could be used (missing, truncated, other version): shown to the user, never thrown. */
  notice?: string;
}

/** The last recorded build of this Dockerfile/context/target, or null with the reason. Never throws. */
export async function loadLatestBuildRecord(
  stateDir: string,
  key: { dockerfile: string; context: string; target: string | null },
): Promise<LoadedRecord> {
  const file = path.join(stateDir, 'builds', recordKey(key), 'latest.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return { record: null, notice: 'no baseline: build once with Strata: Build Image (or `strata build`)' };
  }
  try {
    const record = JSON.parse(text) as BuildRecord;
    if (record?.version !== BUILD_RECORD_VERSION) {
      return { record: null, notice: `the last build record (${file}) is from another Strata version and was ignored; build again` };
    }
    return { record };
  } catch {
    return { record: null, notice: `the last build record (${file}) is damaged (not JSON) and was ignored; build again` };
  }
}
