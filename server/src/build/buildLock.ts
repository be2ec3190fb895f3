import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * One build per (Dockerfile, context, target) at a time, across processes (CLI and language server): a lock file
 * created with O_EXCL holding the owner's pid. A lock whose owner is gone (killed build) is taken over.
 */
export class BuildBusyError extends Error {
  constructor(readonly owner: { pid: number; startedAt: string }) {
    super(`another build of this Dockerfile is running (pid ${owner.pid}, started ${owner.startedAt}); wait for it or cancel it`);
  }
}

export async function acquireBuildLock(dir: string): Promise<() => Promise<void>> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'build.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.open(file, 'wx');
      await handle.writeFile(JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
      await handle.close();
      return async () => { await fs.rm(file, { force: true }); };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: { pid: number; startedAt: string } | null = null;
    try {
      owner = JSON.parse(await fs.readFile(file, 'utf8')) as { pid: number; startedAt: string };
    } catch { /* half-written or vanished: treat as stale */ }
    if (owner && Number.isInteger(owner.pid) && alive(owner.pid)) throw new BuildBusyError(owner);
    await fs.rm(file, { force: true });
  }
  throw new Error(`could not take the build lock ${file}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
