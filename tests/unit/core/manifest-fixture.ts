import type {
  Manifest,
  ManifestPartition,
  ManifestSegment,
  ManifestTopic,
} from '../../../src/core/manifest/schema.js';

/** Small factory for manifests that pass manifestSchema (checked in manifest.test.ts). */

export function makeSegment(
  firstOffset: bigint,
  lastOffset: bigint,
  minTimestamp: bigint,
  maxTimestamp: bigint,
  recordCount = Number(lastOffset - firstOffset + 1n),
): ManifestSegment {
  return {
    file: `${firstOffset.toString().padStart(20, '0')}.kseg`,
    firstOffset,
    lastOffset,
    recordCount,
    minTimestamp,
    maxTimestamp,
    rawBytes: recordCount * 100,
    storedBytes: recordCount * 40,
    fileBytes: recordCount * 40 + 64,
    bodyCrc32c: 123_456,
  };
}

export function makePartition(partition: number, segments: ManifestSegment[] = []): ManifestPartition {
  const first = segments[0];
  const last = segments.at(-1);
  const recordCount = segments.reduce((sum, s) => sum + s.recordCount, 0);
  const end = last ? last.lastOffset + 1n : 0n;
  return {
    partition,
    logStartOffset: 0n,
    highWatermark: end,
    lastStableOffset: end,
    startOffset: 0n,
    cutOffset: end,
    firstOffset: first ? first.firstOffset : null,
    lastOffset: last ? last.lastOffset : null,
    recordCount,
    payloadBytes: recordCount * 100,
    minTimestamp: first
      ? segments.reduce((m, s) => (s.minTimestamp < m ? s.minTimestamp : m), first.minTimestamp)
      : null,
    maxTimestamp: first
      ? segments.reduce((m, s) => (s.maxTimestamp > m ? s.maxTimestamp : m), first.maxTimestamp)
      : null,
    gaps: [],
    segments,
  };
}

/** A topic whose partitions 0..partitionCount-1 each hold `segments(p)`. */
export function makeTopic(
  name: string,
  partitionCount: number,
  segments: (partition: number) => ManifestSegment[] = () => [],
): ManifestTopic {
  return {
    name,
    partitionCount,
    replicationFactor: 1,
    configs: { 'cleanup.policy': 'delete' },
    partitions: Array.from({ length: partitionCount }, (_, p) => makePartition(p, segments(p))),
  };
}

export function makeManifest(topics: ManifestTopic[], backupId = 'bk-2026-01-01'): Manifest {
  const partitions = topics.flatMap((t) => t.partitions);
  const segments = partitions.flatMap((p) => p.segments);
  return {
    format: 'kbackup-manifest',
    version: 1,
    parent: null,
    backupId,
    tool: { name: 'kbackup', version: '0.1.0' },
    source: { clusterId: 'cluster-1', bootstrap: '127.0.0.1:9092' },
    startedAt: '2026-01-01T00:00:00.000Z',
    completedAt: '2026-01-01T00:05:00.000Z',
    options: {
      codec: 'zstd',
      compressionLevel: null,
      isolation: 'read_committed',
      segmentMaxBytes: 64 * 1024 * 1024,
      segmentMaxRecords: 1_000_000,
    },
    topics,
    consumerGroups: [],
    warnings: [],
    totals: {
      records: partitions.reduce((s, p) => s + p.recordCount, 0),
      payloadBytes: partitions.reduce((s, p) => s + p.payloadBytes, 0),
      storedBytes: segments.reduce((s, seg) => s + seg.storedBytes, 0),
      segments: segments.length,
    },
  };
}

/** Three segments per partition: offsets 0-99 / 100-199 / 200-299, timestamps 1000-1999 / 2000-2999 / 3000-3999. */
export const threeSegments = (): ManifestSegment[] => [
  makeSegment(0n, 99n, 1000n, 1999n),
  makeSegment(100n, 199n, 2000n, 2999n),
  makeSegment(200n, 299n, 3000n, 3999n),
];
