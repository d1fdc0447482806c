import { describe, expect, it } from 'vitest';
import { ProgressTracker } from '../../../src/cli/progress.js';
import { renderLiveMetrics } from '../../../src/metrics/live.js';

describe('renderLiveMetrics', () => {
  it('exposes run totals, progress, ETA and per-partition figures in Prometheus text format', () => {
    const tracker = new ProgressTracker(0);
    tracker.start({ partitions: 2, totalUnits: 200 });
    tracker.update(
      { label: 'orders-0', records: 50, bytes: 5000, advanced: 50, position: 50n, end: 100n },
      1000,
    );
    tracker.update(
      { label: 'a"b-1', records: 100, bytes: 9000, advanced: 100, position: 100n, end: 100n },
      2000,
    );
    const text = renderLiveMetrics({
      command: 'backup',
      startedAt: new Date(1_000_000),
      snapshot: tracker.snapshot(3000),
      warnings: 2,
      residentBytes: 123_456,
      cpuSeconds: 1.5,
    });
    expect(text).toContain('kbackup_run_start_timestamp_seconds{command="backup"} 1000\n');
    expect(text).toContain('kbackup_run_records_total{command="backup"} 150\n');
    expect(text).toContain('kbackup_run_payload_bytes_total{command="backup"} 14000\n');
    expect(text).toContain('kbackup_run_progress_ratio{command="backup"} 0.75\n');
    // 150 units in 3 s: 50 left take 1 s.
    expect(text).toContain('kbackup_run_eta_seconds{command="backup"} 1\n');
    expect(text).toContain('kbackup_run_partitions_done{command="backup"} 1\n');
    expect(text).toContain('kbackup_run_warnings_total{command="backup"} 2\n');
    expect(text).toContain('kbackup_partition_records_total{command="backup",partition="orders-0"} 50\n');
    expect(text).toContain('kbackup_partition_remaining{command="backup",partition="orders-0"} 50\n');
    expect(text).toContain('kbackup_partition_remaining{command="backup",partition="a\\"b-1"} 0\n');
    expect(text).toContain('process_resident_memory_bytes 123456\n');
    expect(text).toContain('process_cpu_seconds_total 1.5\n');
    // Every family has HELP and TYPE, once.
    const families = [...text.matchAll(/^# TYPE (\S+) (gauge|counter)$/gm)].map((m) => m[1]);
    expect(new Set(families).size).toBe(families.length);
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      const name = /^[a-z_]+/.exec(line)?.[0];
      expect(families).toContain(name);
    }
  });

  it('leaves out progress and ETA when the run announced no total', () => {
    const tracker = new ProgressTracker(0);
    const text = renderLiveMetrics({
      command: 'migrate',
      startedAt: new Date(0),
      snapshot: tracker.snapshot(10),
      warnings: 0,
      residentBytes: 1,
      cpuSeconds: 0,
    });
    expect(text).not.toContain('kbackup_run_progress_ratio');
    expect(text).not.toContain('kbackup_run_eta_seconds');
    expect(text).toContain('kbackup_run_records_total{command="migrate"} 0\n');
  });
});
