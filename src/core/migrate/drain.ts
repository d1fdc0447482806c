/**
 * Decides when a source has gone quiet for --until-drained: its end offsets have not moved for
 * `quietForMs`. The first observation starts the clock, so a source is never judged quiet before it was
 * watched for the whole period.
 */
export class QuietTracker {
  #ends = new Map<string, bigint>();
  #changedAt: number | undefined;

  constructor(readonly quietForMs: number) {}

  observe(now: number, ends: ReadonlyMap<string, bigint>): void {
    const changed =
      this.#changedAt === undefined ||
      ends.size !== this.#ends.size ||
      [...ends].some(([key, end]) => this.#ends.get(key) !== end);
    if (changed) {
      this.#changedAt = now;
      this.#ends = new Map(ends);
    }
  }

  quiet(now: number): boolean {
    return this.#changedAt !== undefined && now - this.#changedAt >= this.quietForMs;
  }

  /** The end offsets last seen (the cut a drained migration stops at). */
  ends(): ReadonlyMap<string, bigint> {
    return this.#ends;
  }
}

/** True when every partition's copy position has reached its end offset. */
export function caughtUp(positions: ReadonlyMap<string, bigint>, ends: ReadonlyMap<string, bigint>): boolean {
  return [...ends].every(([key, end]) => (positions.get(key) ?? -1n) >= end);
}
