import { describe, expect, it } from 'vitest';
import { parseManifest, serializeManifest, stringifyWithBigInt } from '../../../src/core/manifest/json.js';
import { manifestSchema, type Manifest } from '../../../src/core/manifest/schema.js';
import { expectKbackupError } from './helpers.js';
import { makeManifest, makeSegment, makeTopic, threeSegments } from './manifest-fixture.js';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

function fullManifest(): Manifest {
  const m = makeManifest([makeTopic('orders', 2, threeSegments), makeTopic('empty', 1)]);
  const p0 = m.topics[0]?.partitions[0];
  if (!p0) throw new Error('fixture');
  p0.gaps = [
    { from: 5n, to: 9n, reason: 'compacted' },
    { from: 20n, to: 90n, reason: 'missing', missing: 12n },
  ];
  p0.highWatermark = INT64_MAX;
  p0.logStartOffset = INT64_MIN;
  p0.segments.push(makeSegment(INT64_MAX - 1n, INT64_MAX - 1n, INT64_MIN, INT64_MAX, 1));
  m.consumerGroups = [
    {
      groupId: 'g1',
      state: 'Empty',
      memberCount: 0,
      offsets: [
        { topic: 'orders', partition: 0, offset: 42n, metadata: null },
        { topic: 'orders', partition: 1, offset: 0n },
      ],
    },
  ];
  m.warnings = ['topic empty has no records'];
  return m;
}

/** The manifest as plain JSON (offsets as strings), for damaging it field by field. */
function rawJson(): Record<string, unknown> {
  return JSON.parse(serializeManifest(fullManifest())) as Record<string, unknown>;
}

type Json = Record<string, unknown> | unknown[];
/** Sets (or deletes, when value is undefined) the field at a dotted path. */
function damage(path: string, value: unknown): string {
  const root = rawJson();
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  let node = root as Json;
  for (const key of keys) node = (node as Record<string, unknown>)[key] as Json;
  const record = node as Record<string, unknown>;
  if (value === undefined) Reflect.deleteProperty(record, last);
  else record[last] = value;
  return JSON.stringify(root);
}

const PATH = '/repo/backups/bk/manifest.json';

describe('manifest JSON', () => {
  it('round-trips serializeManifest → parseManifest with bigints intact', () => {
    const m = fullManifest();
    const text = serializeManifest(m);
    const back = parseManifest(text, PATH);
    expect(back).toEqual(m);
    const p0 = back.topics[0]?.partitions[0];
    expect(typeof p0?.highWatermark).toBe('bigint');
    expect(p0?.highWatermark).toBe(INT64_MAX);
    expect(p0?.logStartOffset).toBe(INT64_MIN);
    expect(p0?.segments.at(-1)?.minTimestamp).toBe(INT64_MIN);
    expect(back.consumerGroups[0]?.offsets[0]?.offset).toBe(42n);
    expect(p0?.gaps[1]?.missing).toBe(12n);
  });

  it('writes int64 values as decimal strings, ending with a newline', () => {
    const text = serializeManifest(fullManifest());
    expect(text).toContain('"highWatermark": "9223372036854775807"');
    expect(text).toContain('"logStartOffset": "-9223372036854775808"');
    expect(text.endsWith('}\n')).toBe(true);
    expect(stringifyWithBigInt({ a: 1n, b: [2n] }, 0)).toBe('{"a":"1","b":["2"]}\n');
  });

  it('refuses to serialize a manifest that would not read back', () => {
    const m = fullManifest();
    m.backupId = '../escape';
    expect(() => serializeManifest(m)).toThrow();
  });

  it('rejects invalid JSON with MANIFEST_INVALID naming the file', () => {
    const error = expectKbackupError(
      () => parseManifest('{"format": ', PATH),
      'MANIFEST_INVALID',
      /not valid JSON/,
    );
    expect(error.message).toContain(PATH);
    expect(error.exitCode).toBe(5);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expectKbackupError(() => parseManifest('', PATH), 'MANIFEST_INVALID', PATH);
  });

  it('rejects a non-object root', () => {
    expectKbackupError(() => parseManifest('[]', PATH), 'MANIFEST_INVALID', /\(root\)/);
    expectKbackupError(() => parseManifest('null', PATH), 'MANIFEST_INVALID', /\(root\)/);
  });

  it('rejects a wrong format or version, naming the field', () => {
    expectKbackupError(() => parseManifest(damage('format', 'other'), PATH), 'MANIFEST_INVALID', /format:/);
    expectKbackupError(() => parseManifest(damage('version', 2), PATH), 'MANIFEST_INVALID', /version:/);
    expectKbackupError(() => parseManifest(damage('version', '1'), PATH), 'MANIFEST_INVALID', /version:/);
  });

  it('rejects a bad segment file name, naming its path', () => {
    for (const file of [
      '1.kseg',
      '0000000000000000000a.kseg',
      '00000000000000000000.seg',
      '../00000000000000000000.kseg',
    ]) {
      const error = expectKbackupError(
        () => parseManifest(damage('topics.0.partitions.1.segments.2.file', file), PATH),
        'MANIFEST_INVALID',
        'topics.0.partitions.1.segments.2.file: segment files are named',
      );
      expect(error.message).toContain(PATH);
    }
  });

  it('rejects an offset that is not an int64 string, naming its path', () => {
    for (const bad of [5, '5.0', '0x10', ' 5', '', '12345678901234567890', null, true]) {
      expectKbackupError(
        () => parseManifest(damage('topics.0.partitions.0.cutOffset', bad), PATH),
        'MANIFEST_INVALID',
        /topics\.0\.partitions\.0\.cutOffset: /,
      );
    }
    expectKbackupError(
      () => parseManifest(damage('consumerGroups.0.offsets.0.offset', 'abc'), PATH),
      'MANIFEST_INVALID',
      /consumerGroups\.0\.offsets\.0\.offset: must be a decimal int64 string/,
    );
  });

  // The schema checks only "up to 19 digits", so values past the int64 range parse and would be sent to
  // Kafka as offsets. (Regression test.)
  it('rejects a 19-digit offset outside the int64 range', () => {
    for (const bad of [(INT64_MAX + 1n).toString(), (INT64_MIN - 1n).toString(), '9999999999999999999']) {
      expectKbackupError(
        () => parseManifest(damage('topics.0.partitions.0.cutOffset', bad), PATH),
        'MANIFEST_INVALID',
        /topics\.0\.partitions\.0\.cutOffset/,
      );
    }
  });

  it('rejects missing fields, naming their paths', () => {
    expectKbackupError(
      () => parseManifest(damage('backupId', undefined), PATH),
      'MANIFEST_INVALID',
      /backupId:/,
    );
    expectKbackupError(
      () => parseManifest(damage('topics.0.partitions.0.segments.0.lastOffset', undefined), PATH),
      'MANIFEST_INVALID',
      /topics\.0\.partitions\.0\.segments\.0\.lastOffset:/,
    );
    expectKbackupError(
      () => parseManifest(damage('topics.1.partitions.0.gaps', undefined), PATH),
      'MANIFEST_INVALID',
      /topics\.1\.partitions\.0\.gaps:/,
    );
    expectKbackupError(
      () => parseManifest(damage('totals.segments', undefined), PATH),
      'MANIFEST_INVALID',
      /totals\.segments:/,
    );
  });

  it('rejects other bad values: gap reason, negative counts, non-ISO times', () => {
    expectKbackupError(
      () => parseManifest(damage('topics.0.partitions.0.gaps.0.reason', 'deleted'), PATH),
      'MANIFEST_INVALID',
      /topics\.0\.partitions\.0\.gaps\.0\.reason:/,
    );
    expectKbackupError(
      () => parseManifest(damage('topics.0.partitions.0.recordCount', -1), PATH),
      'MANIFEST_INVALID',
      /topics\.0\.partitions\.0\.recordCount:/,
    );
    expectKbackupError(
      () => parseManifest(damage('startedAt', 'yesterday'), PATH),
      'MANIFEST_INVALID',
      /startedAt:/,
    );
    expectKbackupError(
      () => parseManifest(damage('options.codec', 'brotli'), PATH),
      'MANIFEST_INVALID',
      /options\.codec:/,
    );
  });

  it('accepts nullable partition bounds for an empty partition', () => {
    const back = parseManifest(serializeManifest(fullManifest()), PATH);
    const empty = back.topics[1]?.partitions[0];
    expect(empty?.firstOffset).toBeNull();
    expect(empty?.maxTimestamp).toBeNull();
    expect(
      manifestSchema.safeParse(JSON.parse(damage('topics.1.partitions.0.firstOffset', null))).success,
    ).toBe(true);
  });
});
