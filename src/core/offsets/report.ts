import type { PlannedPartition, PlanTotals } from './planner.js';

/** Human renderings of plans and results as table headers and cells; the CLI lays them out. */

export interface TableData {
  headers: string[];
  rows: string[][];
}

/** A planned row after --execute: what happened to it. */
export type AppliedRow = PlannedPartition & { result: string; error: string | null };

const show = (v: bigint | null): string => (v === null ? '-' : v.toString());

const lag = (r: PlannedPartition): string => `${show(r.lagBefore)} → ${show(r.lagAfter)}`;

export function planTable(rows: readonly PlannedPartition[]): TableData {
  return {
    headers: ['group', 'topic', 'partition', 'current', 'target', 'lag before → after', 'status', 'note'],
    rows: rows.map((r) => [
      r.group,
      r.topic,
      String(r.partition),
      show(r.current),
      show(r.target),
      lag(r),
      r.status,
      r.reason ?? '',
    ]),
  };
}

export function appliedTable(rows: readonly AppliedRow[]): TableData {
  return {
    headers: ['group', 'topic', 'partition', 'before', 'after', 'lag before → after', 'result', 'note'],
    rows: rows.map((r) => [
      r.group,
      r.topic,
      String(r.partition),
      show(r.current),
      r.result === 'committed' || r.result === 'unchanged' ? show(r.target) : show(r.current),
      lag(r),
      r.status === 'clamped' && r.result !== 'failed' ? `${r.result} (clamped)` : r.result,
      r.error ?? r.reason ?? '',
    ]),
  };
}

export function planSummary(totals: PlanTotals): string {
  return (
    `${totals.partitions} partition(s): ${totals.changed} to change, ${totals.unchanged} unchanged, ` +
    `${totals.clamped} clamped, ${totals.skipped} skipped, ${totals.error} error(s)`
  );
}
