import * as path from 'node:path';
import { loadLatestBuildRecord } from '../build/buildRecordStore';
import { predictCache, type Prediction } from './predictCache';
import { snapshotBuildInputs, type SnapshotOptions } from './snapshotBuildInputs';

/** Snapshot now + load the baseline of the same Dockerfile/context/target + compare: what CLI and server both run. */
export async function predictForFiles(opts: SnapshotOptions & { stateDir: string }): Promise<Prediction> {
  const dockerfile = path.resolve(opts.dockerfile);
  const context = path.resolve(opts.context);
  const [current, loaded] = await Promise.all([
    snapshotBuildInputs({ ...opts, dockerfile, context }),
    loadLatestBuildRecord(opts.stateDir, { dockerfile, context, target: opts.target }),
  ]);
  return predictCache(current, loaded.record, loaded.notice);
}
