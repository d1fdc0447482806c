import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/**
 * CRC-32C (Castagnoli), the checksum Kafka itself uses for record batches. It is hardware-accelerated
 * (SSE4.2 / ARMv8 CRC) in @node-rs/crc32, so it runs at memory bandwidth; node:zlib's crc32 is the
 * IEEE polynomial and gives different values, so the two are not interchangeable.
 *
 * `initial` continues a running checksum: crc32c(b, crc32c(a)) === crc32c(a ++ b).
 */
export function crc32c(buf: Uint8Array, initial?: number): number {
  return nativeCrc32c(buf, initial);
}

/** CRC-32C's polynomial, bit-reversed (the checksum is computed least significant bit first). */
const POLY_REVERSED = 0x82f63b78;

/** a(x) * b(x) modulo the polynomial, both in the reflected bit order the CRC uses. */
function multModP(a: number, b: number): number {
  let m = 0x8000_0000;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLY_REVERSED : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N: number[] = [];
{
  let p = 0x4000_0000; // x^1
  for (let k = 0; k < 32; k++) {
    X2N.push(p);
    p = multModP(p, p);
  }
}

/** x^(n * 2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x8000_0000; // x^0 = 1
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31] as number, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/**
 * The CRC-32C of A followed by B, from crc32c(A), crc32c(B) and B's length, without reading either (zlib's
 * crc32_combine, for the Castagnoli polynomial). A few microseconds, where a second pass over a 1 MiB
 * block takes a few hundred.
 */
export function crc32cCombine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA) ^ crcB) >>> 0;
}
