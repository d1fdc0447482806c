import { createHash } from 'node:crypto';
import { z } from 'zod';
import { int64 } from './manifest/schema.js';
import type { RestorePlan, RestoreWindow } from './restore-plan.js';

/**
 * restores/<restore-id>.json: the durable state of one restore. It is written before the first record is
 * produced and updated as partitions finish, so that re-running the same restore resumes it: the data that
 * reached the target is not produced again, and a failed consumer-group step is finished on its own.
 */
/** A run of the source→target offset map (src/core/offset-map.ts). */
export const offsetRunSchema = z.object({ source: int64, target: int64, length: int64 });

/** A consumer-group offset translated and committed on the target (src/core/group-translation.ts). */
export const groupOffsetTranslationSchema = z.object({
  sourceGroup: z.string(),
  targetGroup: z.string(),
  sourceTopic: z.string(),
  targetTopic: z.string(),
  partition: z.number().int().nonnegative(),
  sourceOffset: int64,
  targetOffset: int64,
});

export const restoreStateSchema = z.object({
  format: z.literal('kbackup-restore'),
  version: z.literal(1),
  restoreId: z.string(),
  backupId: z.string(),
  targetClusterId: z.string(),
  startedAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
  /** writing: data in progress; data-complete: groups still to commit; complete: nothing left to do. */
  status: z.enum(['writing', 'data-complete', 'complete']),
  createdTopics: z.array(z.string()),
  partitions: z.array(
    z.object({
      sourceTopic: z.string(),
      targetTopic: z.string(),
      partition: z.number().int().nonnegative(),
      /** The target partition's end offset before this restore wrote anything. */
      targetStartOffset: int64,
      done: z.boolean(),
      records: z.number().int().nonnegative(),
      targetEndOffset: int64.nullable(),
      runs: z.array(offsetRunSchema),
    }),
  ),
  groupOffsets: z.array(groupOffsetTranslationSchema),
});

export type RestoreState = z.output<typeof restoreStateSchema>;
export type RestoreStatePartition = RestoreState['partitions'][number];

/**
 * The same restore (same backup, target cluster, topics, partitions, window and record shape) always gets
 * the same id, so that running the command again finds and resumes its state.
 */
export function restoreIdFor(
  plan: RestorePlan,
  targetClusterId: string,
  window: RestoreWindow,
  provenanceHeaders: boolean,
): string {
  const identity = JSON.stringify({
    backupId: plan.backupId,
    targetClusterId,
    topics: plan.topics.map((t) => [t.sourceTopic, t.targetTopic, t.partitions.map((p) => p.partition)]),
    window: Object.entries(window).map(([k, v]) => [k, String(v)]),
    provenanceHeaders,
  });
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  return `${plan.backupId}-restore-${digest}`;
}
