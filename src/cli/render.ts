/** Small, dependency-free helpers to render human output. */

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value.toString() : value.toFixed(1)} ${units[i] ?? 'B'}`;
}

export function table(headers: string[], rows: (string | number | bigint)[][]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The consumer-group offsets a restore or migrate committed, as printed after the run. */
export function groupOffsetsReport(
  groupOffsets: readonly {
    targetGroup: string;
    targetTopic: string;
    partition: number;
    sourceOffset: bigint;
    targetOffset: bigint;
  }[],
): string[] {
  if (groupOffsets.length === 0) return [];
  const groups = new Set(groupOffsets.map((g) => g.targetGroup)).size;
  return [
    table(
      ['group', 'topic', 'partition', 'source offset', 'target offset'],
      groupOffsets.map((g) => [g.targetGroup, g.targetTopic, g.partition, g.sourceOffset, g.targetOffset]),
    ),
    `committed and read back the offsets of ${groups} group(s)`,
  ];
}
