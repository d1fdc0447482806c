/**
 * Large buffers kept for reuse instead of being allocated per block, request or fetch. Each fresh buffer
 * of a MiB or two comes from malloc (glibc serves that size from the heap once a few have been freed), and
 * the churn of such buffers left tens of MiB of freed but resident memory behind: a 1 GiB backup with codec
 * none peaked at 215-222 MiB RSS with fresh buffers and at 170-180 MiB with reused ones (docs/BENCHMARKS.md,
 * fifth round).
 *
 * A buffer handed out by take() belongs to the caller until it calls release(); after that, the caller must
 * not touch it or any view of it, since the next take() hands the same memory out again.
 */
export class BufferPool {
  readonly #spares: Buffer[] = [];
  /** The memory this pool allocated: only those are taken back. */
  readonly #own = new WeakSet<ArrayBufferLike>();

  constructor(
    /** Size of the pooled buffers; larger requests get a buffer of their own, never pooled. */
    readonly bufferBytes: number,
    /** Buffers kept while unused; more are freed as usual. */
    readonly maxSpares: number,
  ) {}

  /** An uninitialized buffer of exactly `bytes` bytes: a view of a pooled buffer when it fits in one. */
  take(bytes: number): Buffer {
    if (bytes > this.bufferBytes) return Buffer.allocUnsafe(bytes);
    let buffer = this.#spares.pop();
    if (buffer === undefined) {
      // allocUnsafeSlow: memory of its own, never a slice of Node's shared pool for small buffers.
      buffer = Buffer.allocUnsafeSlow(this.bufferBytes);
      this.#own.add(buffer.buffer);
    }
    return buffer.subarray(0, bytes);
  }

  /** Takes back a buffer from take() (any view of it); other buffers, and a second release, are ignored. */
  release(view: Buffer): void {
    const memory = view.buffer;
    if (!this.#own.has(memory) || this.#spares.length >= this.maxSpares) return;
    if (this.#spares.some((spare) => spare.buffer === memory)) return;
    this.#spares.push(Buffer.from(memory, 0, this.bufferBytes));
  }

  /** Unused buffers held (for tests). */
  get spareCount(): number {
    return this.#spares.length;
  }
}

/**
 * `buffer` if it holds `capacity` bytes, else a new one of at least twice its size with its first `used`
 * bytes copied over: the growth of buffers that are filled and then reused (fetched runs, produce requests).
 */
export function grownBuffer(buffer: Buffer, used: number, capacity: number): Buffer {
  if (capacity <= buffer.length) return buffer;
  let size = Math.max(buffer.length * 2, 1);
  while (size < capacity) size *= 2;
  const grown = Buffer.allocUnsafeSlow(size);
  buffer.copy(grown, 0, 0, used);
  return grown;
}
