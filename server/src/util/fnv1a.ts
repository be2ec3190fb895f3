/** FNV-1a (32-bit) constants, for hashing bytes in place (see `ImageTree.segIdAscii`). */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/**
 * FNV-1a over a string's UTF-16 code units, as a signed 32-bit int: cheap, and only meant to spread keys over an
 * open-addressing table. For an ASCII string it equals the hash of its bytes.
 */
export function fnv1aString(s: string): number {
  let h = FNV_OFFSET;
  for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), FNV_PRIME);
  return h;
}
