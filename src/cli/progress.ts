import type { ProgressUpdate } from '../engine/observer.js';
import { formatBytes, table } from './render.js';

/**
 * Live progress of one run, per partition and in total: records, bytes, MiB/s, percent and ETA. Pure (the
 * caller passes the clock), so that the TTY view and the /metrics endpoint read the same figures and unit
 * tests can drive it.
 */
export interface PartitionProgressView {
  label: string;
  records: number;
  bytes: number;
  position: bigint;
  end: bigint;
  done: boolean;
  /** Payload bytes per second since the partition's first step; undefined until there are two steps. */
  bytesPerSecond: number | undefined;
  /** Seconds left at the partition's average rate; undefined when unknown. */
  etaSeconds: number | undefined;
}

export interface ProgressSnapshot {
  elapsedSeconds: number;
  records: number;
  bytes: number;
  bytesPerSecond: number;
  /** 0..1 of the units announced at start; undefined when the engine announced none (migrate --follow). */
  fraction: number | undefined;
  etaSeconds: number | undefined;
  partitionsTotal: number | undefined;
  partitionsDone: number;
  partitions: PartitionProgressView[];
}

interface PartitionState {
  label: string;
  records: number;
  bytes: number;
  position: bigint;
  end: bigint;
  firstStepAt: number;
  lastStepAt: number;
  /** Units and bytes after the first step, over which the partition's rate is measured. */
  unitsSinceFirst: number;
  bytesSinceFirst: number;
}

export class ProgressTracker {
  readonly #startedAt: number;
  #totalUnits: number | undefined;
  #partitionsTotal: number | undefined;
  #doneUnits = 0;
  #records = 0;
  #bytes = 0;
  readonly #partitions = new Map<string, PartitionState>();

  constructor(startedAt: number) {
    this.#startedAt = startedAt;
  }

  start(info: { partitions: number; totalUnits: number }): void {
    this.#partitionsTotal = info.partitions;
    this.#totalUnits = info.totalUnits;
  }

  update(step: ProgressUpdate, now: number): void {
    this.#doneUnits += step.advanced;
    this.#records += step.records;
    this.#bytes += step.bytes;
    const known = this.#partitions.get(step.label);
    if (!known) {
      this.#partitions.set(step.label, {
        label: step.label,
        records: step.records,
        bytes: step.bytes,
        position: step.position,
        end: step.end,
        firstStepAt: now,
        lastStepAt: now,
        unitsSinceFirst: 0,
        bytesSinceFirst: 0,
      });
      return;
    }
    known.records += step.records;
    known.bytes += step.bytes;
    known.position = step.position;
    known.end = step.end;
    known.lastStepAt = now;
    known.unitsSinceFirst += step.advanced;
    known.bytesSinceFirst += step.bytes;
  }

  snapshot(now: number): ProgressSnapshot {
    const elapsedSeconds = Math.max(0, now - this.#startedAt) / 1000;
    const partitions = [...this.#partitions.values()].map((p) => partitionView(p, now));
    const total = this.#totalUnits;
    const fraction = total === undefined ? undefined : total === 0 ? 1 : Math.min(1, this.#doneUnits / total);
    const unitsPerSecond = elapsedSeconds > 0 ? this.#doneUnits / elapsedSeconds : 0;
    const etaSeconds =
      total === undefined || unitsPerSecond <= 0
        ? undefined
        : Math.max(0, total - this.#doneUnits) / unitsPerSecond;
    return {
      elapsedSeconds,
      records: this.#records,
      bytes: this.#bytes,
      bytesPerSecond: elapsedSeconds > 0 ? this.#bytes / elapsedSeconds : 0,
      fraction,
      etaSeconds,
      partitionsTotal: this.#partitionsTotal,
      partitionsDone: partitions.filter((p) => p.done).length,
      partitions,
    };
  }
}

function partitionView(p: PartitionState, now: number): PartitionProgressView {
  const seconds = (p.lastStepAt - p.firstStepAt) / 1000;
  const done = p.position >= p.end;
  const remaining = done ? 0 : Number(p.end - p.position);
  // A partition that has not stepped for a while is slower than its average: count the idle time too.
  const idle = (now - p.lastStepAt) / 1000;
  const effectiveRate = seconds > 0 && p.unitsSinceFirst > 0 ? p.unitsSinceFirst / (seconds + idle) : 0;
  return {
    label: p.label,
    records: p.records,
    bytes: p.bytes,
    position: p.position,
    end: p.end,
    done,
    bytesPerSecond: seconds > 0 ? p.bytesSinceFirst / seconds : undefined,
    etaSeconds: done ? 0 : effectiveRate > 0 ? remaining / effectiveRate : undefined,
  };
}

/** At most this many partition rows; the ones with the most left to do are shown. */
export const MAX_PROGRESS_ROWS = 8;

/** The TTY view: a row per active partition and a total line. */
export function renderProgress(snapshot: ProgressSnapshot, verb: string): string {
  const active = snapshot.partitions
    .filter((p) => !p.done)
    .sort((a, b) => compareBigInt(b.end - b.position, a.end - a.position) || a.label.localeCompare(b.label));
  const shown = active.slice(0, MAX_PROGRESS_ROWS);
  const lines: string[] = [];
  if (shown.length > 0) {
    lines.push(
      table(
        ['partition', 'records', 'bytes', 'rate', 'done', 'eta'],
        shown.map((p) => [
          p.label,
          p.records.toLocaleString('en-US'),
          formatBytes(p.bytes),
          p.bytesPerSecond === undefined ? '…' : formatRate(p.bytesPerSecond),
          p.end > 0n ? formatPercent(Number(p.position) / Number(p.end)) : '',
          formatEta(p.etaSeconds),
        ]),
      ),
    );
    if (active.length > shown.length) lines.push(`… ${active.length - shown.length} more partitions active`);
  }
  const partitions =
    snapshot.partitionsTotal === undefined
      ? `${snapshot.partitionsDone} partitions done`
      : `${snapshot.partitionsDone}/${snapshot.partitionsTotal} partitions done`;
  lines.push(
    [
      `${verb}: ${snapshot.records.toLocaleString('en-US')} records`,
      formatBytes(snapshot.bytes),
      formatRate(snapshot.bytesPerSecond),
      ...(snapshot.fraction === undefined ? [] : [formatPercent(snapshot.fraction)]),
      ...(snapshot.etaSeconds === undefined ? [] : [`ETA ${formatEta(snapshot.etaSeconds)}`]),
      partitions,
    ].join(', '),
  );
  return lines.join('\n');
}

function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / (1024 * 1024)).toFixed(1)} MiB/s`;
}

function formatPercent(fraction: number): string {
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/** 45s, 12m05s, 3h20m; "…" when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '…';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
