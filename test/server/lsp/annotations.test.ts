// PredictionAnnotations over a real folder on disk: closing a Dockerfile stops its prediction (context hashing
// included) and frees the index of a context no open document uses any more.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Connection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { PredictionAnnotations } from '../../../server/src/lsp/annotations';

/** The connection calls the annotations make (notifications and refresh requests), recorded and answered at once. */
function recordingConnection(): { connection: Connection; sent: string[] } {
  const sent: string[] = [];
  const connection = {
    sendNotification: async (type: string | { method: string }) => { sent.push(typeof type === 'string' ? type : type.method); },
    sendRequest: async (method: string) => { sent.push(method); return null; },
  } as unknown as Connection;
  return { connection, sent };
}

describe('PredictionAnnotations: closing documents', () => {
  let root = '';
  const docs: TextDocument[] = [];
  const doc = (dir: string) => TextDocument.create(pathToFileURL(path.join(root, dir, 'Dockerfile')).href, 'dockerfile', 1, 'FROM scratch\nCOPY . /app\n');
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'strata-annotations-'));
    for (const dir of ['a', 'b']) {
      mkdirSync(path.join(root, dir, 'src'), { recursive: true });
      writeFileSync(path.join(root, dir, 'Dockerfile'), 'FROM scratch\nCOPY . /app\n');
      // Enough files that hashing is still running when the document closes.
      for (let i = 0; i < 3000; i++) writeFileSync(path.join(root, dir, 'src', `f${i}.txt`), `${dir}${i}\n`);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a closed document\'s prediction is cancelled (null, no notification) and its context index dropped', async () => {
    const { connection, sent } = recordingConnection();
    const a = doc('a');
    docs.splice(0, docs.length, a);
    const annotations = new PredictionAnnotations(connection, () => docs);
    try {
      const pending = annotations.predict(a);
      assert.deepEqual(annotations.indexedContexts, [path.join(root, 'a')]);
      docs.splice(0); // the client closed it: no longer among the open documents
      annotations.forget(a.uri);
      assert.equal(await pending, null);
      assert.ok(!sent.includes('strata/prediction/changed'), `a cancelled prediction is not announced: ${sent.join(', ')}`);
      assert.deepEqual(annotations.indexedContexts, []);
    } finally {
      annotations.dispose();
    }
  });

  it('an index still used by another open document is kept, and that document is still predicted', async () => {
    const { connection, sent } = recordingConnection();
    const a = doc('a');
    const a2 = TextDocument.create(pathToFileURL(path.join(root, 'a', 'Other.Dockerfile')).href, 'dockerfile', 1, 'FROM scratch\nCOPY src /s\n');
    docs.splice(0, docs.length, a, a2);
    const annotations = new PredictionAnnotations(connection, () => docs);
    try {
      void annotations.predict(a);
      docs.splice(0, 1);
      annotations.forget(a.uri);
      assert.deepEqual(annotations.indexedContexts, [path.join(root, 'a')]);
      const p = await annotations.predict(a2);
      assert.ok(p, 'the other document is predicted');
      assert.equal(p!.instructions.length, 2);
      assert.equal(p!.instructions[1]!.cache, 'unknown', 'no baseline: never a hit');
      assert.ok(sent.includes('strata/prediction/changed'));
    } finally {
      annotations.dispose();
    }
  });
});
