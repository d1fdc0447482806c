import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { mapWithConcurrency } from '../../core/concurrency.js';
import { KbackupError } from '../../core/errors.js';
import { comparePlanned } from '../../core/offsets/planner.js';
import {
  parseSnapshot,
  serializeSnapshot,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  type OffsetsSnapshot,
  type SnapshotGroup,
} from '../../core/offsets/snapshot-format.js';
import { partitionKey } from '../../core/offsets/target.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import { toFsError } from '../../storage/fs-errors.js';
import { VERSION } from '../../version.js';
import {
  describeGroupStates,
  fetchCommitted,
  loadBounds,
  type CommittedOffsets,
  type GroupState,
} from './cluster.js';

export interface CaptureRequest {
  groups: readonly string[] | 'all';
  /** Only offsets on these topics; all committed topics when undefined. */
  topics?: readonly string[];
  /**
   * Per group, partitions to record even when the group has no commit there (as offset null), so that a
   * rollback of a reset that created commits can say which ones it cannot take back.
   */
  include?: ReadonlyMap<string, readonly { topic: string; partition: number }[]>;
  reason: OffsetsSnapshot['reason'];
  bootstrap: string;
  concurrency: number;
}

/** Reads the committed offsets, state and member count of groups, and the log bounds of their partitions. */
export async function captureOffsetsSnapshot(port: KafkaPort, req: CaptureRequest): Promise<OffsetsSnapshot> {
  const clusterId = await port.clusterId();
  const groupIds =
    req.groups === 'all'
      ? (await port.listGroups())
          // Connect workers and other protocols have no consumer offsets worth saving.
          .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
          .map((g) => g.groupId)
          .sort()
      : [...new Set(req.groups)];
  const states =
    groupIds.length > 0 ? await describeGroupStates(port, groupIds) : new Map<string, GroupState>();
  const committed = await mapWithConcurrency(groupIds, req.concurrency, (g) =>
    fetchCommitted(port, g, req.topics),
  );
  const perGroup = groupIds.map((groupId, i) => {
    const c: CommittedOffsets = committed[i] ?? { offsets: new Map(), metadata: new Map(), partitions: [] };
    const partitions = new Map<string, { topic: string; partition: number }>();
    for (const p of [...c.partitions, ...(req.include?.get(groupId) ?? [])]) {
      partitions.set(partitionKey(p.topic, p.partition), p);
    }
    return { groupId, committed: c, partitions: [...partitions.values()] };
  });
  // With --all-groups and a topic filter, groups without offsets on those topics are noise.
  const kept =
    req.groups === 'all' && req.topics ? perGroup.filter((g) => g.partitions.length > 0) : perGroup;
  const bounds = await loadBounds(
    port,
    kept.flatMap((g) => g.partitions),
    req.concurrency,
  );
  const groups: SnapshotGroup[] = kept.map((g) => {
    const state = states.get(g.groupId);
    return {
      groupId: g.groupId,
      state: state?.state ?? 'Unknown',
      memberCount: state?.memberCount ?? 0,
      offsets: g.partitions
        .map((p) => ({ ...p, group: g.groupId }))
        .sort(comparePlanned)
        .map((p) => {
          const key = partitionKey(p.topic, p.partition);
          const offset = g.committed.offsets.get(key) ?? null;
          const b = bounds.bounds.get(key);
          return {
            topic: p.topic,
            partition: p.partition,
            offset,
            metadata: g.committed.metadata.get(key) ?? null,
            logStartOffset: b?.logStartOffset ?? null,
            highWatermark: b?.highWatermark ?? null,
            lag: b && offset !== null ? b.highWatermark - offset : null,
          };
        }),
    };
  });
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    createdAt: new Date().toISOString(),
    tool: { name: 'kbackup', version: VERSION },
    cluster: { clusterId, bootstrap: req.bootstrap },
    reason: req.reason,
    topics: req.topics ? [...req.topics] : null,
    groups,
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Writes a snapshot atomically (temp file, fsync, rename) and returns its absolute path. Safety snapshots
 * never overwrite: replacing an older one would destroy the rollback point of an earlier reset.
 */
export async function writeSnapshotFile(
  path: string,
  snapshot: OffsetsSnapshot,
  options: { overwrite: boolean },
): Promise<string> {
  const absolute = resolve(path);
  if (!options.overwrite && (await exists(absolute))) {
    throw new KbackupError('USAGE', `${absolute} already exists; refusing to overwrite an offsets snapshot`, {
      hint: 'Pass --snapshot-out with a new file name (or move the old snapshot away).',
    });
  }
  await writeFileAtomic(absolute, serializeSnapshot(snapshot));
  return absolute;
}

export async function readSnapshotFile(path: string): Promise<OffsetsSnapshot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KbackupError('USAGE', `no offsets snapshot at ${path}`, {
        hint: 'Check the path; `kbackup offsets snapshot --out FILE` writes one, and every reset --execute prints the path of the one it took.',
      });
    }
    throw toFsError(error, 'reading', path);
  }
  return parseSnapshot(text, path);
}

/** ./kbackup-offsets-<group>-<UTC stamp>.json; the stamp has milliseconds so that quick re-runs differ. */
export function defaultSnapshotPath(groups: readonly string[], now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, ''); // 20260122T140159.123Z
  // Group ids may hold any character; keep the file name portable.
  const safe = (g: string): string => g.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  const first = groups[0] ?? 'none';
  const name = groups.length > 1 ? `${safe(first)}-and-${groups.length - 1}-more` : safe(first);
  return `kbackup-offsets-${name}-${stamp}.json`;
}
