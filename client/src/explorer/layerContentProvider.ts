/**
 * Readonly documents for "compare with previous version": `strata-layer:/<path>?<handle, image, layer, mode>`.
 * The text comes from the language server (size-capped); binary files show a one-line note instead of bytes.
 */
import * as vscode from 'vscode';
import { PREVIEW_MAX_BYTES } from '../../../server/src/protocol/webviewMessages';
import { errorMessage, type ImageService } from './imageService';

export const LAYER_SCHEME = 'strata-layer';

interface LayerFileRef { h: string; i: number; l: number; m: 'merged' | 'layer' }

export function layerContentUri(handle: string, image: number, layer: number, path: string, mode: 'merged' | 'layer'): vscode.Uri {
  const ref: LayerFileRef = { h: handle, i: image, l: layer, m: mode };
  // The path keeps the file name (and so the language) visible; the query says where to read it.
  return vscode.Uri.from({ scheme: LAYER_SCHEME, path: `/${path}`, query: JSON.stringify(ref) });
}

export class LayerContentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly service: ImageService) {}

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    let ref: LayerFileRef;
    try {
      ref = JSON.parse(uri.query) as LayerFileRef;
    } catch {
      return '(invalid strata-layer address)';
    }
    const o = this.service.byHandle(String(ref.h));
    if (!o) return '(this image is no longer open)';
    const path = uri.path.replace(/^\//, '');
    try {
      const f = await this.service.readFile(o, { image: Number(ref.i), layer: Number(ref.l), path, mode: ref.m === 'layer' ? 'layer' : 'merged', maxBytes: PREVIEW_MAX_BYTES }, token);
      if (f.text === null) return `(binary file, ${f.size} bytes, from layer ${f.layerIndex})`;
      return f.truncated ? `${f.text}\n… (first ${PREVIEW_MAX_BYTES} of ${f.size} bytes)` : f.text;
    } catch (e) {
      return `(not present in layer ${ref.l}: ${errorMessage(e)})`;
    }
  }
}
