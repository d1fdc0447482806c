import { describe, expect, it } from 'vitest';
import {
  collect,
  parseBootstrap,
  parseIntFlag,
  parseIntList,
  parseKeyValues,
  parseOffsetFlag,
  parseRenames,
  parseSize,
  parseTime,
} from '../../../src/cli/parse.js';
import { expectKbackupError } from '../core/helpers.js';

describe('parseBootstrap', () => {
  it('splits, trims and keeps host:port entries', () => {
    expect(parseBootstrap('--bootstrap', '127.0.0.1:9092')).toEqual(['127.0.0.1:9092']);
    expect(parseBootstrap('--bootstrap', ' kafka-1.internal:9092 , 10.0.0.2:19092,')).toEqual([
      'kafka-1.internal:9092',
      '10.0.0.2:19092',
    ]);
    expect(parseBootstrap('--bootstrap', '[::1]:9092,[fe80::1]:9093')).toEqual([
      '[::1]:9092',
      '[fe80::1]:9093',
    ]);
  });

  it('requires a value', () => {
    const error = expectKbackupError(
      () => parseBootstrap('--bootstrap', undefined),
      'USAGE',
      /--bootstrap is required/,
    );
    expect(error.hint).toContain('--bootstrap 127.0.0.1:9092');
    expectKbackupError(() => parseBootstrap('--to', ''), 'USAGE', /--to is required/);
  });

  it('rejects entries that are not host:port, naming the flag and entry', () => {
    for (const bad of ['localhost', 'localhost:', ':9092', 'host:port', 'a b:9092', 'h:123456', '::1:9092']) {
      expectKbackupError(
        () => parseBootstrap('--bootstrap', bad),
        'USAGE',
        `--bootstrap: "${bad}" is not host:port`,
      );
    }
  });

  // \d{1,5} accepts ports above 65535 and port 0. (Regression test.)
  it('rejects ports outside 1..65535', () => {
    for (const bad of ['localhost:99999', 'localhost:65536', 'localhost:0']) {
      expectKbackupError(() => parseBootstrap('--bootstrap', bad), 'USAGE', /--bootstrap/);
    }
  });
});

describe('parseIntFlag', () => {
  it('parses integers within bounds', () => {
    expect(parseIntFlag('--n', '42')).toBe(42);
    expect(parseIntFlag('--n', ' 7 ')).toBe(7);
    expect(parseIntFlag('--n', '0')).toBe(0);
    expect(parseIntFlag('--n', '-3', -5, 5)).toBe(-3);
    expect(parseIntFlag('--n', '5', 1, 5)).toBe(5);
  });

  it('rejects non-integers and out-of-range values with USAGE', () => {
    for (const bad of ['', 'abc', '1.5', '1e3', '0x10', '12a']) {
      expectKbackupError(() => parseIntFlag('--n', bad), 'USAGE', `--n must be an integer, got "${bad}"`);
    }
    expectKbackupError(() => parseIntFlag('--n', '-1'), 'USAGE', '--n must be between 0 and');
    expectKbackupError(() => parseIntFlag('--n', '6', 1, 5), 'USAGE', '--n must be between 1 and 5, got 6');
    expectKbackupError(() => parseIntFlag('--n', '9007199254740993'), 'USAGE', /between/);
  });
});

describe('parseOffsetFlag', () => {
  it('parses non-negative offsets as bigint, beyond 2^53', () => {
    expect(parseOffsetFlag('--from-offset', '0')).toBe(0n);
    expect(parseOffsetFlag('--from-offset', ' 9007199254740993 ')).toBe(9007199254740993n);
    expect(parseOffsetFlag('--from-offset', '9223372036854775807')).toBe(9223372036854775807n);
  });

  it('rejects negative, fractional and non-numeric offsets', () => {
    for (const bad of ['-1', '1.0', 'x', '', '12345678901234567890']) {
      expectKbackupError(
        () => parseOffsetFlag('--from-offset', bad),
        'USAGE',
        '--from-offset must be a non-negative',
      );
    }
  });

  // Any 19-digit value passes; 9223372036854775808 is past int64. (Regression test.)
  it('rejects offsets past the int64 maximum', () => {
    expectKbackupError(
      () => parseOffsetFlag('--from-offset', '9223372036854775808'),
      'USAGE',
      /--from-offset/,
    );
    expectKbackupError(
      () => parseOffsetFlag('--from-offset', '9999999999999999999'),
      'USAGE',
      /--from-offset/,
    );
  });
});

describe('parseSize', () => {
  it('parses binary units, case-insensitively, with optional space', () => {
    expect(parseSize('--s', '64MiB')).toBe(64 * 1024 * 1024);
    expect(parseSize('--s', '64mb')).toBe(64 * 1024 * 1024);
    expect(parseSize('--s', '512k')).toBe(512 * 1024);
    expect(parseSize('--s', '512 KiB')).toBe(512 * 1024);
    expect(parseSize('--s', '1g')).toBe(1024 ** 3);
    expect(parseSize('--s', '2GB')).toBe(2 * 1024 ** 3);
    expect(parseSize('--s', '1.5k')).toBe(1536);
  });

  it('parses plain bytes', () => {
    expect(parseSize('--s', '1048576')).toBe(1048576);
    expect(parseSize('--s', '100b')).toBe(100);
    expect(parseSize('--s', '0')).toBe(0);
  });

  it('rejects bad input with USAGE', () => {
    for (const bad of ['', 'abc', 'MiB', '-1k', '10 xb', '1t', '1.k', '1,5k', '64 Mi B']) {
      expectKbackupError(
        () => parseSize('--segment-max-bytes', bad),
        'USAGE',
        `--segment-max-bytes must be a size`,
      );
    }
  });
});

describe('parseTime', () => {
  it('parses ISO-8601 in UTC, with and without seconds and millis', () => {
    expect(parseTime('--from-time', '2026-11-22T14:01:59.999Z')).toBe(1795356119999n);
    expect(parseTime('--from-time', '2026-11-22T14:01:59Z')).toBe(1795356119000n);
    expect(parseTime('--from-time', '2026-11-22T14:01Z')).toBe(1795356060000n);
    expect(parseTime('--from-time', '1970-01-01T00:00:00.001Z')).toBe(1n);
  });

  it('applies a zone offset', () => {
    expect(parseTime('--t', '2026-11-22T15:01:59.999+01:00')).toBe(1795356119999n);
    expect(parseTime('--t', '2026-11-22T09:01:59.999-05:00')).toBe(1795356119999n);
  });

  it('takes digits as epoch milliseconds', () => {
    expect(parseTime('--t', '1795356119999')).toBe(1795356119999n);
    expect(parseTime('--t', ' 0 ')).toBe(0n);
  });

  it('rejects ISO without a zone and other forms with USAGE', () => {
    for (const bad of ['2026-11-22T14:01:59', '2026-11-22', '2026-11-22 14:01:59Z', 'yesterday', '', '1.5']) {
      const error = expectKbackupError(
        () => parseTime('--from-time', bad),
        'USAGE',
        '--from-time must be ISO-8601',
      );
      expect(error.hint).toContain('2026-11-22T14:01:59.999Z');
    }
  });

  it('rejects an impossible month', () => {
    expectKbackupError(() => parseTime('--t', '2026-13-01T00:00:00Z'), 'USAGE', /not a valid time/);
  });

  // Date.parse rolls 2026-02-30 over to 2026-03-02 instead of failing, so a restore window silently moves
  // by two days. (Regression test.)
  it('rejects an impossible calendar date instead of rolling it over', () => {
    expectKbackupError(() => parseTime('--t', '2026-02-30T00:00:00Z'), 'USAGE', /--t/);
    expectKbackupError(() => parseTime('--t', '2026-04-31T12:00:00Z'), 'USAGE', /--t/);
  });
});

describe('parseRenames', () => {
  it('parses old=new pairs, comma-separated and repeatable', () => {
    const renames = parseRenames('--rename', ['a=b,c=d', ' e=f ', 'g=h,']);
    expect([...renames]).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
      ['g', 'h'],
    ]);
    expect(parseRenames('--rename', []).size).toBe(0);
  });

  it('rejects malformed pairs with USAGE naming the item', () => {
    for (const bad of ['a', 'a=', '=b', 'a=b=c']) {
      expectKbackupError(
        () => parseRenames('--rename', [bad]),
        'USAGE',
        `--rename expects old=new, got "${bad}"`,
      );
    }
  });
});

describe('parseKeyValues', () => {
  it('splits on the first "=" only and keeps commas and empty values', () => {
    expect(parseKeyValues('--config', ['retention.ms=1000', 'a=b=c', 'list=x,y', 'empty='])).toEqual({
      'retention.ms': '1000',
      a: 'b=c',
      list: 'x,y',
      empty: '',
    });
    expect(parseKeyValues('--config', [])).toEqual({});
  });

  it('rejects items without a key', () => {
    for (const bad of ['novalue', '=v', '']) {
      expectKbackupError(
        () => parseKeyValues('--config', [bad]),
        'USAGE',
        `--config expects key=value, got "${bad}"`,
      );
    }
  });
});

describe('parseIntList', () => {
  it('parses comma-separated, repeatable non-negative integers', () => {
    expect(parseIntList('--partitions', ['0,1', '5', ' 7 , ,9'])).toEqual([0, 1, 5, 7, 9]);
    expect(parseIntList('--partitions', [])).toEqual([]);
  });

  it('rejects negative and non-integer items', () => {
    expectKbackupError(
      () => parseIntList('--partitions', ['0,-1']),
      'USAGE',
      '--partitions must be between 0',
    );
    expectKbackupError(
      () => parseIntList('--partitions', ['1,x']),
      'USAGE',
      '--partitions must be an integer, got "x"',
    );
  });
});

describe('collect', () => {
  it('accumulates repeated flag values', () => {
    expect(collect('b', collect('a'))).toEqual(['a', 'b']);
  });
});
