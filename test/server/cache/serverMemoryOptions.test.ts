// The language server's memory flags (given by the extension client, copied by the cache bench's RSS child) are
// accepted by this node and do what serverMemoryOptions.ts says: the young generation stays small under the
// allocation pattern of a large walk, where plain node grows it and keeps it.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SERVER_MEMORY_OPTIONS } from '../../../server/src/cache/serverMemoryOptions';

/** Allocates ~2M short-lived objects and strings (none survive), then prints new space's size and an env var. */
const PROBE = `
const v8 = require('node:v8');
let n = 0;
for (let i = 0; i < 2e6; i++) { const o = { name: 'f' + i, at: [i, i + 1] }; n += o.name.length; }
const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(JSON.stringify({ newSpace: space.space_size, n, mmap: process.env.MALLOC_MMAP_THRESHOLD_ ?? null }));
`;

function run(execArgv: readonly string[], env: Record<string, string>): { newSpace: number; n: number; mmap: string | null } {
  const r = spawnSync(process.execPath, [...execArgv, '-e', PROBE], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim());
}

describe('server memory options', () => {
  it('keep the young generation at a few MB where plain node grows it', () => {
    const plain = run([], {});
    const server = run(SERVER_MEMORY_OPTIONS.execArgv, SERVER_MEMORY_OPTIONS.env);
    assert.equal(server.n, plain.n);
    assert.equal(server.mmap, SERVER_MEMORY_OPTIONS.env['MALLOC_MMAP_THRESHOLD_']);
    const MB = 1 << 20;
    assert.ok(server.newSpace <= 4 * MB, `new space with the flags: ${server.newSpace / MB} MB`);
    assert.ok(plain.newSpace > server.newSpace, `plain node's new space ${plain.newSpace / MB} MB should exceed ${server.newSpace / MB} MB`);
  });
});
