import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/core/checksum.js';
import {
  CODEC_NAMES,
  codecFromId,
  codecId,
  compressBlock,
  compressBlockSync,
  decompressBlock,
  decompressBlockSync,
  formatCodec,
  parseCodec,
  type CodecName,
} from '../../src/core/codecs.js';
import { KbackupError } from '../../src/core/errors.js';
import { prng, randomBytes } from './segment/helpers.js';

function jsonBlock(bytes: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const part = JSON.stringify({ id: i, customer: `c-${i % 97}`, status: i % 3 ? 'shipped' : 'pending' });
    parts.push(part);
    size += part.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

describe('crc32c', () => {
  it('matches the CRC-32C check value and differs from zlib CRC-32', () => {
    const check = Buffer.from('123456789');
    expect(crc32c(check)).toBe(0xe3069283);
    expect(zlib.crc32(check)).toBe(0xcbf43926);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('continues a running checksum across pieces', () => {
    const data = randomBytes(prng(7), 10_000);
    let running = 0;
    for (let at = 0; at < data.length; at += 777) running = crc32c(data.subarray(at, at + 777), running);
    expect(running).toBe(crc32c(data));
  });
});

describe('codec ids', () => {
  it("uses Kafka's compression ids both ways", () => {
    expect(CODEC_NAMES.map((name) => [name, codecId(name)])).toEqual([
      ['none', 0],
      ['gzip', 1],
      ['snappy', 2],
      ['lz4', 3],
      ['zstd', 4],
    ]);
    for (const name of CODEC_NAMES) expect(codecFromId(codecId(name))).toBe(name);
    expect(codecFromId(5)).toBeUndefined();
    expect(codecFromId(255)).toBeUndefined();
  });
});

describe('parseCodec', () => {
  it.each([
    ['zstd', { codec: 'zstd' }],
    ['zstd:5', { codec: 'zstd', level: 5 }],
    ['zstd:22', { codec: 'zstd', level: 22 }],
    ['gzip:9', { codec: 'gzip', level: 9 }],
    ['gzip', { codec: 'gzip' }],
    ['lz4', { codec: 'lz4' }],
    ['snappy', { codec: 'snappy' }],
    ['none', { codec: 'none' }],
    [' ZSTD:1 ', { codec: 'zstd', level: 1 }],
  ])('accepts %j', (text, expected) => {
    expect(parseCodec(text)).toEqual(expected);
    expect(formatCodec(parseCodec(text))).toBe(text.trim().toLowerCase());
  });

  it.each([
    '',
    'brotli',
    'zstd:',
    'zstd:0',
    'zstd:23',
    'zstd:-1',
    'gzip:10',
    'gzip:0',
    'lz4:1',
    'snappy:2',
    'none:0',
    'zstd:x',
    'zstd:3:4',
  ])('rejects %j with a USAGE error naming the valid forms', (text) => {
    let error: unknown;
    try {
      parseCodec(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KbackupError);
    const kb = error as KbackupError;
    expect(kb.code).toBe('USAGE');
    expect(`${kb.message} ${kb.hint ?? ''}`).toMatch(
      /none, gzip\[:1-9\], snappy, lz4, zstd\[:1-22\]|out of range/,
    );
  });
});

describe('block codecs', () => {
  const block = jsonBlock(256 * 1024);
  const binary = randomBytes(prng(3), 64 * 1024);

  it.each(CODEC_NAMES)('%s round-trips, async and sync output decoding either way', async (codec) => {
    for (const raw of [block, binary, Buffer.from([0x42])]) {
      const stored = await compressBlock(codec, raw);
      const storedSync = compressBlockSync(codec, raw);
      for (const s of [stored, storedSync]) {
        expect((await decompressBlock(codec, s, raw.length)).equals(raw)).toBe(true);
        expect(decompressBlockSync(codec, s, raw.length).equals(raw)).toBe(true);
      }
    }
  });

  it('compresses JSON with every real codec and none stores the input as is', async () => {
    expect(await compressBlock('none', block)).toBe(block);
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      expect((await compressBlock(codec, block)).length).toBeLessThan(block.length / 2);
    }
  });

  it('uses the LZ4 frame format and zstd/gzip magic numbers', async () => {
    expect((await compressBlock('lz4', block)).readUInt32LE(0)).toBe(0x184d2204);
    expect((await compressBlock('zstd', block)).readUInt32LE(0)).toBe(0xfd2fb528);
    expect((await compressBlock('gzip', block)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('sizes the zstd context for the block above level 9, and reuses compressors up to it', async () => {
    // Frame header descriptor, bits 6-7: how many bytes of content size follow (0 with no single segment:
    // none). The one-shot call pledges the block's size; a reused stream cannot, and above level 9 its
    // context would be sized for any input (GiBs at level 22).
    const contentSizeFlag = (frame: Buffer): number => (frame[4] as number) >> 6;
    for (const level of [1, 3, 9]) {
      expect(contentSizeFlag(await compressBlock('zstd', block, level))).toBe(0);
    }
    for (const level of [10, 19, 22]) {
      const frame = await compressBlock('zstd', block, level);
      expect(contentSizeFlag(frame)).toBeGreaterThan(0);
      expect((await decompressBlock('zstd', frame, block.length)).equals(block)).toBe(true);
    }
  });

  it('applies levels: zstd:19 and gzip:9 are no larger than level 1', async () => {
    const z1 = await compressBlock('zstd', block, 1);
    const z19 = await compressBlock('zstd', block, 19);
    expect(z19.length).toBeLessThanOrEqual(z1.length);
    expect((await compressBlock('gzip', block, 9)).length).toBeLessThanOrEqual(
      (await compressBlock('gzip', block, 1)).length,
    );
    await expect(compressBlock('lz4', block, 3)).rejects.toMatchObject({ code: 'USAGE' });
    await expect(compressBlock('zstd', block, 40)).rejects.toMatchObject({ code: 'USAGE' });
  });

  it.each(CODEC_NAMES)('%s rejects a wrong rawLength as SEGMENT_CORRUPT', async (codec) => {
    const stored = await compressBlock(codec, block);
    await expect(decompressBlock(codec, stored, block.length + 1)).rejects.toMatchObject({
      code: 'SEGMENT_CORRUPT',
      message: expect.stringMatching(new RegExp(`^${codec}`)) as unknown,
    });
    expect(() => decompressBlockSync(codec, stored, block.length - 1)).toThrow(KbackupError);
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as CodecName[])(
    '%s turns garbage into SEGMENT_CORRUPT',
    async (codec) => {
      const garbage = randomBytes(prng(11), 300);
      await expect(decompressBlock(codec, garbage, 1000)).rejects.toMatchObject({ code: 'SEGMENT_CORRUPT' });
      expect(() => decompressBlockSync(codec, garbage, 1000)).toThrow(KbackupError);
    },
  );
});
