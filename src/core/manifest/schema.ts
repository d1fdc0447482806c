import { z } from 'zod';

/**
 * The manifest of one backup, validated with zod on every read. Offsets and timestamps are int64 in Kafka:
 * they are JSON strings of decimal digits on disk and bigint in memory. docs/FORMAT.md describes each field.
 */
export const MANIFEST_FORMAT = 'kbackup-manifest';
export const MANIFEST_VERSION = 1;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
export const int64 = z
  .union([z.string().regex(/^-?\d{1,19}$/, 'must be a decimal int64 string'), z.bigint()])
  .transform((v) => BigInt(v))
  .refine((v) => v >= INT64_MIN && v <= INT64_MAX, 'must be within the int64 range');
const count = z.number().int().nonnegative();
const iso = z.iso.datetime();

export const codecSchema = z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']);

export const gapSchema = z.object({
  from: int64,
  to: int64,
  reason: z.enum(['compacted', 'retention', 'transaction-control', 'aborted-transaction', 'missing']),
  /** How many offsets in [from, to] are actually missing (ranges are coalesced past a limit). */
  missing: int64.optional(),
});

export const segmentSchema = z.object({
  file: z.string().regex(/^\d{20}\.kseg$/, 'segment files are named <20-digit base offset>.kseg'),
  firstOffset: int64,
  lastOffset: int64,
  recordCount: count,
  minTimestamp: int64,
  maxTimestamp: int64,
  rawBytes: count,
  storedBytes: count,
  fileBytes: count,
  bodyCrc32c: z.number().int().nonnegative(),
});

export const partitionSchema = z.object({
  partition: count,
  logStartOffset: int64,
  highWatermark: int64,
  lastStableOffset: int64,
  /** Where reading started (the log start, or a requested start). */
  startOffset: int64,
  /** The end of the consistent cut: records with offset < cutOffset were backed up. */
  cutOffset: int64,
  firstOffset: int64.nullable(),
  lastOffset: int64.nullable(),
  recordCount: count,
  payloadBytes: count,
  minTimestamp: int64.nullable(),
  maxTimestamp: int64.nullable(),
  gaps: z.array(gapSchema),
  segments: z.array(segmentSchema),
});

export const topicSchema = z.object({
  name: z.string().min(1),
  partitionCount: count,
  replicationFactor: count,
  configs: z.record(z.string(), z.string()),
  partitions: z.array(partitionSchema),
});

export const groupOffsetSchema = z.object({
  topic: z.string(),
  partition: count,
  offset: int64,
  metadata: z.string().nullable().optional(),
});

export const consumerGroupSchema = z.object({
  groupId: z.string(),
  state: z.string(),
  memberCount: count,
  offsets: z.array(groupOffsetSchema),
});

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(MANIFEST_VERSION),
  backupId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  /** The backup this one continues (incremental), or null for a full backup. */
  parent: z.string().nullable().default(null),
  tool: z.object({ name: z.literal('kbackup'), version: z.string() }),
  source: z.object({ clusterId: z.string(), bootstrap: z.string() }),
  startedAt: iso,
  completedAt: iso,
  options: z.object({
    codec: codecSchema,
    compressionLevel: z.number().int().nullable(),
    isolation: z.enum(['read_committed', 'read_uncommitted']),
    segmentMaxBytes: count,
    segmentMaxRecords: count,
  }),
  topics: z.array(topicSchema),
  consumerGroups: z.array(consumerGroupSchema),
  warnings: z.array(z.string()),
  totals: z.object({ records: count, payloadBytes: count, storedBytes: count, segments: count }),
});

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestTopic = Manifest['topics'][number];
export type ManifestPartition = ManifestTopic['partitions'][number];
export type ManifestSegment = ManifestPartition['segments'][number];
export type Gap = ManifestPartition['gaps'][number];
export type GapReason = Gap['reason'];
export type Codec = z.output<typeof codecSchema>;
export type ConsumerGroupSnapshot = Manifest['consumerGroups'][number];
