import type { PlannedPartition } from './planner.js';
import type { OffsetsSnapshot } from './snapshot-format.js';

/**
 * CSV renderings. The first four columns are group,topic,partition,offset: the multi-group layout of
 * kafka-consumer-groups.sh --export, so `tail -n +2 | cut -d, -f1-4` feeds its --from-file. A header names
 * every column so that other tools can read the rest.
 */

type Cell = string | number | bigint | boolean | null;

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double inner quotes. */
export function csvField(value: Cell): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLines(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export const PLAN_CSV_HEADER = [
  'group',
  'topic',
  'partition',
  'offset',
  'current_offset',
  'log_start_offset',
  'high_watermark',
  'lag_before',
  'lag_after',
  'status',
  'reason',
] as const;

/** One line per planned partition; `offset` is the target (empty when nothing would be committed). */
export function planCsv(rows: readonly PlannedPartition[]): string {
  return csvLines(
    PLAN_CSV_HEADER,
    rows.map((r) => [
      r.group,
      r.topic,
      r.partition,
      r.target,
      r.current,
      r.logStartOffset,
      r.highWatermark,
      r.lagBefore,
      r.lagAfter,
      r.status,
      r.reason,
    ]),
  );
}

export const SNAPSHOT_CSV_HEADER = [
  'group',
  'topic',
  'partition',
  'offset',
  'log_start_offset',
  'high_watermark',
  'lag',
  'group_state',
  'members',
] as const;

export function snapshotCsv(snapshot: OffsetsSnapshot): string {
  return csvLines(
    SNAPSHOT_CSV_HEADER,
    snapshot.groups.flatMap((g) =>
      g.offsets.map((o) => [
        g.groupId,
        o.topic,
        o.partition,
        o.offset,
        o.logStartOffset,
        o.highWatermark,
        o.lag,
        g.state,
        g.memberCount,
      ]),
    ),
  );
}

/** The plan columns plus what --execute did: result (committed, deleted, unchanged, skipped, failed) and error. */
export function appliedCsv(
  rows: readonly (PlannedPartition & { result: string; error: string | null; verified: boolean | null })[],
): string {
  return csvLines(
    [...PLAN_CSV_HEADER, 'result', 'error', 'verified'],
    rows.map((r) => [
      r.group,
      r.topic,
      r.partition,
      r.target,
      r.current,
      r.logStartOffset,
      r.highWatermark,
      r.lagBefore,
      r.lagAfter,
      r.status,
      r.reason,
      r.result,
      r.error,
      r.verified,
    ]),
  );
}
