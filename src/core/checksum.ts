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
