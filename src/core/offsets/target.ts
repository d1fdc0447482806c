import type { Manifest } from '../manifest/schema.js';

/**
 * What a reset moves a group's committed offsets to. Exactly one target per run, as with
 * kafka-consumer-groups.sh --reset-offsets. Snapshot and backup targets carry the offsets they were loaded
 * with, per group, so that the planner stays pure.
 */
export type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  /** First offset whose record timestamp is >= timestamp (epoch ms); the end of the log when there is none. */
  | { kind: 'datetime'; timestamp: bigint }
  | { kind: 'offset'; offset: bigint }
  /** Relative to the current committed offset; negative moves back. */
  | { kind: 'shift'; by: bigint }
  | {
      kind: 'snapshot';
      path: string;
      clusterId: string;
      groups: ReadonlyMap<string, SourceOffsets>;
      /**
       * Rollback: a commit on a partition where the snapshot recorded none is deleted (OffsetDelete), so
       * that the group ends exactly as it was. `reset --from-snapshot` leaves such commits alone.
       */
      deleteUncommitted?: boolean;
    }
  | { kind: 'backup'; backupId: string; clusterId: string; groups: ReadonlyMap<string, SourceOffsets> };

/**
 * Offsets a snapshot or backup recorded for one group, keyed by partitionKey(). A null value means the group
 * had no committed offset there when the source was taken (only a rollback deletes a commit made since).
 */
export type SourceOffsets = ReadonlyMap<string, bigint | null>;

export type TargetKind = ResetTarget['kind'];

/** Kafka topic names cannot contain ':', so this key is unambiguous. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf(':');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

export function describeTarget(target: ResetTarget): string {
  switch (target.kind) {
    case 'earliest':
      return 'earliest (log start)';
    case 'latest':
      return 'latest (high watermark)';
    case 'datetime':
      return `datetime ${isoOrRaw(target.timestamp)} (${target.timestamp})`;
    case 'offset':
      return `offset ${target.offset}`;
    case 'shift':
      return `shift by ${target.by}`;
    case 'snapshot':
      return `snapshot ${target.path}`;
    case 'backup':
      return `backup ${target.backupId}`;
  }
}

/** A JSON-friendly description of the target (without the loaded offsets). */
export function targetSummary(target: ResetTarget): Record<string, string> {
  switch (target.kind) {
    case 'earliest':
    case 'latest':
      return { kind: target.kind };
    case 'datetime':
      return {
        kind: target.kind,
        timestamp: target.timestamp.toString(),
        iso: isoOrRaw(target.timestamp),
      };
    case 'offset':
      return { kind: target.kind, offset: target.offset.toString() };
    case 'shift':
      return { kind: target.kind, by: target.by.toString() };
    case 'snapshot':
      return { kind: target.kind, path: target.path, clusterId: target.clusterId };
    case 'backup':
      return { kind: target.kind, backupId: target.backupId, clusterId: target.clusterId };
  }
}

/** Epoch ms as ISO-8601; Date cannot represent every int64, so out-of-range values stay numeric. */
export function isoOrRaw(ms: bigint): string {
  const date = new Date(Number(ms));
  return Number.isNaN(date.getTime()) ? ms.toString() : date.toISOString();
}

/** The committed offsets a backup recorded at the end of its cut, per group, as a reset target uses them. */
export function backupSources(manifest: Manifest): Map<string, SourceOffsets> {
  return new Map(
    manifest.consumerGroups.map((g) => [
      g.groupId,
      new Map(g.offsets.map((o) => [partitionKey(o.topic, o.partition), o.offset])),
    ]),
  );
}
