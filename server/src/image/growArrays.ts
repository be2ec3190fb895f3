/** Append-only typed arrays that double when full: the tree's columnar storage (a few bytes per entry, no objects). */
type TypedCtor<T> = { new (n: number): T };

class Grow<T extends Int32Array | Uint32Array | Uint8Array | Uint16Array | Float64Array> {
  data: T;
  length = 0;
  /**
   * `initial` is small by default so that the first growths happen while an open's code is still interpreted: a
   * first growth after V8 has optimised `push` deoptimises it (that branch had no type feedback yet).
   */
  constructor(private readonly ctor: TypedCtor<T>, initial = 64) {
    this.data = new ctor(initial);
  }
  /**
   * Overridden with the same body in every subclass, on purpose: one shared `push` would see five typed-array
   * kinds and its element store would go megamorphic (it is called ~12 times per tar entry, the hot loop of an
   * image open); a copy per class keeps each store monomorphic.
   */
  push(v: number): number {
    if (this.length === this.data.length) this.grow();
    this.data[this.length] = v;
    return this.length++;
  }
  /** Room for at least `n` values. */
  reserve(n: number): void {
    while (this.data.length < n) this.grow();
  }
  /**
   * ×4 while small, ×2 beyond 64 Ki values: each growth allocates a new buffer, and on a cold open a growth measured
   * ~0.2–0.3 ms (an image of 15 000 entries grew its columns 155 times ×2 from 64); spare capacity is trimmed after.
   */
  protected grow(): void {
    const n = this.data.length;
    const next = new this.ctor(n < 65536 ? n * 4 : n * 2);
    next.set(this.data as never);
    this.data = next;
  }
  /** Drops spare capacity once no more values come (saves up to half the memory). */
  trim(): void {
    if (this.data.length > this.length) {
      const next = new this.ctor(Math.max(this.length, 1));
      next.set(this.data.subarray(0, this.length) as never);
      this.data = next;
    }
  }
}

export class GrowInt32 extends Grow<Int32Array> {
  constructor(initial?: number) {
    super(Int32Array, initial);
  }
  override push(v: number): number {
    if (this.length === this.data.length) this.grow();
    this.data[this.length] = v;
    return this.length++;
  }
}
export class GrowUint32 extends Grow<Uint32Array> {
  constructor(initial?: number) {
    super(Uint32Array, initial);
  }
  override push(v: number): number {
    if (this.length === this.data.length) this.grow();
    this.data[this.length] = v;
    return this.length++;
  }
}
export class GrowUint8 extends Grow<Uint8Array> {
  constructor(initial?: number) {
    super(Uint8Array, initial);
  }
  override push(v: number): number {
    if (this.length === this.data.length) this.grow();
    this.data[this.length] = v;
    return this.length++;
  }
}
export class GrowUint16 extends Grow<Uint16Array> {
  constructor(initial?: number) {
    super(Uint16Array, initial);
  }
  override push(v: number): number {
    if (this.length === this.data.length) this.grow();
    this.data[this.length] = v;
    return this.length++;
  }
}
export class GrowFloat64 extends Grow<Float64Array> {
  constructor(initial?: number) {
    super(Float64Array, initial);
  }
  override push(v: number): number {
    if (this.length === this.data.length) this.grow();
    this.data[this.length] = v;
    return this.length++;
  }
}
