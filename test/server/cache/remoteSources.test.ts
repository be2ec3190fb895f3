// The http resolver against a real local HTTP server (node:http on 127.0.0.1): what it hashes, how it fails, and the
// per-URL cache the language server puts in front of it.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cachedRemoteResolver, httpRemoteResolver, isHttpSource, type RemoteResolver } from '../../../server/src/cache/remoteSources';

const sha = (s: string | Buffer) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

describe('httpRemoteResolver (real HTTP server)', () => {
  let server: http.Server;
  let base = '';
  const hits = new Map<string, number>();
  const count = (u: string) => hits.get(u) ?? 0;
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  before(async () => {
    server = http.createServer((req, res) => {
      hits.set(req.url ?? '', count(req.url ?? '') + 1);
      if (req.url === '/file.txt') res.end('hello\n');
      else if (req.url === '/big') res.end(big);
      else if (req.url === '/moved') { res.writeHead(302, { location: '/file.txt' }); res.end(); }
      else if (req.url === '/liar') { res.writeHead(200, { 'content-length': String(10 ** 12) }); res.end(); }
      else if (req.url === '/slow') setTimeout(() => res.end('late'), 2000);
      else if (req.url === '/endless') {
        // Never ends on its own: the size cap must stop the download.
        const chunk = Buffer.alloc(64 * 1024, 1);
        const pump = () => { while (res.write(chunk)); res.once('drain', pump); };
        res.on('close', () => res.removeAllListeners('drain'));
        pump();
      } else { res.writeHead(404, 'Not Found'); res.end(); }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => { server.closeAllConnections(); server.close(); });

  it('hashes the body: sha256 and size of exactly the bytes served, following redirects', async () => {
    const r = httpRemoteResolver();
    assert.deepEqual(await r(`${base}/file.txt`), { digest: sha('hello\n'), size: 6 });
    assert.deepEqual(await r(`${base}/moved`), { digest: sha('hello\n'), size: 6 });
    assert.deepEqual(await r(`${base}/big`), { digest: sha(big), size: big.length });
  });
  it('a 404 is a problem naming the URL and status', async () => {
    assert.deepEqual(await httpRemoteResolver()(`${base}/nope`), { problem: `${base}/nope: HTTP 404 Not Found (the build would fail)` });
  });
  it('caps size: by the claimed length without reading, and while streaming an endless body', async () => {
    assert.match((await httpRemoteResolver({ maxBytes: 1024 })(`${base}/liar`) as { problem: string }).problem, /1000000000000 bytes, over the 1024-byte limit/);
    assert.match((await httpRemoteResolver({ maxBytes: 1024 * 1024 })(`${base}/endless`) as { problem: string }).problem, /over the 1048576-byte limit/);
  });
  it('gives up after the timeout with a clear problem', async () => {
    assert.deepEqual(await httpRemoteResolver({ timeoutMs: 200 })(`${base}/slow`), { problem: `${base}/slow: no answer within 0 s` });
  });
  it('an unreachable host is a problem, not a throw', async () => {
    // A port that was just free: nothing listens there.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await httpRemoteResolver({ timeoutMs: 3000 })(`http://127.0.0.1:${port}/x`);
    assert.deepEqual(r, { problem: `http://127.0.0.1:${port}/x: ECONNREFUSED` });
  });
  it('a cancelled caller rejects with its abort reason', async () => {
    const ac = new AbortController();
    const p = httpRemoteResolver()(`${base}/slow`, ac.signal);
    ac.abort(new Error('stop'));
    await assert.rejects(p, /stop/);
  });
  it('only http(s) non-git URLs are sources it fetches', () => {
    assert.deepEqual(['https://a/b.tgz', 'http://a/b', 'https://a/r.git', 'https://a/r.git#main', 'git@github.com:a/b.git', 'src/'].map(isHttpSource),
      [true, true, false, false, false, false]);
  });
  it('cachedRemoteResolver downloads once per TTL per URL, shares concurrent asks and forgets failures', async () => {
    let now = 0;
    const r = cachedRemoteResolver(httpRemoteResolver(), 60_000, () => now);
    const [f0, n0] = [count('/file.txt'), count('/nope')];
    const [a, b] = await Promise.all([r(`${base}/file.txt`), r(`${base}/file.txt`)]);
    assert.deepEqual(a, b);
    assert.equal(count('/file.txt') - f0, 1);
    await r(`${base}/file.txt`);
    assert.equal(count('/file.txt') - f0, 1);
    now = 60_001;
    await r(`${base}/file.txt`);
    assert.equal(count('/file.txt') - f0, 2);
    await r(`${base}/nope`);
    await r(`${base}/nope`);
    assert.equal(count('/nope') - n0, 2, 'a failed download is asked again');
  });
  it('cachedRemoteResolver: one caller aborting does not cancel the shared download', async () => {
    let calls = 0;
    const slow: RemoteResolver = () => { calls++; return new Promise((res) => setTimeout(() => res({ digest: 'sha256:x', size: 1 }), 50)); };
    const r = cachedRemoteResolver(slow);
    const ac = new AbortController();
    const first = r('https://a/x', ac.signal);
    ac.abort(new Error('gone'));
    await assert.rejects(first, /gone/);
    assert.deepEqual(await r('https://a/x'), { digest: 'sha256:x', size: 1 });
    assert.equal(calls, 1);
  });
});
