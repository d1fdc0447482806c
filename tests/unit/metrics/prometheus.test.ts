import { describe, expect, it } from 'vitest';
import { previousLastSuccess, renderMetrics, type RunMetrics } from '../../../src/metrics/prometheus.js';

const base: RunMetrics = {
  command: 'backup',
  success: true,
  exitCode: 0,
  finishedAt: new Date('2026-11-22T03:00:00Z'),
  durationMs: 12_500,
  records: 1000,
  payloadBytes: 500_000,
  storedBytes: 100_000,
  topics: ['orders', 'payments'],
  errorTopics: [],
};

describe('renderMetrics', () => {
  it('writes the last success, duration, volumes, compression ratio and per-topic errors', () => {
    const text = renderMetrics(base, undefined);
    expect(text).toContain('kbackup_last_success_timestamp_seconds{command="backup"} 1795316400');
    expect(text).toContain('kbackup_last_run_success{command="backup"} 1');
    expect(text).toContain('kbackup_last_run_duration_seconds{command="backup"} 12.5');
    expect(text).toContain('kbackup_last_run_records{command="backup"} 1000');
    expect(text).toContain('kbackup_last_run_payload_bytes{command="backup"} 500000');
    expect(text).toContain('kbackup_last_run_compression_ratio{command="backup"} 5');
    expect(text).toContain('kbackup_last_run_errors{command="backup",topic="orders"} 0');
    expect(text).toContain('kbackup_last_run_errors{command="backup",topic=""} 0');
    // Every series has HELP and TYPE lines, as the textfile collector expects.
    for (const name of text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('{')[0])) {
      expect(text).toContain(`# TYPE ${name ?? ''} gauge`);
    }
  });

  it('keeps the previous success time when a run fails, and counts the failing topic', () => {
    const previous = renderMetrics(base, undefined);
    expect(previousLastSuccess(previous, 'backup')).toBe(1795316400);
    const failed = renderMetrics(
      {
        ...base,
        success: false,
        exitCode: 6,
        finishedAt: new Date('2026-11-23T03:00:00Z'),
        errorTopics: ['payments'],
        records: undefined,
      },
      previous,
    );
    expect(failed).toContain('kbackup_last_success_timestamp_seconds{command="backup"} 1795316400');
    expect(failed).toContain('kbackup_last_run_success{command="backup"} 0');
    expect(failed).toContain('kbackup_last_run_exit_code{command="backup"} 6');
    expect(failed).toContain('kbackup_last_run_errors{command="backup",topic="payments"} 1');
    expect(failed).toContain('kbackup_last_run_errors{command="backup",topic="orders"} 0');
    expect(failed).not.toContain('kbackup_last_run_records');
  });

  it('counts a failure not about one topic under topic=""', () => {
    const text = renderMetrics({ ...base, success: false, exitCode: 6, topics: [] }, undefined);
    expect(text).toContain('kbackup_last_run_errors{command="backup",topic=""} 1');
    expect(text).not.toContain('kbackup_last_success_timestamp_seconds');
  });

  it('escapes label values', () => {
    expect(renderMetrics({ ...base, command: 'a"b\\c' }, undefined)).toContain('command="a\\"b\\\\c"');
  });
});
