import { describe, expect, it } from 'vitest';
import { csvField, planCsv } from '../../../../src/core/offsets/csv.js';
import { planGroupReset } from '../../../../src/core/offsets/planner.js';
import { partitionKey } from '../../../../src/core/offsets/target.js';
import { parseCsv } from './csv-parse.js';

describe('CSV output', () => {
  it('quotes only what needs quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(null)).toBe('');
    expect(csvField(12n)).toBe('12');
  });

  it('starts with group,topic,partition,offset (kafka-consumer-groups --export order) and parses back', () => {
    const rows = planGroupReset({
      group: 'odd,"group"',
      partitions: [
        { topic: 'orders', partition: 0, origin: 'topics' },
        { topic: 'orders', partition: 1, origin: 'topics' },
      ],
      committed: new Map([[partitionKey('orders', 0), 7n]]),
      bounds: new Map([
        [partitionKey('orders', 0), { logStartOffset: 0n, highWatermark: 10n }],
        [partitionKey('orders', 1), { logStartOffset: 0n, highWatermark: 4n }],
      ]),
      target: { kind: 'offset', offset: 9n },
    });
    const parsed = parseCsv(planCsv(rows));
    expect(parsed[0]?.slice(0, 4)).toEqual(['group', 'topic', 'partition', 'offset']);
    expect(parsed.slice(1).map((r) => r.slice(0, 4))).toEqual([
      ['odd,"group"', 'orders', '0', '9'],
      ['odd,"group"', 'orders', '1', '4'],
    ]);
    expect(parsed[2]?.[9]).toBe('clamped');
    expect(parsed.every((r) => r.length === parsed[0]?.length)).toBe(true);
  });
});
