import { describe, expect, it } from 'vitest';
import { resolveScope } from '../../../../src/core/offsets/scope.js';
import { partitionKey } from '../../../../src/core/offsets/target.js';

const committed = [
  { topic: 'orders', partition: 0 },
  { topic: 'audit', partition: 2 },
];
const source = new Map<string, bigint | null>([
  [partitionKey('orders', 1), 5n],
  [partitionKey('payments', 0), null],
]);
const keys = (s: ReturnType<typeof resolveScope>): string[] =>
  s.map((p) => `${p.origin}:${p.topic}-${p.partition}`).sort();

describe('resolveScope', () => {
  it('--topics means every partition of those topics on the cluster', () => {
    const topics = new Map([['orders', [0, 1, 2]]]);
    expect(keys(resolveScope({ topics, allTopics: false, committed }))).toEqual([
      'topics:orders-0',
      'topics:orders-1',
      'topics:orders-2',
    ]);
  });

  it('--all-topics means every partition the group has committed', () => {
    expect(keys(resolveScope({ allTopics: true, committed }))).toEqual([
      'committed:audit-2',
      'committed:orders-0',
    ]);
  });

  it('a source alone decides, plus the group commits on its topics (to report them)', () => {
    expect(keys(resolveScope({ allTopics: false, committed, source }))).toEqual([
      'committed:orders-0',
      'source:orders-1',
      'source:payments-0',
    ]);
  });

  it('a source with --topics keeps only those topics, plus their cluster partitions', () => {
    const topics = new Map([['orders', [0, 1]]]);
    expect(keys(resolveScope({ topics, allTopics: false, committed, source }))).toEqual([
      'source:orders-1',
      'topics:orders-0',
      'topics:orders-1',
    ]);
  });
});
