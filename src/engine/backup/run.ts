import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { KbackupError } from '../../core/errors.js';
import { mapWithConcurrency } from '../../core/concurrency.js';
import type { BackupPlan, PartitionProgress } from '../../core/manifest/plan.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest } from '../../core/manifest/schema.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import { newBackupId, type Repository } from '../../storage/repository.js';
import { estimateBackupBytes } from '../../core/space.js';
import { VERSION } from '../../version.js';
import type { RunObserver } from '../observer.js';
import { backupPartition, emptyProgress } from './partition.js';
import { commandKey, createPlan, type PlanRequest } from './plan.js';

export interface BackupOptions extends Omit<PlanRequest, 'backupId'> {
  /** Partitions read at the same time. */
  concurrency: number;
  fetchMaxBytes: number;
  /** Id for a new backup (default: UTC time + random). */
  backupId?: string;
  /** Resume this interrupted backup. Without it, an interrupted backup of the same command is resumed. */
  resume?: string;
  /** Continue from the newest complete backup of the same cluster that shares topics with this one. */
  incremental?: boolean;
  /** Refuse to start when the estimated size exceeds the free space (default: warn only). */
  requireFreeSpace?: boolean;
  signal?: AbortSignal;
}

export interface BackupOutcome {
  manifest: Manifest;
  resumed: boolean;
}

/**
 * Takes a consistent cut of the selected topics into a new backup, or finishes an interrupted one. The
 * plan (the cut, the options, the group offsets) is written before any data; each partition then streams
 * into segments from its last durable position; the manifest is written last.
 */
export async function runBackup(
  kafka: KafkaPort,
  repo: Repository,
  options: BackupOptions,
  observer: RunObserver,
): Promise<BackupOutcome> {
  const clusterId = await kafka.clusterId();
  let plan = await findPlanToResume(repo, clusterId, options);
  const resumed = plan !== undefined;
  if (plan) {
    observer.warn(`resuming interrupted backup ${plan.backupId} (cut and options of its first run)`);
  } else {
    const backupId = options.backupId ?? newBackupId(new Date(), randomBytes(3).toString('hex'));
    if (await repo.backupExists(backupId)) {
      throw new KbackupError('USAGE', `backup ${backupId} already exists in ${repo.root}`, {
        hint: 'Choose another --backup-id, or --resume it if it was interrupted.',
      });
    }
    const findParent =
      options.incremental === true
        ? (cluster: string, topics: string[]) => latestBackupOf(repo, cluster, topics)
        : undefined;
    plan = await createPlan(kafka, { ...options, backupId, ...(findParent ? { findParent } : {}) }, observer);
  }
  if (!resumed) await checkFreeSpace(kafka, repo, plan, options.requireFreeSpace === true, observer);
  const lock = await repo.lock(`backup-${plan.backupId}`, 'backup');
  try {
    if (!resumed) {
      await repo.createBackupDir(plan.backupId);
      await repo.writePlan(plan);
    }
    const current = plan;
    const starts = await Promise.all(
      current.partitions.map((p) => startingPoint(repo, current, p, observer)),
    );
    observer.start?.({
      backupId: current.backupId,
      partitions: current.partitions.length,
      // What is left to read: a resumed backup counts only the offsets its earlier runs did not reach.
      totalUnits: current.partitions.reduce((sum, p, index) => {
        const start = starts[index] as PartitionProgress;
        return start.done ? sum : sum + Number(p.cutOffset - start.nextOffset);
      }, 0),
    });
    const results = await mapWithConcurrency(current.partitions, options.concurrency, (planned, index) => {
      const start = starts[index] as PartitionProgress;
      if (start.done) return Promise.resolve(start);
      return backupPartition(kafka, repo, current, planned, start, options, observer);
    });
    const manifest = buildManifest(current, results, observer);
    await repo.writeManifest(manifest);
    return { manifest, resumed };
  } finally {
    await lock.release();
  }
}

async function findPlanToResume(
  repo: Repository,
  clusterId: string,
  options: BackupOptions,
): Promise<BackupPlan | undefined> {
  if (options.resume !== undefined) {
    const id = options.resume;
    if (await repo.isComplete(id)) {
      throw new KbackupError('USAGE', `backup ${id} is already complete; there is nothing to resume`);
    }
    const plan = await repo.readPlan(id);
    if (!plan) {
      throw new KbackupError(
        'BACKUP_NOT_FOUND',
        `backup ${id} has no plan.json in ${repo.root}; it cannot be resumed`,
        {
          hint: 'It never started writing. Start a new backup instead.',
        },
      );
    }
    if (plan.clusterId !== clusterId) {
      throw new KbackupError(
        'USAGE',
        `backup ${id} was taken from cluster ${plan.clusterId}, but --bootstrap reaches cluster ${clusterId}`,
      );
    }
    return plan;
  }
  if (options.backupId !== undefined) return undefined;
  const key = commandKey(clusterId, { ...options, backupId: '' });
  const incomplete = (await repo.listBackups()).filter((b) => b.status === 'incomplete').reverse();
  for (const candidate of incomplete) {
    const plan = await repo.readPlan(candidate.id).catch(() => undefined);
    if (plan?.commandKey === key) return plan;
  }
  return undefined;
}

/** Where a partition continues: its saved progress, once the segments it lists are checked present. */
async function startingPoint(
  repo: Repository,
  plan: BackupPlan,
  planned: BackupPlan['partitions'][number],
  observer: RunObserver,
): Promise<PartitionProgress> {
  const { topic, partition } = planned;
  const saved = await repo.readProgress(plan.backupId, topic, partition);
  const fresh = (): PartitionProgress => ({
    ...emptyProgress(planned.startOffset),
    gaps: [...planned.initialGaps],
  });
  let progress = saved ?? fresh();
  for (const segment of progress.segments) {
    const size = await stat(repo.segmentPath(plan.backupId, topic, partition, segment.file)).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== segment.fileBytes) {
      observer.warn(
        `${topic}-${partition}: segment ${segment.file} is missing or changed; reading the partition again from the start`,
      );
      progress = fresh();
      break;
    }
  }
  await repo.removeUntracked(plan.backupId, topic, partition, new Set(progress.segments.map((s) => s.file)));
  return progress;
}

function buildManifest(plan: BackupPlan, results: PartitionProgress[], observer: RunObserver): Manifest {
  const partitions = plan.partitions.map((planned, i) => ({
    planned,
    progress: results[i] as PartitionProgress,
  }));
  const all = partitions.map((p) => p.progress);
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    backupId: plan.backupId,
    parent: plan.parent,
    tool: { name: 'kbackup', version: VERSION },
    source: { clusterId: plan.clusterId, bootstrap: plan.bootstrap },
    startedAt: plan.startedAt,
    completedAt: new Date().toISOString(),
    options: plan.options,
    topics: plan.topics.map((t) => ({
      ...t,
      partitions: partitions
        .filter((p) => p.planned.topic === t.name)
        .map(({ planned, progress }) => ({
          partition: planned.partition,
          logStartOffset: planned.logStartOffset,
          highWatermark: planned.highWatermark,
          lastStableOffset: planned.lastStableOffset,
          startOffset: planned.startOffset,
          cutOffset: planned.cutOffset,
          firstOffset: progress.firstOffset,
          lastOffset: progress.lastOffset,
          recordCount: progress.recordCount,
          payloadBytes: progress.payloadBytes,
          minTimestamp: progress.minTimestamp,
          maxTimestamp: progress.maxTimestamp,
          gaps: progress.gaps,
          segments: progress.segments,
        })),
    })),
    consumerGroups: plan.consumerGroups,
    warnings: [
      ...new Set([...plan.warnings, ...observer.warnings().filter((w) => !w.startsWith('resuming '))]),
    ],
    totals: {
      records: all.reduce((s, p) => s + p.recordCount, 0),
      payloadBytes: all.reduce((s, p) => s + p.payloadBytes, 0),
      storedBytes: all.reduce((s, p) => s + p.segments.reduce((a, g) => a + g.fileBytes, 0), 0),
      segments: all.reduce((s, p) => s + p.segments.length, 0),
    },
  };
}

/** The newest complete backup of `clusterId` that holds at least one of `topics`. */
async function latestBackupOf(
  repo: Repository,
  clusterId: string,
  topics: string[],
): Promise<Manifest | undefined> {
  const complete = (await repo.listBackups()).filter(
    (b) => b.status === 'complete' && b.manifest !== undefined,
  );
  const candidates = complete
    .map((b) => b.manifest as Manifest)
    .filter((m) => m.source.clusterId === clusterId && m.topics.some((t) => topics.includes(t.name)))
    .sort((a, b) => (a.completedAt < b.completedAt ? -1 : a.completedAt > b.completedAt ? 1 : 0));
  return candidates.at(-1);
}

/** Compares the estimated size of the backup with the repository's free space, before any data is read. */
async function checkFreeSpace(
  kafka: KafkaPort,
  repo: Repository,
  plan: BackupPlan,
  required: boolean,
  observer: RunObserver,
): Promise<void> {
  const sized: (BackupPlan['partitions'][number] & { size: bigint })[] = [];
  for (const topic of plan.topics) {
    const partitions = plan.partitions.filter((p) => p.topic === topic.name);
    const sizes = await kafka
      .partitionSizes(
        topic.name,
        partitions.map((p) => p.partition),
      )
      .catch(() => new Map<number, bigint>());
    for (const p of partitions) sized.push({ ...p, size: sizes.get(p.partition) ?? 0n });
  }
  const needed = estimateBackupBytes(sized);
  const free = await repo.freeBytes();
  if (needed <= free) return;
  const gib = (n: bigint): string => `${(Number(n) / 1024 ** 3).toFixed(2)} GiB`;
  const message = `the backup may need about ${gib(needed)} but ${repo.root} has ${gib(free)} free`;
  if (required) {
    throw new KbackupError('DISK', message, {
      hint: 'Free space, choose another --repo, or drop --require-free-space to try anyway.',
    });
  }
  observer.warn(`${message}; continuing (pass --require-free-space to refuse instead)`);
}
