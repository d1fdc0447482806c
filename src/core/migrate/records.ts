import type { BackupRecord } from '../record.js';

const sameBytes = (a: Buffer | null, b: Buffer | null): boolean =>
  a === null || b === null ? a === b : a.equals(b);

/**
 * Whether a record read back from the target is the copy of a source record: key, value and headers byte
 * for byte. Timestamps are left out: a target created with LogAppendTime re-stamps records.
 */
export function sameContent(a: BackupRecord, b: BackupRecord): boolean {
  if (!sameBytes(a.key, b.key) || !sameBytes(a.value, b.value) || a.headers.length !== b.headers.length)
    return false;
  return a.headers.every((h, i) => {
    const other = b.headers[i];
    return other !== undefined && h[0].equals(other[0]) && sameBytes(h[1], other[1]);
  });
}

/** Bytes of per-record framing counted against a produce request besides the payload. */
export const RECORD_OVERHEAD = 64;
