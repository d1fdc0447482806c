/**
 * What engines report while they run. The CLI renders it (progress on a TTY, logs otherwise); tests
 * collect it. Engines never print.
 */
export interface RunObserver {
  start?(info: { backupId?: string; partitions: number; totalOffsets: number }): void;
  progress?(label: string, records: number, position: bigint, end: bigint): void;
  warn(message: string): void;
  warnings(): string[];
}
