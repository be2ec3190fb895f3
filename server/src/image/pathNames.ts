/**
 * Tar entry names are bytes. Valid UTF-8 is decoded as is; anything else is shown with `\xNN` escapes for the
 * bytes that are not valid UTF-8 (so non-UTF-8 names stay distinct and printable) and flagged `raw`.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface DecodedName {
  text: string;
  raw: boolean;
}

export function decodeName(bytes: Uint8Array): DecodedName {
  try {
    return { text: utf8.decode(bytes), raw: false };
  } catch {
    let s = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      s += b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    }
    return { text: s, raw: true };
  }
}

export type SplitPath = { ok: true; segments: string[]; absolute: boolean } | { ok: false; why: string };

/**
 * Splits a layer entry path into segments: drops `./` and `/` prefixes, empty and `.` segments and a trailing `/`.
 * A `..` segment is refused (path traversal); so is a path deeper than `maxDepth` segments.
 */
export function splitEntryPath(text: string, maxDepth: number): SplitPath {
  const segments: string[] = [];
  let start = 0;
  const n = text.length;
  for (let i = 0; i <= n; i++) {
    if (i === n || text.charCodeAt(i) === 0x2f) {
      if (i > start) {
        const seg = text.slice(start, i);
        if (seg === '..') return { ok: false, why: 'path escapes the image root (..)' };
        if (seg !== '.') {
          if (segments.length >= maxDepth) return { ok: false, why: `path deeper than ${maxDepth} levels` };
          segments.push(seg);
        }
      }
      start = i + 1;
    }
  }
  return { ok: true, segments, absolute: text.charCodeAt(0) === 0x2f };
}
