import { createHash } from 'node:crypto';
import { z } from 'zod';
import { KbackupError } from '../errors.js';
import { int64 } from '../manifest/schema.js';
import type { OffsetRun } from '../offset-map.js';
import { groupOffsetTranslationSchema, offsetRunSchema } from '../restore-state.js';

/**
 * <state-dir>/<migration-id>.json: the durable state of one migration. It is written before the first
 * record reaches a target partition and then rewritten as records are acknowledged, so that running the
 * same command again continues where the last run stopped, without sending any record twice.
 *
 * The target partitions are the source of truth for how far the copy got; this file only says where the
 * migration started writing in each of them and how source offsets map onto target offsets (the runs).
 */

export const migrateModeSchema = z.enum(['one-shot', 'follow', 'until-drained']);
export type MigrateMode = z.output<typeof migrateModeSchema>;

export const migrateStateSchema = z.object({
  format: z.literal('kbackup-migrate'),
  version: z.literal(1),
  migrationId: z.string(),
  sourceClusterId: z.string(),
  targetClusterId: z.string(),
  isolation: z.enum(['read_committed', 'read_uncommitted']),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  /** The latest run; `running` is left behind by a run that was killed. */
  lastRun: z.object({
    mode: migrateModeSchema,
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    status: z.enum(['running', 'complete', 'stopped', 'interrupted', 'failed']),
  }),
  createdTopics: z.array(z.string()),
  partitions: z.array(
    z.object({
      sourceTopic: z.string(),
      targetTopic: z.string(),
      partition: z.number().int().nonnegative(),
      /** Where the copy of this partition started in the source (its log start at the time). */
      sourceStartOffset: int64,
      /** The target partition's end offset before this migration wrote anything into it. */
      targetStartOffset: int64,
      /** Every source offset below this one is copied (in `runs`) or is not a record to copy. */
      sourceNextOffset: int64,
      /** Source → target offsets of every record written and acknowledged, in order. */
      runs: z.array(offsetRunSchema),
    }),
  ),
  groupOffsets: z.array(groupOffsetTranslationSchema),
});

export type MigrateState = z.output<typeof migrateStateSchema>;
export type MigrateStatePartition = MigrateState['partitions'][number];

export interface MigrationIdentity {
  sourceClusterId: string;
  targetClusterId: string;
  topics: readonly string[];
  exclude: readonly string[];
  renames: ReadonlyMap<string, string>;
}

/**
 * The same migration (same clusters, topic patterns and renames) always gets the same id, so that running
 * the command again finds its state. The mode is not part of it: a one-shot copy can be continued with
 * --follow, and a follow can be finished with --until-drained.
 */
export function migrationIdFor(identity: MigrationIdentity): string {
  const text = JSON.stringify({
    source: identity.sourceClusterId,
    target: identity.targetClusterId,
    topics: [...identity.topics].sort(),
    exclude: [...identity.exclude].sort(),
    renames: [...identity.renames].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  });
  return `migrate-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

export function parseMigrateState(text: string, path: string): MigrateState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new KbackupError('MANIFEST_INVALID', `migration state ${path} is not valid JSON`, {
      cause: error,
      hint: 'The file is damaged. Move it away to start the migration over into new target topics.',
    });
  }
  const parsed = migrateStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new KbackupError('MANIFEST_INVALID', `migration state ${path} is invalid: ${issues}`, {
      hint: 'It was damaged or written by an incompatible version of kbackup.',
    });
  }
  return parsed.data;
}

/** Records covered by the runs. */
export function coveredRecords(runs: readonly OffsetRun[]): bigint {
  return runs.reduce((sum, r) => sum + r.length, 0n);
}

export interface ResumePoint {
  /** Source offset to continue from. */
  position: bigint;
  /** Target offset where the first record the runs do not cover sits. */
  targetCovered: bigint;
  /**
   * Records in the target that this migration wrote but the state does not map yet (acknowledged after
   * the last save of a run that was killed). They are the next `uncovered` records of the source from
   * `position` on; a resume matches them one by one and does not send them again.
   */
  uncovered: bigint;
}

/**
 * Where a partition resumes, from its saved state and the target partition's settled end offset. The
 * migration is the only writer into its target partitions, so everything from targetStartOffset to the
 * end was written by it, in source order.
 */
export function resumePoint(entry: MigrateStatePartition, targetEnd: bigint): ResumePoint {
  const label = `${entry.targetTopic}-${entry.partition}`;
  const covered = coveredRecords(entry.runs);
  const written = targetEnd - entry.targetStartOffset;
  if (written < covered) {
    throw new KbackupError(
      'KAFKA',
      `target ${label} ends at ${targetEnd}, but this migration already wrote ${covered} records from offset ${entry.targetStartOffset} (was the topic deleted, recreated or truncated?)`,
      {
        hint: 'Migrate into a new topic: move the state file away and run again with another --rename.',
      },
    );
  }
  const last = entry.runs.at(-1);
  const afterRuns = last ? last.source + last.length : entry.sourceStartOffset;
  return {
    position: afterRuns > entry.sourceNextOffset ? afterRuns : entry.sourceNextOffset,
    targetCovered: entry.targetStartOffset + covered,
    uncovered: written - covered,
  };
}
