/**
 * A fatal problem reading an image archive: the CLI prints `strata: <what>: <why>` and exits 2.
 * `what` names the archive/blob/layer, `why` says what is wrong in user terms.
 */
export class ImageReadError extends Error {
  override readonly name = 'ImageReadError';
  constructor(
    readonly what: string,
    readonly why: string,
  ) {
    super(`${what}: ${why}`);
  }
}
