import { describe, expect, it } from 'vitest';
import { stringifyWithBigInt } from '../../../../src/core/manifest/json.js';
import {
  migrationIdFor,
  parseMigrateState,
  resumePoint,
  type MigrateState,
  type MigrateStatePartition,
} from '../../../../src/core/migrate/state.js';
import { expectKbackupError } from '../helpers.js';

const entry = (over: Partial<MigrateStatePartition> = {}): MigrateStatePartition => ({
  sourceTopic: 'orders',
  targetTopic: 'orders-copy',
  partition: 0,
  sourceStartOffset: 10n,
  targetStartOffset: 100n,
  sourceNextOffset: 10n,
  runs: [],
  ...over,
});

describe('migrationIdFor', () => {
  const identity = {
    sourceClusterId: 'a',
    targetClusterId: 'b',
    topics: ['orders', 'pay-*'],
    exclude: [],
    renames: new Map([['orders', 'orders-copy']]),
  };

  it('is stable under the order of patterns and renames, and changes with what is copied', () => {
    const id = migrationIdFor(identity);
    expect(id).toMatch(/^migrate-[0-9a-f]{12}$/);
    expect(migrationIdFor({ ...identity, topics: ['pay-*', 'orders'] })).toBe(id);
    expect(migrationIdFor({ ...identity, targetClusterId: 'c' })).not.toBe(id);
    expect(migrationIdFor({ ...identity, renames: new Map() })).not.toBe(id);
  });
});

describe('resumePoint', () => {
  it('starts a partition nothing was written to at its source start', () => {
    expect(resumePoint(entry(), 100n)).toEqual({ position: 10n, targetCovered: 100n, uncovered: 0n });
  });

  it('continues after the last mapped record, or after skipped offsets when those are further', () => {
    const runs = [
      { source: 10n, target: 100n, length: 5n },
      { source: 20n, target: 105n, length: 3n },
    ];
    expect(resumePoint(entry({ runs, sourceNextOffset: 15n }), 108n)).toEqual({
      position: 23n,
      targetCovered: 108n,
      uncovered: 0n,
    });
    // Aborted transactions after the last record were passed over and saved.
    expect(resumePoint(entry({ runs, sourceNextOffset: 30n }), 108n).position).toBe(30n);
  });

  it('reports records the target holds beyond the saved map, to be matched rather than sent again', () => {
    const runs = [{ source: 10n, target: 100n, length: 5n }];
    expect(resumePoint(entry({ runs, sourceNextOffset: 15n }), 112n)).toEqual({
      position: 15n,
      targetCovered: 105n,
      uncovered: 7n,
    });
  });

  it('refuses a target that holds fewer records than were written (recreated or truncated)', () => {
    const runs = [{ source: 10n, target: 100n, length: 5n }];
    expectKbackupError(() => resumePoint(entry({ runs }), 103n), 'KAFKA', /already wrote 5 records/);
    expectKbackupError(() => resumePoint(entry(), 0n), 'KAFKA');
  });
});

describe('parseMigrateState', () => {
  const state: MigrateState = {
    format: 'kbackup-migrate',
    version: 1,
    migrationId: 'migrate-000000000000',
    sourceClusterId: 'a',
    targetClusterId: 'b',
    isolation: 'read_committed',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    lastRun: { mode: 'follow', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: null, status: 'running' },
    createdTopics: ['orders-copy'],
    partitions: [entry({ runs: [{ source: 10n, target: 100n, length: 2n ** 40n }] })],
    groupOffsets: [],
  };

  it('round-trips through JSON with int64 offsets intact', () => {
    expect(parseMigrateState(stringifyWithBigInt(state), 'x.json')).toEqual(state);
  });

  it('names the file and the field of a damaged state', () => {
    expectKbackupError(
      () => parseMigrateState('{', 'x.json'),
      'MANIFEST_INVALID',
      /x\.json is not valid JSON/,
    );
    const bad = stringifyWithBigInt({ ...state, isolation: 'dirty' });
    expectKbackupError(() => parseMigrateState(bad, 'x.json'), 'MANIFEST_INVALID', /isolation/);
  });
});
