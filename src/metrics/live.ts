import type { ProgressSnapshot } from '../cli/progress.js';
import { escapeLabel, exposition } from './prometheus.js';

/** What the /metrics endpoint shows during a run (--metrics-port): the run so far, per partition. */
export interface LiveMetrics {
  command: string;
  startedAt: Date;
  snapshot: ProgressSnapshot;
  warnings: number;
  residentBytes: number;
  cpuSeconds: number;
}

/** Prometheus text for one scrape. Pure; the server gathers the figures. */
export function renderLiveMetrics(live: LiveMetrics): string {
  const cmd = `command="${escapeLabel(live.command)}"`;
  const { snapshot } = live;
  const { metric, text } = exposition();
  metric('kbackup_run_start_timestamp_seconds', 'When the running command started (Unix time).', 'gauge', [
    [cmd, live.startedAt.getTime() / 1000],
  ]);
  metric('kbackup_run_records_total', 'Records processed so far by the running command.', 'counter', [
    [cmd, snapshot.records],
  ]);
  metric(
    'kbackup_run_payload_bytes_total',
    'Record bytes (keys, values, headers) processed so far.',
    'counter',
    [[cmd, snapshot.bytes]],
  );
  metric('kbackup_run_warnings_total', 'Warnings reported so far.', 'counter', [[cmd, live.warnings]]);
  if (snapshot.fraction !== undefined) {
    metric('kbackup_run_progress_ratio', 'Fraction of the planned work done (0..1).', 'gauge', [
      [cmd, snapshot.fraction],
    ]);
  }
  if (snapshot.etaSeconds !== undefined) {
    metric('kbackup_run_eta_seconds', 'Estimated seconds left at the average rate so far.', 'gauge', [
      [cmd, Math.round(snapshot.etaSeconds)],
    ]);
  }
  metric('kbackup_run_partitions_done', 'Partitions finished so far.', 'gauge', [
    [cmd, snapshot.partitionsDone],
  ]);
  if (snapshot.partitionsTotal !== undefined) {
    metric('kbackup_run_partitions', 'Partitions the running command works on.', 'gauge', [
      [cmd, snapshot.partitionsTotal],
    ]);
  }
  const partition = (label: string): string => `${cmd},partition="${escapeLabel(label)}"`;
  metric(
    'kbackup_partition_records_total',
    'Records processed so far, per partition.',
    'counter',
    snapshot.partitions.map((p) => [partition(p.label), p.records]),
  );
  metric(
    'kbackup_partition_remaining',
    'Offsets (backup, migrate) or records (restore) left to reach the end, per partition.',
    'gauge',
    snapshot.partitions.map((p) => [partition(p.label), p.done ? 0 : Number(p.end - p.position)]),
  );
  metric('process_resident_memory_bytes', 'Resident memory of the kbackup process.', 'gauge', [
    ['', live.residentBytes],
  ]);
  metric('process_cpu_seconds_total', 'CPU time used by the kbackup process.', 'counter', [
    ['', live.cpuSeconds],
  ]);
  return text();
}
