/**
 * The tar header decoder: the word-wise header sum (aligned headers) must equal the byte-wise sum for any bytes,
 * and real headers written by GNU tar must decode with their checksum accepted, at aligned and unaligned offsets.
 * The parser: `push(window, length)` (how the seeking reader pushes its reused read window) parses only the first
 * `length` bytes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeHeader, headerSum, TarParser, type TarHeader } from '../../../server/src/image/tarParser';
import { makeTar } from './imageFixtures';

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

describe('tar parser push with a length', () => {
  it('parses only the first `length` bytes of a reused window, like pushing that many bytes as views', () => {
    const tar = makeTar([{ name: 'a', content: 'x'.repeat(700) }, { name: 'dir/', type: 'dir' }, { name: 'dir/b', content: 'yy' }, { name: 'c', type: 'symlink', link: 'a' }]);
    const names = (push: (p: TarParser) => void) => {
      const got: string[] = [];
      const p = new TarParser({ entry: (h: TarHeader) => (got.push(`${Buffer.from(h.name).toString()}:${h.type}:${h.size}`), false) }, 't', true);
      push(p);
      p.end();
      return got;
    };
    const expected = names((p) => p.push(tar));
    assert.equal(expected.length, 4);
    for (const step of [1, 100, 512, 777, 4096]) {
      // one window reused for every push, its tail holding stale bytes from the previous one
      const win = new Uint8Array(step + 300).fill(0x55);
      assert.deepEqual(names((p) => {
        for (let pos = 0; pos < tar.length; pos += step) {
          const n = Math.min(step, tar.length - pos);
          win.set(tar.subarray(pos, pos + n));
          p.push(win, n);
        }
      }), expected, `windows of ${step}`);
    }
    // a window cut short inside an entry: the parser knows it is truncated
    const win = new Uint8Array(2048).fill(0x55);
    win.set(tar.subarray(0, 1000));
    assert.throws(() => names((p) => p.push(win, 1000)), /truncated tar/);
  });
});
