import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cCombine } from '../../../src/core/checksum.js';

describe('crc32cCombine', () => {
  it('equals the CRC-32C of the concatenation, for any split and any starting CRC', () => {
    for (const [a, b] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [5, 7],
      [16, 1024 * 1024],
      [12, 333],
      [1000, 65_537],
      [3, 2_000_001],
    ] as const) {
      const first = randomBytes(a);
      const second = randomBytes(b);
      const whole = crc32c(Buffer.concat([first, second]));
      expect(crc32cCombine(crc32c(first), crc32c(second), b)).toBe(whole);
      // Continuing a running checksum, as the body CRC does.
      const running = crc32c(randomBytes(9));
      expect(crc32cCombine(crc32c(first, running), crc32c(second), b)).toBe(
        crc32c(second, crc32c(first, running)),
      );
    }
  });

  it('keeps the check value', () => {
    expect(crc32cCombine(crc32c(Buffer.from('1234')), crc32c(Buffer.from('56789')), 5)).toBe(0xe3069283);
  });
});
