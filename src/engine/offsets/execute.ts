import type { SnapshotGroup } from '../../core/offsets/snapshot-format.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import {
  applyOffsetReset,
  assertGroupsInactive,
  summarizeApplied,
  type AppliedPartition,
  type ApplyTotals,
  type ResetPlan,
} from './reset.js';
import { verifyAgainstSnapshot, type RollbackCheck } from './rollback.js';
import { captureOffsetsSnapshot, defaultSnapshotPath, writeSnapshotFile } from './snapshot.js';

export interface ExecuteOptions {
  bootstrap: string;
  concurrency: number;
  /** Where to save the offsets being replaced; a fresh ./kbackup-offsets-<group>-<UTC>.json by default. */
  snapshotOut: string | undefined;
  reason: 'before-reset' | 'before-rollback';
  verify: boolean;
  /** Rollback: verify against these snapshot groups instead of against the planned targets. */
  rollbackOf?: readonly SnapshotGroup[];
  /** Called once the safety snapshot is on disk, before the first commit. */
  onSnapshot?: (path: string) => void;
  signal?: AbortSignal;
}

export interface ExecuteResult {
  /** The saved offsets from before the run; null when the plan changed nothing (no snapshot taken). */
  snapshotPath: string | null;
  applied: AppliedPartition[];
  totals: ApplyTotals;
  /** Rollback --verify: every snapshot partition compared with what the cluster holds afterwards. */
  checks: RollbackCheck[];
  /** Partitions whose read-back differs (verify only). */
  verifyFailures: number;
}

/**
 * Applies a reset or rollback plan the safe way: refuses the whole run if a group is active, saves the
 * groups' current offsets (the way back) before the first commit, commits group by group, and optionally
 * reads everything back.
 */
export async function executeOffsetPlan(
  port: KafkaPort,
  plan: ResetPlan,
  options: ExecuteOptions,
): Promise<ExecuteResult> {
  assertGroupsInactive(plan.groups);
  const groupIds = plan.groups.map((g) => g.groupId);
  let snapshotPath: string | null = null;
  // Nothing to move, nothing to roll back: idempotent re-runs do not litter the directory with snapshots.
  // (Re-validation can only move an unchanged row whose offset fell out of the log, which no rollback could
  // restore anyway.)
  if (plan.totals.changed > 0) {
    const before = await captureOffsetsSnapshot(port, {
      groups: groupIds,
      topics: [...new Set(plan.rows.map((r) => r.topic))],
      include: new Map(plan.groups.map((g) => [g.groupId, g.rows])),
      reason: options.reason,
      bootstrap: options.bootstrap,
      concurrency: options.concurrency,
    });
    // Written before the first commit, so that the way back exists even if this run dies half-way.
    snapshotPath = await writeSnapshotFile(options.snapshotOut ?? defaultSnapshotPath(groupIds), before, {
      overwrite: false,
    });
    options.onSnapshot?.(snapshotPath);
  }
  const applied = await applyOffsetReset(port, plan, {
    concurrency: options.concurrency,
    verify: options.verify && !options.rollbackOf,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const checks =
    options.verify && options.rollbackOf
      ? await verifyAgainstSnapshot(port, options.rollbackOf, applied, options.concurrency)
      : [];
  const totals = summarizeApplied(applied);
  return {
    snapshotPath,
    applied,
    totals,
    checks,
    verifyFailures: totals.verifyFailed + checks.filter((c) => !c.ok).length,
  };
}
