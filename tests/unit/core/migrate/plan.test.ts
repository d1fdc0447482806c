import { describe, expect, it } from 'vitest';
import { planTopicMapping, type MigrateSelectionInput } from '../../../../src/core/migrate/plan.js';
import { expectKbackupError } from '../helpers.js';

const input = (over: Partial<MigrateSelectionInput>): MigrateSelectionInput => ({
  available: ['orders', 'orders-copy', 'payments', '__consumer_offsets'],
  include: ['orders*'],
  exclude: [],
  renames: new Map(),
  sameCluster: false,
  knownTargets: [],
  ...over,
});

describe('planTopicMapping', () => {
  it('keeps names across clusters unless renamed', () => {
    expect(
      planTopicMapping(input({ include: ['orders', 'payments'], renames: new Map([['payments', 'pay']]) })),
    ).toEqual([
      { sourceTopic: 'orders', targetTopic: 'orders' },
      { sourceTopic: 'payments', targetTopic: 'pay' },
    ]);
  });

  it('on one cluster, never picks up its own targets through a pattern', () => {
    const renames = new Map([['orders', 'orders-copy']]);
    expect(planTopicMapping(input({ sameCluster: true, renames }))).toEqual([
      { sourceTopic: 'orders', targetTopic: 'orders-copy' },
    ]);
    // Also when a later run no longer names the rename but the state knows the target.
    expect(
      planTopicMapping(
        input({ sameCluster: true, include: ['orders*'], renames, knownTargets: ['orders-copy'] }),
      ),
    ).toHaveLength(1);
  });

  it('refuses copying a topic onto itself, chains and two sources into one target', () => {
    expectKbackupError(
      () => planTopicMapping(input({ sameCluster: true, include: ['orders'] })),
      'USAGE',
      /onto itself/,
    );
    expectKbackupError(
      () =>
        planTopicMapping(
          input({
            sameCluster: true,
            include: ['orders', 'orders-copy'],
            renames: new Map([
              ['orders', 'orders-copy'],
              ['orders-copy', 'orders-copy-2'],
            ]),
          }),
        ),
      'USAGE',
      /both a source and the target/,
    );
    expectKbackupError(
      () =>
        planTopicMapping(
          input({ include: ['orders', 'payments'], renames: new Map([['payments', 'orders']]) }),
        ),
      'USAGE',
      /would both be migrated into orders/,
    );
  });

  it('refuses renames of topics that are not selected, and missing exact names', () => {
    expectKbackupError(
      () => planTopicMapping(input({ include: ['orders'], renames: new Map([['payments', 'p']]) })),
      'USAGE',
      /--rename names topic payments/,
    );
    expectKbackupError(() => planTopicMapping(input({ include: ['nope'] })), 'TOPIC_NOT_FOUND');
  });
});
