import { describe, expect, it } from 'vitest';
import {
  ErrorCodes,
  KbackupError,
  SegmentCorruptError,
  isKbackupError,
  type ErrorCode,
} from '../../../src/core/errors.js';
import { EXIT_CODE_TABLE, ExitCode } from '../../../src/core/exit-codes.js';

const codes = Object.keys(ErrorCodes) as ErrorCode[];
const enumValues = Object.values(ExitCode).filter((v): v is ExitCode => typeof v === 'number');

describe('exit codes', () => {
  it('keeps the documented numbers stable', () => {
    expect(Object.fromEntries(EXIT_CODE_TABLE.map((row) => [row.name, row.code]))).toEqual({
      ok: 0,
      failure: 1,
      usage: 2,
      partial: 3,
      'verify-failed': 4,
      corrupt: 5,
      connection: 6,
      config: 7,
      io: 8,
      locked: 9,
      'drain-timeout': 10,
      'drain-stuck': 11,
      interrupted: 130,
      terminated: 143,
    });
  });

  it('lists every ExitCode exactly once, with unique names and a meaning', () => {
    const tableCodes = EXIT_CODE_TABLE.map((row) => row.code);
    expect(new Set(tableCodes).size).toBe(tableCodes.length);
    expect(new Set(EXIT_CODE_TABLE.map((row) => row.name)).size).toBe(EXIT_CODE_TABLE.length);
    expect([...tableCodes].sort((a, b) => a - b)).toEqual([...enumValues].sort((a, b) => a - b));
    for (const row of EXIT_CODE_TABLE) expect(row.meaning.length).toBeGreaterThan(0);
  });

  it('maps every error code to an exit code in the table', () => {
    const tableCodes = new Set(EXIT_CODE_TABLE.map((row) => row.code));
    for (const code of codes) expect(tableCodes.has(ErrorCodes[code].exit), code).toBe(true);
  });

  it('maps the error codes the CLI promises', () => {
    expect(ErrorCodes.USAGE.exit).toBe(ExitCode.Usage);
    expect(ErrorCodes.TOPIC_NOT_FOUND.exit).toBe(ExitCode.Usage);
    expect(ErrorCodes.MANIFEST_INVALID.exit).toBe(ExitCode.Corrupt);
    expect(ErrorCodes.SEGMENT_CORRUPT.exit).toBe(ExitCode.Corrupt);
    expect(ErrorCodes.CONNECTION).toEqual({ exit: ExitCode.Connection, canRetry: true });
    // Refused credentials and untrusted certificates do not heal by retrying: fix the configuration.
    expect(ErrorCodes.AUTHENTICATION).toEqual({ exit: ExitCode.Config, canRetry: false });
    expect(ErrorCodes.LOCKED).toEqual({ exit: ExitCode.Locked, canRetry: true });
    expect(ErrorCodes.DISK.exit).toBe(ExitCode.Io);
    expect(ErrorCodes.INTERRUPTED.exit).toBe(ExitCode.Interrupted);
  });
});

describe('KbackupError', () => {
  it('carries code, exitCode, canRetry and hint from the table for every code', () => {
    for (const code of codes) {
      const error = new KbackupError(code, `failed: ${code}`, { hint: `fix ${code}` });
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('KbackupError');
      expect(error.message).toBe(`failed: ${code}`);
      expect(error.code).toBe(code);
      expect(error.exitCode).toBe(ErrorCodes[code].exit);
      expect(error.canRetry).toBe(ErrorCodes[code].canRetry);
      expect(error.hint).toBe(`fix ${code}`);
      expect(isKbackupError(error)).toBe(true);
    }
  });

  it('lets the caller override canRetry and keeps cause and details', () => {
    const cause = new Error('ECONNRESET');
    const error = new KbackupError('KAFKA', 'broker said no', {
      canRetry: true,
      cause,
      details: { broker: 1 },
    });
    expect(error.canRetry).toBe(true);
    expect(error.exitCode).toBe(ExitCode.Failure);
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ broker: 1 });
    expect(error.hint).toBeUndefined();
    expect(new KbackupError('CONNECTION', 'x', { canRetry: false }).canRetry).toBe(false);
  });

  it('isKbackupError rejects other values', () => {
    expect(isKbackupError(new Error('x'))).toBe(false);
    expect(isKbackupError({ code: 'USAGE', exitCode: 2 })).toBe(false);
    expect(isKbackupError(undefined)).toBe(false);
  });

  it('SegmentCorruptError names the file and the untrusted offsets', () => {
    const error = new SegmentCorruptError('bad block', '/r/00000000000000000000.kseg', 10n, 19n);
    expect(error).toBeInstanceOf(KbackupError);
    expect(error.name).toBe('SegmentCorruptError');
    expect(error.code).toBe('SEGMENT_CORRUPT');
    expect(error.exitCode).toBe(ExitCode.Corrupt);
    expect(error.canRetry).toBe(false);
    expect(error.details).toEqual({
      path: '/r/00000000000000000000.kseg',
      firstBadOffset: '10',
      lastBadOffset: '19',
    });
    expect(new SegmentCorruptError('x', 'p', undefined, undefined).details).toEqual({
      path: 'p',
      firstBadOffset: undefined,
      lastBadOffset: undefined,
    });
  });
});
