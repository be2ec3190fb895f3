/**
 * The tar header decoder: the word-wise header sum (aligned headers) must equal the byte-wise sum for any bytes,
 * and real headers written by GNU tar must decode with their checksum accepted, at aligned and unaligned offsets.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeHeader, headerSum } from '../../../server/src/image/tarParser';

function byteSum(b: Uint8Array, off: number): number {
  let s = 0;
  for (let i = 0; i < 512; i++) s += i >= 148 && i < 156 ? 0x20 : b[off + i]!;
  return s;
}

describe('tar header sum', () => {
  it('equals the byte-wise sum at every alignment, for random and extreme bytes', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const buf = new Uint8Array(4096 + 8);
    for (const fill of ['random', 0xff, 0x00, 0x80] as const) {
      for (let i = 0; i < buf.length; i++) buf[i] = fill === 'random' ? rnd() : fill;
      for (const off of [0, 1, 2, 3, 512, 1024 + 3, 3584]) assert.equal(headerSum(buf, off), byteSum(buf, off), `${fill} at ${off}`);
      // views into the middle of a buffer (as stream chunks are): aligned and unaligned byteOffsets
      for (const start of [4, 5, 6, 8]) {
        const view = buf.subarray(start, start + 1024);
        assert.equal(headerSum(view, 512), byteSum(view, 512), `${fill} view at ${start}`);
      }
    }
  });

  it('accepts real GNU tar headers (ustar, long names, symlinks) at aligned and unaligned offsets', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-tarhdr-'));
    try {
      const root = path.join(dir, 'root');
      const deep = path.join(root, 'a'.repeat(90), 'b'.repeat(60));
      mkdirSync(deep, { recursive: true });
      writeFileSync(path.join(deep, 'file.txt'), 'x'.repeat(700));
      spawnSync('ln', ['-s', 'file.txt', path.join(deep, 'link')]);
      const tar = path.join(dir, 't.tar');
      for (const format of ['ustar', 'gnu', 'pax']) {
        const r = spawnSync('tar', ['-C', root, `--format=${format}`, '-cf', tar, '.']);
        assert.equal(r.status, 0, String(r.stderr));
        const bytes = new Uint8Array(readFileSync(tar));
        let names = 0;
        for (const shift of [0, 1, 3]) {
          const shifted = new Uint8Array(bytes.length + shift);
          shifted.set(bytes, shift);
          for (let off = shift; off + 512 <= shifted.length; ) {
            const h = decodeHeader(shifted, off, 't.tar');
            if (!h) break;
            if (shift === 0) names++;
            off += 512 + Math.ceil(h.size / 512) * 512;
          }
        }
        assert.ok(names >= 4, `${format}: ${names} headers`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
