import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KbackupError } from '../../../src/core/errors.js';
import { mapFsError } from '../../../src/core/segment/fs-errors.js';
import { SegmentWriter } from '../../../src/core/segment/segment-writer.js';
import { listDir, rec, sampleRecords, withTempDir } from './helpers.js';

// Fault injection: running as root (or on tmpfs) makes real ENOSPC/EACCES hard to provoke portably, so
// the positional write helper fails on demand; everything above it is the real code.
const fault = vi.hoisted(() => ({ code: undefined as string | undefined, afterWrites: 0, writes: 0 }));

vi.mock('../../../src/core/segment/file-io.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/core/segment/file-io.js')>();
  return {
    ...original,
    writeFully: async (...args: Parameters<typeof original.writeFully>): Promise<void> => {
      fault.writes++;
      if (fault.code !== undefined && fault.writes > fault.afterWrites) {
        throw Object.assign(new Error(`${fault.code}: simulated`), { code: fault.code });
      }
      await original.writeFully(...args);
    },
  };
});

afterEach(() => {
  fault.code = undefined;
  fault.writes = 0;
  fault.afterWrites = 0;
});

const CASES = [
  ['ENOSPC', 'DISK', /No space left on device/],
  ['EDQUOT', 'DISK', /quota/],
  ['EACCES', 'PERMISSION', /Permission denied/],
  ['EROFS', 'PERMISSION', /Read-only file system/],
] as const;

describe('SegmentWriter filesystem failures', () => {
  it.each(CASES)(
    '%s while writing blocks becomes %s, names the path and leaves no file',
    async (code, kb, message) => {
      await withTempDir(async (dir) => {
        const path = join(dir, 'seg');
        const writer = await SegmentWriter.open(path, { codec: 'lz4', blockBytes: 1024 });
        fault.code = code;
        fault.afterWrites = fault.writes + 2; // fail the third block write
        let error: unknown;
        try {
          for (const record of sampleRecords(500)) {
            const wait = writer.append(record);
            if (wait) await wait;
          }
          await writer.finish();
        } catch (caught) {
          error = caught;
          await writer.abort();
        }
        expect(error).toBeInstanceOf(KbackupError);
        const e = error as KbackupError;
        expect(e.code).toBe(kb);
        expect(e.message).toMatch(message);
        expect(e.message).toContain(writer.tempPath);
        expect(e.hint).toBeTruthy();
        expect(await listDir(dir)).toEqual([]);
      });
    },
  );

  it.each(CASES)('%s while writing the header at finish() leaves no file by itself', async (code, kb) => {
    await withTempDir(async (dir) => {
      const writer = await SegmentWriter.open(join(dir, 'seg'), { codec: 'none' });
      await writer.append(rec(1));
      fault.code = code;
      fault.afterWrites = fault.writes + 1; // the block write succeeds, the trailer fails
      await expect(writer.finish()).rejects.toMatchObject({ code: kb });
      expect(await listDir(dir)).toEqual([]);
    });
  });

  it('fails open() cleanly when even the placeholder header cannot be written', async () => {
    await withTempDir(async (dir) => {
      fault.code = 'ENOSPC';
      await expect(SegmentWriter.open(join(dir, 'seg'), { codec: 'none' })).rejects.toMatchObject({
        code: 'DISK',
      });
      expect(await listDir(dir)).toEqual([]);
    });
  });

  it('reports a missing directory as DISK naming the path', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'missing', 'seg');
      await expect(SegmentWriter.open(path, { codec: 'none' })).rejects.toMatchObject({
        code: 'DISK',
        message: expect.stringContaining(join(dir, 'missing')) as unknown,
      });
    });
  });
});

describe('mapFsError', () => {
  it('maps errno codes and passes KbackupErrors through', () => {
    const err = (code: string): Error => Object.assign(new Error(code), { code });
    expect(mapFsError(err('ENOSPC'), '/r/x', 'writing').canRetry).toBe(true);
    expect(mapFsError(err('EPERM'), '/r/x', 'writing').code).toBe('PERMISSION');
    expect(mapFsError(err('EIO'), '/r/x', 'reading').message).toBe('I/O error while reading /r/x');
    expect(mapFsError(err('EBUSY'), '/r/x', 'writing').message).toBe('Failed writing /r/x: EBUSY');
    const kb = new KbackupError('INTERNAL', 'x');
    expect(mapFsError(kb, '/r/x', 'writing')).toBe(kb);
  });
});
