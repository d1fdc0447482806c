import { z } from 'zod';
import { codecSchema, consumerGroupSchema, gapSchema, int64, segmentSchema } from './schema.js';

/**
 * plan.json: what a backup set out to do, written before any data. A resumed backup reads it back, so the
 * cut, the options and the captured group offsets stay exactly those of the first attempt.
 */
export const planSchema = z.object({
  format: z.literal('kbackup-plan'),
  version: z.literal(1),
  backupId: z.string(),
  startedAt: z.iso.datetime(),
  clusterId: z.string(),
  bootstrap: z.string(),
  /** Canonical description of the command (selection, isolation, codec), to find the backup to resume. */
  commandKey: z.string(),
  /** Incremental: the complete backup whose cut this one starts from. */
  parent: z.string().nullable().default(null),
  options: z.object({
    codec: codecSchema,
    compressionLevel: z.number().int().nullable(),
    isolation: z.enum(['read_committed', 'read_uncommitted']),
    segmentMaxBytes: z.number().int().positive(),
    segmentMaxRecords: z.number().int().positive(),
  }),
  topics: z.array(
    z.object({
      name: z.string(),
      partitionCount: z.number().int().nonnegative(),
      replicationFactor: z.number().int().nonnegative(),
      configs: z.record(z.string(), z.string()),
    }),
  ),
  partitions: z.array(
    z.object({
      topic: z.string(),
      partition: z.number().int().nonnegative(),
      logStartOffset: int64,
      highWatermark: int64,
      lastStableOffset: int64,
      /** Where reading starts: the log start, or the parent backup's cut for an incremental backup. */
      startOffset: int64,
      cutOffset: int64,
      /** Offsets lost to retention between the parent's cut and this backup's start. */
      initialGaps: z.array(gapSchema).default([]),
      compacted: z.boolean(),
    }),
  ),
  consumerGroups: z.array(consumerGroupSchema),
  warnings: z.array(z.string()),
});

export type BackupPlan = z.output<typeof planSchema>;
export type PlannedPartition = BackupPlan['partitions'][number];

/**
 * progress.json of one partition, rewritten atomically after every finished segment. Everything below
 * `nextOffset` is durable in the listed segments or recorded as a gap.
 */
export const progressSchema = z.object({
  nextOffset: int64,
  done: z.boolean(),
  recordCount: z.number().int().nonnegative(),
  payloadBytes: z.number().int().nonnegative(),
  firstOffset: int64.nullable(),
  lastOffset: int64.nullable(),
  minTimestamp: int64.nullable(),
  maxTimestamp: int64.nullable(),
  gaps: z.array(gapSchema),
  segments: z.array(segmentSchema),
});

export type PartitionProgress = z.output<typeof progressSchema>;
