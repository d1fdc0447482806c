import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KbackupError } from '../../../src/core/errors.js';
import { verifySegment } from '../../../src/core/segment/segment-reader.js';
import { SegmentWriter } from '../../../src/core/segment/segment-writer.js';
import { listDir, rec, sampleRecords, withTempDir } from './helpers.js';

describe('SegmentWriter', () => {
  it('rejects offsets that do not strictly increase, naming both offsets', async () => {
    await withTempDir(async (dir) => {
      const writer = await SegmentWriter.open(join(dir, 'seg'), { codec: 'none' });
      expect(writer.append(rec(10))).toBeUndefined();
      for (const offset of [10, 9, 0]) {
        let error: unknown;
        try {
          void writer.append(rec(offset));
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(KbackupError);
        expect((error as KbackupError).code).toBe('INTERNAL');
        expect((error as KbackupError).message).toContain(`got ${offset} after 10`);
      }
      // The rejected records left no trace.
      await writer.append(rec(11));
      const info = await writer.finish();
      expect(info.recordCount).toBe(2);
      expect(info.lastOffset).toBe(11n);
    });
  });

  it('never shows an unfinished segment under its final name, and abort removes the temp file', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'topic-0-0.kbseg');
      const writer = await SegmentWriter.open(path, { codec: 'zstd', blockBytes: 1024 });
      for (const record of sampleRecords(200)) {
        const wait = writer.append(record);
        if (wait) await wait;
      }
      const files = await listDir(dir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^\.topic-0-0\.kbseg\.tmp-[0-9a-f]{12}$/);
      expect(join(dir, files[0] ?? '')).toBe(writer.tempPath);
      await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
      // The temp file is not a readable segment either: its header is still the zero placeholder.
      const verdict = await verifySegment(writer.tempPath);
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) expect(verdict.error.message).toMatch(/bad magic/);

      await writer.abort();
      expect(await listDir(dir)).toEqual([]);
      await writer.abort();
      expect(() => writer.append(rec(1000))).toThrow(/aborted/);
      await expect(writer.finish()).rejects.toThrow(/aborted/);
    });
  });

  it('refuses to finish an empty segment and leaves no file', async () => {
    await withTempDir(async (dir) => {
      const writer = await SegmentWriter.open(join(dir, 'empty'), { codec: 'gzip' });
      await expect(writer.finish()).rejects.toMatchObject({
        code: 'INTERNAL',
        message: expect.stringMatching(/empty/) as unknown,
      });
      expect(await listDir(dir)).toEqual([]);
    });
  });

  it('finishes once: the final file is complete and later calls are errors', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'seg');
      const writer = await SegmentWriter.open(path, { codec: 'snappy' });
      await writer.append(rec(1));
      const info = await writer.finish();
      expect(await listDir(dir)).toEqual(['seg']);
      expect((await readFile(path)).length).toBe(info.fileBytes);
      await expect(writer.finish()).rejects.toThrow(/finished/);
      expect(() => writer.append(rec(2))).toThrow(/finished/);
      await writer.abort(); // no-op once finished
      expect(await listDir(dir)).toEqual(['seg']);
    });
  });

  it('applies backpressure only at block boundaries and enforces awaiting it', async () => {
    await withTempDir(async (dir) => {
      const writer = await SegmentWriter.open(join(dir, 'seg'), {
        codec: 'zstd',
        level: 6,
        blockBytes: 2048,
      });
      const records = sampleRecords(2000, 9);
      let waits = 0;
      let misuseChecked = false;
      for (const record of records) {
        const wait = writer.append(record);
        if (wait === undefined) continue;
        waits++;
        if (!misuseChecked) {
          expect(() => writer.append(rec(1_000_000))).toThrow(/before the previous append\(\) settled/);
          misuseChecked = true;
        }
        await wait;
      }
      expect(misuseChecked).toBe(true);
      // Most appends stay synchronous; a wait happens at most once per block.
      expect(waits).toBeLessThan(records.length / 5);
      const info = await writer.finish();
      expect(info.recordCount).toBe(records.length);
      expect((await verifySegment(join(dir, 'seg'))).ok).toBe(true);
    });
  });

  it('validates codec options before creating anything', async () => {
    await withTempDir(async (dir) => {
      await expect(SegmentWriter.open(join(dir, 's'), { codec: 'lz4', level: 3 })).rejects.toMatchObject({
        code: 'USAGE',
      });
      await expect(
        SegmentWriter.open(join(dir, 's'), { codec: 'none', blockBytes: 0 }),
      ).rejects.toMatchObject({
        code: 'USAGE',
      });
      expect(await listDir(dir)).toEqual([]);
    });
  });

  it('replaces an existing file at the final path atomically', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'seg');
      for (const first of [0, 100]) {
        const writer = await SegmentWriter.open(path, { codec: 'none' });
        await writer.append(rec(first));
        await writer.finish();
      }
      const verdict = await verifySegment(path);
      expect(verdict.ok && verdict.info.firstOffset).toBe(100n);
    });
  });
});
