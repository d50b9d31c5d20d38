/**
 * Typed columns that grow by doubling while a file streams in. A JS number[] would cost 8 bytes
 * per entry plus its own doubling copies; these cost 4 (or 8 for times) and hand their data to
 * Interactions as a view, without another copy of the whole column.
 */
type TypedArray = Int32Array | Float32Array | Float64Array;
type Ctor<T extends TypedArray> = { new (length: number): T };

export class Column<T extends TypedArray> {
  private data: T;
  length = 0;

  constructor(
    private readonly ctor: Ctor<T>,
    capacity = 1024,
  ) {
    this.data = new ctor(capacity);
  }

  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new this.ctor(this.data.length * 2);
      next.set(this.data as never);
      this.data = next;
    }
    this.data[this.length++] = x;
  }

  /** The filled part (a view: valid until the next push). */
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

export const int32Column = () => new Column(Int32Array);
export const float32Column = () => new Column(Float32Array);
export const float64Column = () => new Column(Float64Array);
