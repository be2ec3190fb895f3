/**
 * Byte ranges read from an archive member are the same whichever way the source serves them: a plain tar (pread),
 * a gzip-wrapped tar's small members (kept in memory by the indexing pass) and its big ones (decompressed up to
 * them), through a symlink too; a range past the end is empty.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { openArchiveSource, type ArchiveSource } from '../../../server/src/image/archiveSource';
import { makeTar, tempDir } from './imageFixtures';

const small = Buffer.from('abcdefghij');
const big = Buffer.alloc(1536 * 1024 + 7, 0).map((_, i) => (i * 31) & 0xff); // above the 1 MiB kept-in-memory size
const tar = makeTar([
  { name: 'small', content: small },
  { name: 'big', content: big },
  { name: 'link', type: 'symlink', link: 'small' },
]);

async function range(src: ArchiveSource, name: string, start?: number, length?: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of src.stream(name, undefined, start, length)) parts.push(c);
  return Buffer.concat(parts);
}

describe('archive sources: member ranges', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  for (const [label, bytes] of [['tar', tar], ['gzip-tar', gzipSync(tar)]] as const) {
    it(`${label}: every range is the content's slice, kept or streamed, through a link too`, async () => {
      const src = await openArchiveSource(tmp.write(`ranges.${label}`, bytes), 1 << 30);
      try {
        assert.equal(src.kind, label);
        for (const [name, content] of [['small', small], ['big', big], ['link', small]] as const) {
          const n = content.length;
          for (const [start, length] of [[undefined, undefined], [3, undefined], [3, 4], [n - 2, 10], [n, undefined], [n + 5, 3], [0, 0]] as const) {
            const want = content.subarray(start ?? 0, Math.min(n, (start ?? 0) + (length ?? n)));
            assert.ok((await range(src, name, start, length)).equals(want), `${name} [${start}, +${length}]`);
          }
        }
        assert.ok((await src.readSmall('link', 1 << 20)).equals(small));
        await assert.rejects(src.readSmall('big', 1 << 20), /big is \d+ bytes, more than the 1048576-byte limit/);
        await assert.rejects(src.readSmall('absent', 1 << 20), /missing absent/);
      } finally {
        await src.close();
      }
    });

    it(`${label}: a later member of the same name replaces the earlier one (kept or not)`, async () => {
      const dup = makeTar([
        { name: 'm', content: 'first' },
        { name: 'm', content: 'second!' },
        { name: 'n', content: 'small first' },
        { name: 'n', content: big },
      ]);
      const src = await openArchiveSource(tmp.write(`dup.${label}`, label === 'tar' ? dup : gzipSync(dup)), 1 << 30);
      try {
        assert.equal((await src.readSmall('m', 1 << 20)).toString(), 'second!');
        assert.equal((await range(src, 'm', 1, 3)).toString(), 'eco');
        assert.ok((await range(src, 'n')).equals(big));
      } finally {
        await src.close();
      }
    });
  }
});
