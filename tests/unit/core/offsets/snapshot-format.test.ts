import { describe, expect, it } from 'vitest';
import {
  parseSnapshot,
  serializeSnapshot,
  snapshotSources,
  type OffsetsSnapshot,
} from '../../../../src/core/offsets/snapshot-format.js';
import { partitionKey } from '../../../../src/core/offsets/target.js';
import { KbackupError } from '../../../../src/core/errors.js';
import { thrownBy } from '../helpers.js';

const snapshot: OffsetsSnapshot = {
  format: 'kbackup-offsets-snapshot',
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  tool: { name: 'kbackup', version: '0.1.0' },
  cluster: { clusterId: 'c1', bootstrap: '127.0.0.1:9092' },
  reason: 'before-reset',
  topics: ['orders'],
  groups: [
    {
      groupId: 'g1',
      state: 'Empty',
      memberCount: 0,
      offsets: [
        {
          topic: 'orders',
          partition: 0,
          offset: 9_223_372_036_854_775_807n,
          metadata: 'm',
          logStartOffset: 0n,
          highWatermark: 9_223_372_036_854_775_807n,
          lag: 0n,
        },
        {
          topic: 'orders',
          partition: 1,
          offset: null,
          metadata: null,
          logStartOffset: null,
          highWatermark: null,
          lag: null,
        },
      ],
    },
  ],
};

const toJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

function configError(text: string): KbackupError {
  const error = thrownBy(() => parseSnapshot(text, '/tmp/s.json'));
  expect(error).toBeInstanceOf(KbackupError);
  expect((error as KbackupError).code).toBe('CONFIG');
  expect((error as KbackupError).message).toContain('/tmp/s.json');
  return error as KbackupError;
}

describe('offsets snapshot format', () => {
  it('round-trips exactly, with int64 as decimal strings', () => {
    const text = serializeSnapshot(snapshot);
    expect(text).toContain('"offset": "9223372036854775807"');
    expect(text).toMatch(/^\{\n {2}"format": "kbackup-offsets-snapshot",\n {2}"version": 1,/);
    expect(parseSnapshot(text, 'x')).toEqual(snapshot);
  });

  it('exposes the offsets per group as a reset source (null = no commit then)', () => {
    const g1 = snapshotSources(snapshot).get('g1');
    expect(g1?.get(partitionKey('orders', 0))).toBe(9_223_372_036_854_775_807n);
    expect(g1?.get(partitionKey('orders', 1))).toBeNull();
  });

  it('rejects a non-JSON file with CONFIG naming the path', () => {
    expect(configError('{nope').message).toMatch(/is not valid JSON/);
  });

  it('rejects another format or version', () => {
    const raw = JSON.parse(serializeSnapshot(snapshot)) as Record<string, unknown>;
    expect(configError(JSON.stringify({ ...raw, format: 'kbackup-manifest' })).message).toMatch(/format/);
    expect(configError(JSON.stringify({ ...raw, version: 2 })).message).toMatch(/version/);
  });

  it('names the bad field', () => {
    const withOffset = (offset: unknown): string => {
      const raw = JSON.parse(serializeSnapshot(snapshot)) as {
        groups: { offsets: Record<string, unknown>[] }[];
      };
      const first = raw.groups[0]?.offsets[0];
      if (first) first.offset = offset;
      return JSON.stringify(raw);
    };
    expect(configError(withOffset('12x')).message).toMatch(
      /groups\.0\.offsets\.0\.offset: must be a decimal int64 string/,
    );
    expect(configError(withOffset('-1')).message).toMatch(
      /groups\.0\.offsets\.0\.offset: must not be negative/,
    );
    expect(configError(withOffset('9223372036854775808')).message).toMatch(/int64 range/);
  });

  it('rejects duplicate partitions and groups', () => {
    const g = snapshot.groups[0];
    if (!g) throw new Error('fixture');
    const dupPartition = { ...snapshot, groups: [{ ...g, offsets: [g.offsets[0], g.offsets[0]] }] };
    expect(configError(toJson(dupPartition)).message).toMatch(/duplicate partition orders-0/);
    const dupGroup = { ...snapshot, groups: [g, g] };
    expect(configError(toJson(dupGroup)).message).toMatch(/duplicate group g1/);
  });
});
