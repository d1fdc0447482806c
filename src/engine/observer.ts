/**
 * What engines report while they run. The CLI renders it (progress on a TTY, live metrics, logs); tests
 * collect it. Engines never print.
 */
export interface RunObserver {
  /** Once, when the work is known: how many partitions, and how many units (offsets or records) remain. */
  start?(info: { backupId?: string; partitions: number; totalUnits: number }): void;
  progress?(update: ProgressUpdate): void;
  warn(message: string): void;
  warnings(): string[];
}

/**
 * One step of one partition. Units are whatever the engine counts towards `end` (source offsets for backup
 * and migrate, selected records for restore); `advanced` is how many units this step covered, so that
 * totals and rates add up across partitions even when the first step's starting point is not reported.
 */
export interface ProgressUpdate {
  label: string;
  records: number;
  /** Record payload bytes (keys, values, headers) of this step. */
  bytes: number;
  advanced: number;
  position: bigint;
  end: bigint;
}
