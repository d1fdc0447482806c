import { z } from 'zod';
import { KbackupError } from '../errors.js';
import { stringifyWithBigInt } from '../manifest/json.js';
import { partitionKey, type SourceOffsets } from './target.js';

/**
 * The offsets snapshot file: committed offsets of consumer groups at one moment, with the log bounds that
 * make lag known, so that a reset can be rolled back. Versioned like the manifest; int64 values are decimal
 * strings on disk and bigint in memory. docs/OFFSETS.md describes each field.
 */
export const SNAPSHOT_FORMAT = 'kbackup-offsets-snapshot';
export const SNAPSHOT_VERSION = 1;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const int64 = z
  .union([z.string().regex(/^-?\d{1,19}$/, 'must be a decimal int64 string'), z.bigint()])
  .transform((v) => BigInt(v))
  .refine((v) => v >= INT64_MIN && v <= INT64_MAX, 'must be within the int64 range');
const count = z.number().int().nonnegative();

const snapshotOffsetSchema = z.object({
  topic: z.string().min(1),
  partition: count,
  /** null: the group had no committed offset on this partition (recorded so a rollback can say so). */
  offset: int64.refine((v) => v >= 0n, 'must not be negative').nullable(),
  metadata: z.string().nullable(),
  /** null when the partition did not exist on the cluster when the snapshot was taken. */
  logStartOffset: int64.nullable(),
  highWatermark: int64.nullable(),
  lag: int64.nullable(),
});

const snapshotGroupSchema = z
  .object({
    groupId: z.string().min(1),
    state: z.string(),
    memberCount: count,
    offsets: z.array(snapshotOffsetSchema),
  })
  .superRefine((group, ctx) => {
    const seen = new Set<string>();
    group.offsets.forEach((o, index) => {
      const key = partitionKey(o.topic, o.partition);
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['offsets', index],
          message: `duplicate partition ${o.topic}-${o.partition}`,
        });
      }
      seen.add(key);
    });
  });

export const snapshotSchema = z
  .object({
    format: z.literal(SNAPSHOT_FORMAT),
    version: z.literal(SNAPSHOT_VERSION),
    createdAt: z.iso.datetime(),
    tool: z.object({ name: z.literal('kbackup'), version: z.string() }),
    cluster: z.object({ clusterId: z.string(), bootstrap: z.string() }),
    /** Why it was taken: by `offsets snapshot`, or automatically before a reset or rollback. */
    reason: z.enum(['snapshot', 'before-reset', 'before-rollback']),
    /** The topic filter it was taken with; null means every topic the groups had committed. */
    topics: z.array(z.string()).nullable(),
    groups: z.array(snapshotGroupSchema),
  })
  .superRefine((snapshot, ctx) => {
    const seen = new Set<string>();
    snapshot.groups.forEach((g, index) => {
      if (seen.has(g.groupId)) {
        ctx.addIssue({ code: 'custom', path: ['groups', index], message: `duplicate group ${g.groupId}` });
      }
      seen.add(g.groupId);
    });
  });

export type OffsetsSnapshot = z.output<typeof snapshotSchema>;
export type SnapshotGroup = OffsetsSnapshot['groups'][number];
export type SnapshotOffset = SnapshotGroup['offsets'][number];

export function serializeSnapshot(snapshot: OffsetsSnapshot): string {
  // Validate before writing: a snapshot that would not read back is no rollback at all.
  snapshotSchema.parse(snapshot);
  return stringifyWithBigInt(snapshot);
}

export function parseSnapshot(text: string, path: string): OffsetsSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new KbackupError('CONFIG', `offsets snapshot ${path} is not valid JSON`, {
      cause: error,
      hint: 'Pass a file written by `kbackup offsets snapshot` (or the automatic snapshot of a reset).',
    });
  }
  const result = snapshotSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new KbackupError('CONFIG', `offsets snapshot ${path} is invalid: ${issues}`, {
      hint: `Expected {"format":"${SNAPSHOT_FORMAT}","version":${SNAPSHOT_VERSION},...} as written by \`kbackup offsets snapshot\`; see docs/OFFSETS.md.`,
      details: {
        path,
        issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    });
  }
  return result.data;
}

/** The snapshot's offsets per group, as reset/rollback targets use them. */
export function snapshotSources(snapshot: OffsetsSnapshot): Map<string, SourceOffsets> {
  return new Map(
    snapshot.groups.map((g) => [
      g.groupId,
      new Map(g.offsets.map((o) => [partitionKey(o.topic, o.partition), o.offset])),
    ]),
  );
}
