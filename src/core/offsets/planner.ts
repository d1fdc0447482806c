import { partitionKey, type ResetTarget } from './target.js';

/**
 * The pure reset planner: from a group's committed offsets, each partition's log start and high watermark and
 * the target, it computes what every partition would be committed to. No Kafka here, so every rule is
 * unit-tested; the engine gathers the inputs and applies the result.
 */

export interface PartitionBounds {
  logStartOffset: bigint;
  highWatermark: bigint;
}

/**
 * Why a partition is in scope: named by --topics, committed by the group (--all-topics), or recorded in the
 * snapshot/backup. It decides whether a partition missing on the cluster is an error or merely reported.
 */
export type ScopeOrigin = 'topics' | 'committed' | 'source';

export interface ScopedPartition {
  topic: string;
  partition: number;
  origin: ScopeOrigin;
}

/**
 * change: the committed offset moves. unchanged: it is already at the target. clamped: the requested offset
 * was outside [log start, high watermark] and the nearest bound is used instead. delete: a rollback removes
 * a commit the snapshot did not have. skipped: left as is on purpose (reason says why). error: no target
 * could be computed for this partition (reason says why).
 */
export type PlanStatus = 'change' | 'unchanged' | 'clamped' | 'delete' | 'skipped' | 'error';

export interface PlannedPartition {
  group: string;
  topic: string;
  partition: number;
  /** The committed offset now; null when the group has none on this partition. */
  current: bigint | null;
  /** What the target asked for, before clamping. */
  requested: bigint | null;
  /** What would be committed; null for delete, skipped and error rows (nothing is committed). */
  target: bigint | null;
  logStartOffset: bigint | null;
  highWatermark: bigint | null;
  lagBefore: bigint | null;
  lagAfter: bigint | null;
  status: PlanStatus;
  /** True when committing target moves the offset (a clamped row may or may not change). */
  changed: boolean;
  reason: string | null;
}

export interface GroupPlanInput {
  group: string;
  partitions: readonly ScopedPartition[];
  /** Committed offsets keyed by partitionKey(). */
  committed: ReadonlyMap<string, bigint>;
  bounds: ReadonlyMap<string, PartitionBounds>;
  /** Why bounds are missing for a partition when it is not simply absent (e.g. the lookup failed). */
  boundsErrors?: ReadonlyMap<string, string>;
  target: ResetTarget;
  /** For datetime targets: the offset the broker found per partition (the log end when no record is newer). */
  timestampOffsets?: ReadonlyMap<string, bigint>;
  /** For datetime targets: why a lookup failed. */
  lookupErrors?: ReadonlyMap<string, string>;
}

type Requested = { offset: bigint } | { skip: string } | { error: string } | { delete: string };

function requestedOffset(
  input: GroupPlanInput,
  key: string,
  current: bigint | null,
  b: PartitionBounds,
): Requested {
  const t = input.target;
  switch (t.kind) {
    case 'earliest':
      return { offset: b.logStartOffset };
    case 'latest':
      return { offset: b.highWatermark };
    case 'offset':
      return { offset: t.offset };
    case 'shift':
      return current === null
        ? { error: 'the group has no committed offset here to shift from' }
        : { offset: current + t.by };
    case 'datetime': {
      const found = input.timestampOffsets?.get(key);
      if (found !== undefined) return { offset: found };
      return { error: input.lookupErrors?.get(key) ?? 'no offset found for the timestamp' };
    }
    case 'snapshot':
    case 'backup': {
      const what = t.kind === 'snapshot' ? 'the snapshot' : `backup ${t.backupId}`;
      const source = t.groups.get(input.group);
      if (!source) return { error: `${what} has no offsets for group ${input.group}` };
      const offset = source.get(key);
      if (offset === undefined) return { skip: `not in ${what}; left as is` };
      if (offset === null) {
        if (current !== null && t.kind === 'snapshot' && t.deleteUncommitted === true) {
          return { delete: `committed after ${what} was taken (it had none here); the commit is deleted` };
        }
        return { skip: `the group had no committed offset here in ${what}; left as is` };
      }
      return { offset };
    }
  }
}

function clampToBounds(
  requested: bigint,
  b: PartitionBounds,
): { target: bigint; clamped: false } | { target: bigint; clamped: true; reason: string } {
  if (requested < b.logStartOffset) {
    return {
      target: b.logStartOffset,
      clamped: true,
      reason: `requested ${requested} is below the log start ${b.logStartOffset}`,
    };
  }
  if (requested > b.highWatermark) {
    return {
      target: b.highWatermark,
      clamped: true,
      reason: `requested ${requested} is above the high watermark ${b.highWatermark}`,
    };
  }
  return { target: requested, clamped: false };
}

function planPartition(input: GroupPlanInput, scoped: ScopedPartition): PlannedPartition {
  const key = partitionKey(scoped.topic, scoped.partition);
  const current = input.committed.get(key) ?? null;
  const base: PlannedPartition = {
    group: input.group,
    topic: scoped.topic,
    partition: scoped.partition,
    current,
    requested: null,
    target: null,
    logStartOffset: null,
    highWatermark: null,
    lagBefore: null,
    lagAfter: null,
    status: 'error',
    changed: false,
    reason: null,
  };
  const b = input.bounds.get(key);
  if (!b) {
    // A stale commit on a deleted topic is not worth failing a whole --all-topics run for.
    if (scoped.origin === 'committed') {
      return { ...base, status: 'skipped', reason: 'the partition no longer exists on the cluster' };
    }
    return {
      ...base,
      reason: input.boundsErrors?.get(key) ?? 'the partition does not exist on the cluster',
    };
  }
  const withBounds: PlannedPartition = {
    ...base,
    logStartOffset: b.logStartOffset,
    highWatermark: b.highWatermark,
    lagBefore: current === null ? null : b.highWatermark - current,
  };
  const requested = requestedOffset(input, key, current, b);
  if ('skip' in requested) return { ...withBounds, status: 'skipped', reason: requested.skip };
  if ('error' in requested) return { ...withBounds, status: 'error', reason: requested.error };
  if ('delete' in requested)
    return { ...withBounds, status: 'delete', changed: true, reason: requested.delete };
  const clamp = clampToBounds(requested.offset, b);
  const changed = clamp.target !== current;
  return {
    ...withBounds,
    requested: requested.offset,
    target: clamp.target,
    lagAfter: b.highWatermark - clamp.target,
    changed,
    status: clamp.clamped ? 'clamped' : changed ? 'change' : 'unchanged',
    reason: clamp.clamped ? clamp.reason : null,
  };
}

export function comparePlanned(
  a: Pick<PlannedPartition, 'group' | 'topic' | 'partition'>,
  b: Pick<PlannedPartition, 'group' | 'topic' | 'partition'>,
): number {
  if (a.group !== b.group) return a.group < b.group ? -1 : 1;
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}

/** Plans one group: a row per scoped partition (duplicates collapsed), sorted by topic and partition. */
export function planGroupReset(input: GroupPlanInput): PlannedPartition[] {
  const unique = new Map<string, ScopedPartition>();
  for (const p of input.partitions) {
    const key = partitionKey(p.topic, p.partition);
    // An explicit request (--topics or the source) outranks "the group happens to have a commit there".
    const seen = unique.get(key);
    if (!seen || seen.origin === 'committed') unique.set(key, p);
  }
  return [...unique.values()].map((p) => planPartition(input, p)).sort(comparePlanned);
}

/**
 * Re-checks a planned row against bounds read just before committing: retention may have moved the log
 * start (or an unclean election lowered the high watermark) since planning. Never commits outside the log:
 * a consumer positioned there would fall back to auto.offset.reset, which may skip or replay everything.
 */
export function revalidate(row: PlannedPartition, fresh: PartitionBounds | undefined): PlannedPartition {
  if (row.target === null || row.status === 'skipped' || row.status === 'error') return row;
  if (!fresh) {
    return {
      ...row,
      target: null,
      lagAfter: null,
      changed: false,
      status: 'error',
      reason: 'the partition disappeared from the cluster since planning',
    };
  }
  const updated: PlannedPartition = {
    ...row,
    logStartOffset: fresh.logStartOffset,
    highWatermark: fresh.highWatermark,
    lagBefore: row.current === null ? null : fresh.highWatermark - row.current,
  };
  const clamp = clampToBounds(row.target, fresh);
  if (!clamp.clamped) return { ...updated, lagAfter: fresh.highWatermark - row.target };
  const changed = clamp.target !== row.current;
  return {
    ...updated,
    target: clamp.target,
    lagAfter: fresh.highWatermark - clamp.target,
    changed,
    status: 'clamped',
    reason: `${clamp.reason} (the log moved since planning)`,
  };
}

export interface PlanTotals {
  partitions: number;
  change: number;
  unchanged: number;
  clamped: number;
  delete: number;
  skipped: number;
  error: number;
  /** Rows whose committed offset would move or go (change, clamped rows that move, delete). */
  changed: number;
}

export function summarizePlan(rows: readonly PlannedPartition[]): PlanTotals {
  const totals: PlanTotals = {
    partitions: rows.length,
    change: 0,
    unchanged: 0,
    clamped: 0,
    delete: 0,
    skipped: 0,
    error: 0,
    changed: 0,
  };
  for (const r of rows) {
    totals[r.status]++;
    if (r.changed) totals.changed++;
  }
  return totals;
}
