import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CodecName } from '../../../src/core/codecs.js';
import type { BackupRecord, RecordHeader } from '../../../src/core/record.js';

export const ALL_CODECS: CodecName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** mulberry32: tiny seeded PRNG so every run of the randomized tests sees the same inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInt(rand: () => number, maxExclusive: number): number {
  return Math.floor(rand() * maxExclusive);
}

export function randomBytes(rand: () => number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = randomInt(rand, 256);
  return buf;
}

export function rec(
  offset: bigint | number,
  fields: Partial<Omit<BackupRecord, 'offset'>> = {},
): BackupRecord {
  return {
    offset: BigInt(offset),
    timestamp: fields.timestamp ?? 1_700_000_000_000n + (BigInt(offset) % 1_000_000n),
    timestampType: fields.timestampType ?? 0,
    key: fields.key === undefined ? Buffer.from(`key-${offset}`) : fields.key,
    value: fields.value === undefined ? Buffer.from(`value-${offset}`) : fields.value,
    headers: fields.headers ?? [],
  };
}

/** Realistic-ish records: JSON-like values, some null keys, some headers, offsets from `first` up. */
export function sampleRecords(count: number, seed = 1, first = 0n): BackupRecord[] {
  const rand = prng(seed);
  const out: BackupRecord[] = [];
  for (let i = 0; i < count; i++) {
    const headers: RecordHeader[] = [];
    const headerCount = randomInt(rand, 3);
    for (let h = 0; h < headerCount; h++) headers.push([Buffer.from(`h${h}`), Buffer.from(`v${i}`)]);
    out.push({
      offset: first + BigInt(i),
      timestamp: 1_700_000_000_000n + BigInt(randomInt(rand, 100_000)),
      timestampType: i % 7 === 0 ? 1 : 0,
      key: i % 5 === 0 ? null : Buffer.from(`order-${randomInt(rand, 1000)}`),
      value: Buffer.from(
        JSON.stringify({ i, amount: randomInt(rand, 1e6), note: 'x'.repeat(randomInt(rand, 200)) }),
      ),
      headers,
    });
  }
  return out;
}

function expectBytes(actual: Buffer | null, expected: Buffer | null, what: string): void {
  if (expected === null) {
    expect(actual, what).toBeNull();
  } else {
    expect(actual, what).not.toBeNull();
    expect(actual?.length, `${what} length`).toBe(expected.length);
    expect(actual?.equals(expected), `${what} bytes`).toBe(true);
  }
}

/** Field-by-field, byte-for-byte comparison that names the first difference. */
export function expectSameRecords(actual: BackupRecord[], expected: BackupRecord[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (a === undefined || e === undefined) throw new Error(`record ${i} missing`);
    const at = `record ${i} (offset ${e.offset})`;
    expect(a.offset, `${at} offset`).toBe(e.offset);
    expect(a.timestamp, `${at} timestamp`).toBe(e.timestamp);
    expect(a.timestampType, `${at} timestampType`).toBe(e.timestampType);
    expectBytes(a.key, e.key, `${at} key`);
    expectBytes(a.value, e.value, `${at} value`);
    expect(a.headers.length, `${at} header count`).toBe(e.headers.length);
    e.headers.forEach(([key, value], h) => {
      const header = a.headers[h];
      expectBytes(header?.[0] ?? null, key, `${at} header ${h} key`);
      expectBytes(header?.[1] ?? null, value, `${at} header ${h} value`);
    });
  }
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kbackup-seg-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Collects every record a block stream yields. */
export async function collect(blocks: AsyncIterable<BackupRecord[]>): Promise<BackupRecord[]> {
  const out: BackupRecord[] = [];
  for await (const block of blocks) for (const record of block) out.push(record);
  return out;
}
