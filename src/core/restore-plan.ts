import { KbackupError } from './errors.js';
import type { Manifest, ManifestSegment } from './manifest/schema.js';

/** Inclusive bounds on record timestamp and/or source offset. */
export interface RestoreWindow {
  fromTime?: bigint;
  toTime?: bigint;
  fromOffset?: bigint;
  toOffset?: bigint;
}

export interface RestoreSelection {
  /** Source topics to restore; all when empty. */
  topics: string[];
  /** Partitions to restore (same numbers in every selected topic); all when empty. */
  partitions: number[];
  renames: Map<string, string>;
  window: RestoreWindow;
}

/** A segment and the backup (of an incremental chain) whose directory holds it. */
export type ChainSegment = ManifestSegment & { backupId: string };

export interface PartitionRestorePlan {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  /** Segments that may hold records inside the window, in offset order, across an incremental chain. */
  segments: ChainSegment[];
  /** Upper bounds (exact when no window is set). */
  records: number;
  rawBytes: number;
}

export interface TopicRestorePlan {
  sourceTopic: string;
  targetTopic: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
  partitions: PartitionRestorePlan[];
}

export interface RestorePlan {
  backupId: string;
  topics: TopicRestorePlan[];
  exact: boolean;
  totals: { partitions: number; segments: number; records: number; rawBytes: number };
}

export function windowIsEmpty(window: RestoreWindow): boolean {
  return (
    window.fromTime === undefined &&
    window.toTime === undefined &&
    window.fromOffset === undefined &&
    window.toOffset === undefined
  );
}

export function segmentOverlapsWindow(segment: ManifestSegment, window: RestoreWindow): boolean {
  if (window.fromTime !== undefined && segment.maxTimestamp < window.fromTime) return false;
  if (window.toTime !== undefined && segment.minTimestamp > window.toTime) return false;
  if (window.fromOffset !== undefined && segment.lastOffset < window.fromOffset) return false;
  if (window.toOffset !== undefined && segment.firstOffset > window.toOffset) return false;
  return true;
}

export function recordInWindow(offset: bigint, timestamp: bigint, window: RestoreWindow): boolean {
  return (
    (window.fromTime === undefined || timestamp >= window.fromTime) &&
    (window.toTime === undefined || timestamp <= window.toTime) &&
    (window.fromOffset === undefined || offset >= window.fromOffset) &&
    (window.toOffset === undefined || offset <= window.toOffset)
  );
}

/**
 * Pure planner: which topics, partitions and segments a restore reads, and where they go. `ancestors` is
 * the rest of an incremental chain, oldest first: their segments of the same partitions come before the
 * backup's own. Topics, partition counts and configs are those of the backup itself (the newest state).
 */
export function planRestore(
  manifest: Manifest,
  selection: RestoreSelection,
  ancestors: readonly Manifest[] = [],
): RestorePlan {
  const known = new Set(manifest.topics.map((t) => t.name));
  const unknown = selection.topics.filter((t) => !known.has(t));
  if (unknown.length > 0) {
    throw new KbackupError(
      'TOPIC_NOT_FOUND',
      `backup ${manifest.backupId} has no topic ${unknown.join(', ')}`,
      {
        hint: `It holds: ${[...known].join(', ') || '(no topics)'}.`,
      },
    );
  }
  for (const source of selection.renames.keys()) {
    if (!known.has(source)) {
      throw new KbackupError(
        'USAGE',
        `--rename names topic ${source}, which is not in backup ${manifest.backupId}`,
      );
    }
  }
  const chosen = manifest.topics.filter(
    (t) => selection.topics.length === 0 || selection.topics.includes(t.name),
  );
  const targets = new Map<string, string>();
  const topics: TopicRestorePlan[] = chosen.map((topic) => {
    const targetTopic = selection.renames.get(topic.name) ?? topic.name;
    const clash = targets.get(targetTopic);
    if (clash !== undefined) {
      throw new KbackupError(
        'USAGE',
        `topics ${clash} and ${topic.name} would both be restored into ${targetTopic}`,
      );
    }
    targets.set(targetTopic, topic.name);
    for (const p of selection.partitions) {
      if (p >= topic.partitionCount) {
        throw new KbackupError(
          'USAGE',
          `topic ${topic.name} has ${topic.partitionCount} partitions; no partition ${p}`,
        );
      }
    }
    const partitions = topic.partitions
      .filter((p) => selection.partitions.length === 0 || selection.partitions.includes(p.partition))
      .map((p) => {
        const chain = [...ancestors, manifest].flatMap((m) =>
          (
            m.topics.find((t) => t.name === topic.name)?.partitions.find((x) => x.partition === p.partition)
              ?.segments ?? []
          ).map((s): ChainSegment => ({ ...s, backupId: m.backupId })),
        );
        const segments = chain.filter((s) => segmentOverlapsWindow(s, selection.window));
        return {
          sourceTopic: topic.name,
          targetTopic,
          partition: p.partition,
          segments,
          records: segments.reduce((sum, s) => sum + s.recordCount, 0),
          rawBytes: segments.reduce((sum, s) => sum + s.rawBytes, 0),
        };
      });
    return {
      sourceTopic: topic.name,
      targetTopic,
      partitionCount: topic.partitionCount,
      replicationFactor: topic.replicationFactor,
      configs: topic.configs,
      partitions,
    };
  });
  const all = topics.flatMap((t) => t.partitions);
  return {
    backupId: manifest.backupId,
    topics,
    exact: windowIsEmpty(selection.window),
    totals: {
      partitions: all.length,
      segments: all.reduce((s, p) => s + p.segments.length, 0),
      records: all.reduce((s, p) => s + p.records, 0),
      rawBytes: all.reduce((s, p) => s + p.rawBytes, 0),
    },
  };
}
