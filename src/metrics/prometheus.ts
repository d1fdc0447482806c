/**
 * Prometheus text exposition for node_exporter's textfile collector. Pure: the caller reads the previous
 * file (to carry the last success time over a failed run) and writes the result atomically.
 */
export interface RunMetrics {
  command: string;
  success: boolean;
  exitCode: number;
  finishedAt: Date;
  durationMs: number;
  records?: number;
  payloadBytes?: number;
  storedBytes?: number;
  /** Failed runs: the topics the failure was about (empty when it was not about one topic). */
  errorTopics: string[];
  /** Topics the run covered, so that each gets an explicit zero-error series. */
  topics: string[];
}

export const escapeLabel = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Finds `kbackup_last_success_timestamp_seconds{command="X"} V` in a previous file. */
export function previousLastSuccess(previous: string | undefined, command: string): number | undefined {
  if (!previous) return undefined;
  const pattern = new RegExp(
    `^kbackup_last_success_timestamp_seconds\\{command="${escapeLabel(command)}"\\} (\\S+)$`,
    'm',
  );
  const value = Number(pattern.exec(previous)?.[1]);
  return Number.isFinite(value) ? value : undefined;
}

type MetricWriter = (
  name: string,
  help: string,
  type: 'gauge' | 'counter',
  samples: [string, number][],
) => void;

/** Collects metric families in the exposition format: HELP and TYPE lines, then the samples. */
export function exposition(): { metric: MetricWriter; text: () => string } {
  const lines: string[] = [];
  return {
    metric: (name, help, type, samples) => {
      if (samples.length === 0) return;
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels ? `{${labels}}` : ''} ${value}`);
    },
    text: () => lines.join('\n') + '\n',
  };
}

export function renderMetrics(run: RunMetrics, previous: string | undefined): string {
  const cmd = `command="${escapeLabel(run.command)}"`;
  const { metric, text } = exposition();
  const finished = run.finishedAt.getTime() / 1000;
  const lastSuccess = run.success ? finished : previousLastSuccess(previous, run.command);
  metric('kbackup_last_run_timestamp_seconds', 'When the last run finished (Unix time).', 'gauge', [
    [cmd, finished],
  ]);
  metric(
    'kbackup_last_success_timestamp_seconds',
    'When the last successful run finished (Unix time).',
    'gauge',
    lastSuccess === undefined ? [] : [[cmd, lastSuccess]],
  );
  metric('kbackup_last_run_success', '1 if the last run succeeded, 0 if it failed.', 'gauge', [
    [cmd, run.success ? 1 : 0],
  ]);
  metric('kbackup_last_run_exit_code', 'Exit code of the last run (docs/EXIT-CODES.md).', 'gauge', [
    [cmd, run.exitCode],
  ]);
  metric('kbackup_last_run_duration_seconds', 'Duration of the last run.', 'gauge', [
    [cmd, run.durationMs / 1000],
  ]);
  if (run.records !== undefined)
    metric('kbackup_last_run_records', 'Records processed by the last run.', 'gauge', [[cmd, run.records]]);
  if (run.payloadBytes !== undefined) {
    metric(
      'kbackup_last_run_payload_bytes',
      'Record bytes (keys, values, headers) processed by the last run.',
      'gauge',
      [[cmd, run.payloadBytes]],
    );
  }
  if (run.storedBytes !== undefined) {
    metric('kbackup_last_run_stored_bytes', 'Bytes written to the repository by the last run.', 'gauge', [
      [cmd, run.storedBytes],
    ]);
    if (run.payloadBytes !== undefined && run.storedBytes > 0) {
      metric('kbackup_last_run_compression_ratio', 'Record bytes divided by stored bytes.', 'gauge', [
        [cmd, run.payloadBytes / run.storedBytes],
      ]);
    }
  }
  const topics = [...new Set([...run.topics, ...run.errorTopics])].sort();
  const general = run.success || run.errorTopics.length > 0 ? 0 : 1;
  metric(
    'kbackup_last_run_errors',
    'Errors of the last run, per topic ("" when not about one topic).',
    'gauge',
    [
      [`${cmd},topic=""`, general],
      ...topics.map((t): [string, number] => [
        `${cmd},topic="${escapeLabel(t)}"`,
        run.errorTopics.includes(t) ? 1 : 0,
      ]),
    ],
  );
  return text();
}
