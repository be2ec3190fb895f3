import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DockerIgnore } from '../../../server/src/cache/dockerignore';

// Expected results follow moby/patternmatcher (MatchesOrParentMatches), which the docker CLI applies to the context.
describe('DockerIgnore (patternmatcher semantics)', () => {
  const cases: [string, string, boolean][] = [
    ['*.md', 'a.md', true], ['*.md', 'd/a.md', false], ['**/*.md', 'd/e/a.md', true], ['**/*.md', 'a.md', true],
    ['/build', 'build/x/y', true], ['./build', 'build', true], ['d/**', 'd/x/y', true], ['d', 'd/x', true],
    ['a?c', 'abc', true], ['a?c', 'a/c', false], ['[ab].txt', 'b.txt', true], ['[!a].txt', 'b.txt', true],
    ['# comment', '# comment', false], ['\\#x', '#x', true], ['**', 'anything/at/all', true],
  ];
  for (const [pattern, p, want] of cases) it(`${pattern} ${want ? 'excludes' : 'keeps'} ${p}`, () => assert.equal(new DockerIgnore(pattern).excludes(p), want));
  it('the last matching pattern wins; ! re-includes', () => {
    const ig = new DockerIgnore('*.md\n!README.md\nREADME.md\n!docs/keep.md\ndocs\n!docs/keep.md\n');
    assert.equal(ig.excludes('a.md'), true);
    assert.equal(ig.excludes('README.md'), true);
    assert.equal(ig.excludes('docs/x.md'), true);
    assert.equal(ig.excludes('docs/keep.md'), false);
  });
  it('CRLF files and odd patterns do not crash', () => {
    const ig = new DockerIgnore('a\r\n[\r\n!\r\n\r\n  b  \r\n');
    assert.equal(ig.excludes('a'), true);
    assert.equal(ig.excludes('b'), true);
    assert.equal(ig.excludes('['), true);
  });
});

describe('DockerIgnore.of (the matcher shared per text)', () => {
  it('answers the same text with the same matcher, which matches like a new one, repeatedly', () => {
    const text = 'node_modules\n*.log\n!keep.log\n';
    const shared = DockerIgnore.of(text);
    assert.equal(DockerIgnore.of(text), shared);
    for (let i = 0; i < 2; i++) {
      for (const p of ['node_modules/x', 'a.log', 'keep.log', 'src/a.ts']) assert.equal(shared.excludes(p), new DockerIgnore(text).excludes(p), p);
    }
  });

  it('keeps the last few texts: a text pushed out by eight others is compiled again', () => {
    const first = DockerIgnore.of('first-pattern\n');
    for (let i = 0; i < 8; i++) DockerIgnore.of(`other-${i}\n`);
    const again = DockerIgnore.of('first-pattern\n');
    assert.notEqual(again, first);
    assert.equal(again.excludes('first-pattern'), true);
  });
});
