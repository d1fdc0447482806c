/**
 * A block of lines redrawn in place on a terminal: each draw moves the cursor back up over the previous
 * block and clears to the end of the screen, so that partitions can come and go between draws.
 */
export class TtyBlock {
  readonly #out: NodeJS.WritableStream;
  #lines = 0;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  draw(text: string): void {
    this.#out.write(`${this.#up()}\x1b[0J${text}\n`);
    this.#lines = text.split('\n').length;
  }

  /** Removes the block, e.g. before a warning or the final result is printed. */
  clear(): void {
    if (this.#lines === 0) return;
    this.#out.write(`${this.#up()}\x1b[0J`);
    this.#lines = 0;
  }

  #up(): string {
    return this.#lines > 0 ? `\x1b[${this.#lines}A\r` : '';
  }
}
