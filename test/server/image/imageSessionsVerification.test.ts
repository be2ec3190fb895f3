/**
 * The language server's image sessions (server/src/lsp/imageRequests.ts) report verification after the trees:
 * 'done' as soon as every tree is read (the explorer is usable), then 'done' again with each layer's verification
 * state — a mismatch names the layer and never turns the session into 'failed'.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openImage } from '../../../server/src/image/imageReader';
import type { ArchiveInfo } from '../../../server/src/image/imageModel';
import { ImageSessions } from '../../../server/src/lsp/imageRequests';
import type { ImageProgressParams } from '../../../server/src/protocol/lspMessages';
import { dockerSaveLegacy, makeTar, tempDir } from './imageFixtures';

const MARK = 'CORRUPT-ME-';

describe('ImageSessions: verification notifications', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  for (const corrupt of [false, true]) {
    it(corrupt ? 'a corrupted layer: done (trees), then done with the mismatch naming layer 1' : 'a good archive: done, then done with every layer verified', async () => {
      const good = dockerSaveLegacy([{ tags: ['s:1'], layers: [makeTar([{ name: 'a', content: 'a' }]), makeTar([{ name: 'blob', content: MARK + 'z'.repeat(1 << 20) }])] }]);
      const bytes = Buffer.from(good);
      if (corrupt) bytes[good.indexOf(MARK)] = 'c'.charCodeAt(0);
      const file = tmp.write(`s-${corrupt}.tar`, bytes);
      const sessions = new ImageSessions(openImage, () => { throw new Error('no engine'); });
      // snapshots: the archive object is live (the reader keeps updating it)
      const seen: Array<{ status: ImageProgressParams['status']; message: string | null; archive: ArchiveInfo | null }> = [];
      let settled!: () => void;
      const finished = new Promise<void>((r) => { settled = r; });
      await sessions.open({ handle: 'v', path: file }, (p) => {
        seen.push({ status: p.status, message: p.message, archive: p.archive && (JSON.parse(JSON.stringify(p.archive)) as ArchiveInfo) });
        if (p.archive && p.archive.verification !== 'pending' && p.status === 'done') settled();
      });
      await finished;
      const firstDone = seen.findIndex((s) => s.status === 'done');
      assert.ok(firstDone >= 0);
      assert.ok(seen.slice(firstDone).every((s) => s.status === 'done'), seen.map((s) => s.status).join());
      assert.deepEqual(seen[firstDone]!.archive!.images[0]!.layers.map((l) => l.entryCount), [1, 1], 'trees complete at the first done');
      const last = seen.at(-1)!;
      if (corrupt) {
        assert.equal(last.archive!.verification, 'mismatch');
        assert.deepEqual(last.archive!.images[0]!.layers.map((l) => l.verification), ['verified', 'mismatch']);
        const m = seen.find((s) => s.message !== null)!;
        assert.match(m.message!, /^layer 1 \(sha256:[0-9a-f]{12}\): diffId mismatch: the config says sha256:[0-9a-f]{64}/);
      } else {
        assert.equal(last.archive!.verification, 'verified');
        assert.ok(seen.every((s) => s.message === null));
      }
      // the tree answers throughout
      assert.equal(sessions.list({ handle: 'v', image: 0, layer: 1, mode: 'merged', dir: '', rangeStart: 0, offset: 0, limit: 10, sort: 'name', descending: false, filter: '', kinds: [], wastedOnly: false, minSize: 0 }).total, 2);
      await sessions.closeAll();
    });
  }
});
