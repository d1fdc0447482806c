import type { PlannedPartition, PlanTotals } from './planner.js';
import type { OffsetsSnapshot } from './snapshot-format.js';

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
    `${totals.clamped} clamped, ${totals.skipped} skipped, ${totals.error} error(s)` +
    (totals.delete > 0 ? `; ${totals.delete} commit(s) to delete` : '')
  );
}

export interface GroupLine {
  groupId: string;
  state: string;
  memberCount: number;
  active: boolean;
}

/** The human dry-run report: heading, plan table, totals and what would stop --execute. */
export function dryRunText(
  heading: string,
  plan: { groups: readonly GroupLine[]; rows: readonly PlannedPartition[]; totals: PlanTotals },
  warnings: readonly string[],
  layout: (t: TableData) => string,
  howToApply = 'Re-run with --execute to apply.',
): string {
  const lines = [heading];
  if (plan.rows.length > 0) lines.push(layout(planTable(plan.rows)));
  lines.push(planSummary(plan.totals));
  for (const g of plan.groups.filter((x) => x.active)) {
    lines.push(
      `warning: group ${g.groupId} is active (${g.state}, ${g.memberCount} member(s)): applying will be refused until its consumers are stopped`,
    );
  }
  for (const w of warnings) lines.push(`warning: ${w}`);
  lines.push(`Nothing was changed. ${howToApply}`);
  return lines.join('\n');
}

export interface ExecutedReport {
  command: string;
  groups: number;
  applied: readonly AppliedRow[];
  totals: {
    committed: number;
    deleted: number;
    unchanged: number;
    clamped: number;
    skipped: number;
    failed: number;
  };
  /** Present with --verify. */
  verify?: {
    failures: number;
    mismatches: readonly { group: string; topic: string; partition: number; note: string | null }[];
  };
  warnings: readonly string[];
  /** How to roll back; null when nothing was changed (no snapshot taken). */
  undo: string | null;
}

/** The human report after --execute: result table, totals, verify differences and how to undo. */
export function executedText(report: ExecutedReport, layout: (t: TableData) => string): string {
  const t = report.totals;
  const lines = [
    layout(appliedTable(report.applied)),
    `${report.command}: committed ${t.committed} partition(s) in ${report.groups} group(s)${t.deleted > 0 ? `, deleted ${t.deleted} commit(s)` : ''}; ${t.unchanged} unchanged, ${t.clamped} clamped, ${t.skipped} skipped, ${t.failed} failed`,
  ];
  if (report.verify) {
    lines.push(
      report.verify.failures === 0
        ? 'verify: the committed offsets read back as expected'
        : `verify: ${report.verify.failures} difference(s)`,
    );
    for (const m of report.verify.mismatches) {
      lines.push(`  ${m.group} ${m.topic}-${m.partition}: ${m.note ?? ''}`);
    }
  }
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  lines.push(report.undo ?? 'nothing to change: no offsets committed, no snapshot taken');
  return lines.join('\n');
}

/** The human report of `offsets snapshot`: one line per group and where the file went. */
export function snapshotText(
  snapshot: OffsetsSnapshot,
  path: string,
  layout: (t: TableData) => string,
): string {
  const rows = snapshot.groups.map((g) => {
    const lag = g.offsets.reduce((sum, o) => sum + (o.lag ?? 0n), 0n);
    return [g.groupId, g.state, String(g.memberCount), String(g.offsets.length), lag.toString()];
  });
  return [
    layout({ headers: ['group', 'state', 'members', 'partitions', 'total lag'], rows }),
    `saved ${snapshot.groups.length} group(s) of cluster ${snapshot.cluster.clusterId} to ${path}`,
  ].join('\n');
}
