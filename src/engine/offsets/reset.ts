import { mapWithConcurrency } from '../../core/concurrency.js';
import { KbackupError } from '../../core/errors.js';
import {
  comparePlanned,
  planGroupReset,
  revalidate,
  summarizePlan,
  type PlannedPartition,
  type PlanTotals,
} from '../../core/offsets/planner.js';
import { resolveScope } from '../../core/offsets/scope.js';
import { partitionKey, targetSummary, type ResetTarget } from '../../core/offsets/target.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import {
  describeGroupStates,
  fetchCommitted,
  isGroupInactive,
  loadBounds,
  lookupTimestamps,
  topicPartitions,
  type GroupState,
} from './cluster.js';

export interface ResetRequest {
  groups: readonly string[];
  /** --topics: every partition of these topics. */
  topics?: readonly string[];
  /** --all-topics: every partition each group has committed. */
  allTopics: boolean;
  target: ResetTarget;
  concurrency: number;
}

export interface GroupPlan extends GroupState {
  /** Has members or is rebalancing: --execute will refuse it. */
  active: boolean;
  rows: PlannedPartition[];
}

export interface ResetPlan {
  target: ResetTarget;
  groups: GroupPlan[];
  /** Every group's rows, sorted by group, topic and partition. */
  rows: PlannedPartition[];
  totals: PlanTotals;
  /** Worth telling the operator, e.g. a snapshot or backup taken on another cluster. */
  warnings: string[];
}

function sourceFor(target: ResetTarget, group: string) {
  return target.kind === 'snapshot' || target.kind === 'backup' ? target.groups.get(group) : undefined;
}

/** Reads what the planner needs from the cluster and plans every group. Changes nothing. */
export async function planOffsetReset(port: KafkaPort, req: ResetRequest): Promise<ResetPlan> {
  const { target } = req;
  const fromSource = target.kind === 'snapshot' || target.kind === 'backup';
  if (!req.topics && !req.allTopics && !fromSource) {
    throw new KbackupError('USAGE', 'say which partitions to reset: --topics t1,t2 or --all-topics', {
      hint: 'Only snapshot and backup targets know their partitions on their own.',
    });
  }
  if (fromSource) {
    const missing = req.groups.filter((g) => !target.groups.has(g));
    if (missing.length > 0) {
      const what = target.kind === 'snapshot' ? `snapshot ${target.path}` : `backup ${target.backupId}`;
      throw new KbackupError('USAGE', `${what} has no offsets for group(s) ${missing.join(', ')}`, {
        hint: `It has: ${[...target.groups.keys()].join(', ') || '(no groups)'}.`,
      });
    }
  }
  const warnings: string[] = [];
  if (fromSource) {
    const clusterId = await port.clusterId();
    if (clusterId !== target.clusterId) {
      warnings.push(
        `the ${target.kind} was taken on cluster ${target.clusterId}, this is ${clusterId}: offsets are applied as recorded (after a restore, \`kbackup restore --consumer-groups\` translates them)`,
      );
    }
  }
  const groups = [...new Set(req.groups)];
  const states = await describeGroupStates(port, groups);
  const named = req.topics ? await topicPartitions(port, req.topics) : undefined;
  // Offsets on other topics are fetched only when the scope may need them (--all-topics or a source).
  const committedTopics = req.allTopics || fromSource ? undefined : req.topics;
  const committed = await mapWithConcurrency(groups, req.concurrency, (g) =>
    fetchCommitted(port, g, committedTopics),
  );
  const scopes = groups.map((g, i) =>
    resolveScope({
      ...(named ? { topics: named } : {}),
      allTopics: req.allTopics,
      committed: committed[i]?.partitions ?? [],
      ...(fromSource ? { source: sourceFor(target, g) } : {}),
    }),
  );
  const all = scopes.flat();
  const bounds = await loadBounds(port, all, req.concurrency);
  const lookups =
    target.kind === 'datetime'
      ? await lookupTimestamps(
          port,
          all.filter((p) => bounds.bounds.has(partitionKey(p.topic, p.partition))),
          target.timestamp,
          req.concurrency,
        )
      : undefined;
  const groupPlans: GroupPlan[] = groups.map((groupId, i) => {
    const state = states.get(groupId) ?? { groupId, state: 'Unknown', memberCount: 0 };
    return {
      ...state,
      active: !isGroupInactive(state),
      rows: planGroupReset({
        group: groupId,
        partitions: scopes[i] ?? [],
        committed: committed[i]?.offsets ?? new Map(),
        bounds: bounds.bounds,
        boundsErrors: bounds.errors,
        target,
        ...(lookups ? { timestampOffsets: lookups.offsets, lookupErrors: lookups.errors } : {}),
      }),
    };
  });
  const rows = groupPlans.flatMap((g) => g.rows).sort(comparePlanned);
  return { target, groups: groupPlans, rows, totals: summarizePlan(rows), warnings };
}

/** The plan's target and groups for a JSON result document. */
export function planJson(plan: ResetPlan) {
  return {
    target: targetSummary(plan.target),
    groups: plan.groups.map((g) => ({
      group: g.groupId,
      state: g.state,
      members: g.memberCount,
      active: g.active,
    })),
  };
}

/**
 * Refuses the whole run, before anything is written, when a group has members: Kafka rejects commits from
 * outside the group's generation, and a running consumer would overwrite the reset with its next commit.
 */
export function assertGroupsInactive(groups: readonly GroupPlan[]): void {
  const active = groups.filter((g) => g.active);
  if (active.length === 0) return;
  const list = active.map((g) => `${g.groupId} (${g.state}, ${g.memberCount} member(s))`).join(', ');
  throw new KbackupError(
    'USAGE',
    `consumer group(s) still active: ${list}; nothing was changed. Stop the consumers first`,
    {
      hint: 'Offsets can only be changed while a group has no members: stop (or scale to zero) every consumer of the group, wait until it is Empty, then re-run.',
      details: {
        activeGroups: active.map((g) => ({ group: g.groupId, state: g.state, members: g.memberCount })),
      },
    },
  );
}

export type ApplyResult = 'committed' | 'deleted' | 'unchanged' | 'skipped' | 'failed';

export interface AppliedPartition extends PlannedPartition {
  result: ApplyResult;
  error: string | null;
  /** With verify: the committed offset read back afterwards (null: none) and whether it is the target. */
  readBack: bigint | null;
  verified: boolean | null;
}

export interface ApplyOptions {
  concurrency: number;
  verify: boolean;
  signal?: AbortSignal;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function applied(row: PlannedPartition, result: ApplyResult, error: string | null = null): AppliedPartition {
  return { ...row, result, error, readBack: null, verified: null };
}

async function verifyGroup(port: KafkaPort, group: string, rows: AppliedPartition[]): Promise<void> {
  const checked = rows.filter((r) => r.target !== null && r.result !== 'failed');
  if (checked.length === 0) return;
  try {
    const read = await fetchCommitted(port, group, [...new Set(checked.map((r) => r.topic))]);
    for (const r of checked) {
      r.readBack = read.offsets.get(partitionKey(r.topic, r.partition)) ?? null;
      r.verified = r.readBack === r.target;
      if (!r.verified) r.error = `read back ${r.readBack ?? 'no offset'}, expected ${r.target ?? '-'}`;
    }
  } catch (error) {
    for (const r of checked) {
      r.verified = false;
      r.error = `reading the committed offsets back failed: ${message(error)}`;
    }
  }
}

/** Re-checks one group and its bounds, commits its changed partitions in one request, optionally verifies. */
async function applyGroup(
  port: KafkaPort,
  group: GroupPlan,
  options: ApplyOptions,
): Promise<AppliedPartition[]> {
  const pending = group.rows.filter((r) => r.status !== 'skipped' && r.status !== 'error');
  const settled = group.rows
    .filter((r) => r.status === 'skipped' || r.status === 'error')
    .map((r) =>
      applied(r, r.status === 'skipped' ? 'skipped' : 'failed', r.status === 'error' ? r.reason : null),
    );
  if (pending.length === 0) return settled;
  if (options.signal?.aborted) {
    return [
      ...settled,
      ...pending.map((r) => applied(r, 'failed', 'interrupted before this group was committed')),
    ];
  }
  let results: AppliedPartition[];
  try {
    const state = (await describeGroupStates(port, [group.groupId])).get(group.groupId);
    if (!state || !isGroupInactive(state)) {
      throw new Error(
        `group ${group.groupId} became active (${state?.state ?? 'Unknown'}, ${state?.memberCount ?? '?'} member(s)) after planning; stop the consumers first`,
      );
    }
    const fresh = await loadBounds(port, pending, 1);
    const rechecked = pending.map((r) => {
      const lookupError = fresh.errors.get(partitionKey(r.topic, r.partition));
      if (lookupError !== undefined) return { ...r, status: 'error' as const, reason: lookupError };
      return revalidate(r, fresh.bounds.get(partitionKey(r.topic, r.partition)));
    });
    const toCommit = rechecked.filter((r) => r.status !== 'error' && r.changed && r.target !== null);
    if (toCommit.length > 0) {
      // One request per group: the coordinator appends all of a group's offsets atomically.
      await port.commitGroupOffsets(
        group.groupId,
        toCommit.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.target ?? 0n })),
      );
    }
    const toDelete = rechecked.filter((r) => r.status === 'delete');
    if (toDelete.length > 0) {
      // After the commits: a failure here leaves the snapshot's offsets in place and only the extra commits.
      await port.deleteGroupOffsets(
        group.groupId,
        toDelete.map((r) => ({ topic: r.topic, partition: r.partition })),
      );
    }
    results = rechecked.map((r) =>
      r.status === 'error'
        ? applied(r, 'failed', r.reason)
        : applied(r, r.status === 'delete' ? 'deleted' : r.changed ? 'committed' : 'unchanged'),
    );
  } catch (error) {
    results = pending.map((r) => applied(r, 'failed', message(error)));
  }
  if (options.verify) await verifyGroup(port, group.groupId, results);
  return [...settled, ...results];
}

/**
 * Applies a plan group by group with bounded concurrency. A failing group (or partition) is reported and
 * does not stop the others; the caller turns the per-partition results into an exit code.
 */
export async function applyOffsetReset(
  port: KafkaPort,
  plan: ResetPlan,
  options: ApplyOptions,
): Promise<AppliedPartition[]> {
  const perGroup = await mapWithConcurrency(plan.groups, options.concurrency, (g) =>
    applyGroup(port, g, options),
  );
  return perGroup.flat().sort(comparePlanned);
}

export interface ApplyTotals {
  partitions: number;
  committed: number;
  deleted: number;
  unchanged: number;
  skipped: number;
  failed: number;
  clamped: number;
  verifyFailed: number;
}

export function summarizeApplied(rows: readonly AppliedPartition[]): ApplyTotals {
  const totals: ApplyTotals = {
    partitions: rows.length,
    committed: 0,
    deleted: 0,
    unchanged: 0,
    skipped: 0,
    failed: 0,
    clamped: 0,
    verifyFailed: 0,
  };
  for (const r of rows) {
    totals[r.result]++;
    if (r.status === 'clamped') totals.clamped++;
    if (r.verified === false) totals.verifyFailed++;
  }
  return totals;
}
