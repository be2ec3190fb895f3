/**
 * `strata inspect --container NAME_OR_ID [--json] [--summary]`: the container's image in `strata inspect`'s shape
 * (`"format": "container"`) with the writable layer as one more top layer (`"writable": true`), whose modified
 * entries name the layer they were copied up from (`"from"`), plus the commit preview.
 */
import { DockerClient } from '../docker/dockerClient';
import { DockerError } from '../docker/dockerError';
import { openImage } from '../image/imageReader';
import { ImageReadError } from '../image/imageReadError';
import { DockerContainerEngine } from '../container/containerEngine';
import { inspectContainer } from '../container/containerInspector';
import type { ContainerInspection } from '../container/containerModel';
import type { ParsedArgs } from './cliArgs';
import { CliError } from './cliError';
import type { CliIO } from './cliIO';
import { humanBytes, toJson } from './inspectCommand';

const KNOWN_SWITCHES = new Set(['json', 'summary', 'help']);

export async function inspectContainerCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  for (const s of args.switches) if (!KNOWN_SWITCHES.has(s)) throw new CliError(`--${s}`, 'not supported with --container');
  const refs = args.flags.get('container') ?? [];
  if (refs.length !== 1 || args.positionals.length > 0) throw new CliError('--container', 'takes exactly one container name or id (and no archive)');
  const ref = refs[0]!;
  const docker = new DockerClient({ dockerPath: args.flags.get('docker')?.at(-1), env: io.env });
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  let opened;
  try {
    opened = await inspectContainer(new DockerContainerEngine(docker), ref, openImage, {
      signal: ac.signal,
      onProgress: (p) => io.debug(`container ${ref}: ${p.phase}${'bytes' in p ? ` ${p.bytes}/${p.totalBytes}` : ''}`),
    });
  } catch (e) {
    if (e instanceof DockerError) throw new CliError(ref, e.kind === 'aborted' ? 'cancelled' : e.message);
    if (e instanceof ImageReadError) throw new CliError(ref, `reading its image: ${e.why}`);
    throw e;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
  try {
    const { image, inspection } = opened;
    const im = image.info.images[0]!;
    for (const w of inspection.warnings) io.err(`strata: warning: ${ref}: ${w}`);
    if (args.common.json) {
      const summary = image.summary(0, { topWasted: 10 });
      io.out(JSON.stringify(containerJson(toJson(image, [{ im, summary, ci: null }], !args.switches.has('summary')), inspection)));
    } else {
      printHuman(io, inspection, im.layers.map((l) => ({ index: l.index, size: l.contentSize ?? 0, createdBy: l.createdBy })));
    }
    return 0;
  } finally {
    await opened.dispose();
  }
}

interface InspectJson {
  format: string;
  flavor?: string;
  images: Array<{ configDigest: string; layers: Array<Record<string, unknown>> } & Record<string, unknown>>;
}

/** Reshapes `strata inspect`'s JSON for a container: the archive is an artefact of how we read it, not the user's. */
export function containerJson(raw: unknown, ins: ContainerInspection): unknown {
  const j = raw as InspectJson;
  const img = j.images[0]!;
  const n = ins.writableIndex;
  const layers = img.layers.map((l) => {
    if (l.index !== n) return l;
    const { digest: _d, diffId: _i, compression: _c, size: _s, ...rest } = l;
    const out: Record<string, unknown> = { ...rest, writable: true, size: ins.preview.layerSize };
    if (Array.isArray(l.changes)) {
      out.changes = ins.changes.map((c) => ({
        path: c.path, kind: c.kind, type: c.type, size: c.size,
        ...(c.from !== undefined ? { from: c.from, oldSize: c.oldSize } : {}),
        ...(c.metadataOnly ? { metadataOnly: true } : {}),
      }));
    }
    return out;
  });
  const { flavor: _f, ...top } = j;
  return {
    ...top,
    format: 'container',
    container: ins.container,
    images: [{ ...img, configDigest: ins.container.imageId, layers }],
    commitPreview: ins.preview,
  };
}

function printHuman(io: CliIO, ins: ContainerInspection, layers: Array<{ index: number; size: number; createdBy: string }>): void {
  const c = ins.container;
  io.out(`container ${c.name} (${c.id.slice(0, 12)})  ${c.state}  image ${c.image} (${c.imageId.slice(0, 19)})`);
  for (const l of layers) {
    const by = l.index === ins.writableIndex ? 'writable layer (not committed)' : l.createdBy.replace(/\s+/g, ' ').replace(/^\/bin\/sh -c #\(nop\) /, '').replace(/^\/bin\/sh -c /, 'RUN ');
    io.out(`  ${String(l.index).padStart(3)}  ${humanBytes(l.size).padStart(9)}  ${by.length > 80 ? by.slice(0, 79) + '…' : by}`);
  }
  io.out('  writable layer:');
  for (const ch of ins.changes) {
    const mark = ch.kind === 'added' ? 'A' : ch.kind === 'modified' ? 'M' : ch.kind === 'deleted' ? 'D' : 'O';
    const from = ch.from !== undefined ? `  (from layer ${ch.from}, was ${humanBytes(ch.oldSize ?? 0)}${ch.metadataOnly ? '; metadata only' : ''})` : '';
    io.out(`    ${mark} ${ch.type === 'dir' ? `${ch.path}/` : ch.path}  ${ch.type === 'file' ? humanBytes(ch.size) : ch.type}${from}`);
  }
  const p = ins.preview;
  io.out(`  commit preview: new layer ${humanBytes(p.layerSize)} in ${p.entryCount} entries (${p.added} added, ${p.modified} modified, ${p.deleted} deleted); ` +
    `would waste ${humanBytes(p.wastedBytes)}${p.metadataOnlyBytes ? ` (${humanBytes(p.metadataOnlyBytes)} copied up only to change metadata)` : ''}`);
}
