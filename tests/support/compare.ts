import { expect } from 'vitest';
import type { OracleRecord } from './kafka-reader.js';

const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));

/** A record as plain data, so that a mismatch prints which field of which record differs. */
function view(r: OracleRecord, withOffset: boolean) {
  return {
    ...(withOffset ? { offset: r.offset.toString() } : {}),
    timestamp: r.timestamp.toString(),
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map(([k, v]) => [hex(k), hex(v)]),
  };
}

/**
 * Asserts that two topics hold the same records partition by partition, in order, byte for byte: key,
 * value (null distinct from empty), headers in order, timestamp, and (when asked) offsets.
 */
export function expectSameRecords(
  actual: OracleRecord[][],
  expected: OracleRecord[][],
  options: { compareOffsets?: boolean } = {},
): void {
  expect(actual.length).toBe(expected.length);
  for (let p = 0; p < expected.length; p++) {
    const a = actual[p] ?? [];
    const e = expected[p] ?? [];
    expect(a.length, `record count of partition ${p}`).toBe(e.length);
    for (let i = 0; i < e.length; i++) {
      const ra = a[i];
      const re = e[i];
      if (!ra || !re) throw new Error(`missing record ${i} in partition ${p}`);
      expect(view(ra, options.compareOffsets === true), `partition ${p} record ${i}`).toEqual(
        view(re, options.compareOffsets === true),
      );
      // toEqual on hex strings already distinguishes null from empty; make the intent explicit as well.
      expect(ra.key === null).toBe(re.key === null);
      expect(ra.value === null).toBe(re.value === null);
    }
  }
}
