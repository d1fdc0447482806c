import { KbackupError, tagTopic } from '../../core/errors.js';
import { mapWithConcurrency } from '../../core/concurrency.js';
import type { GroupOffsetTranslation } from '../../core/group-translation.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import {
  planRestore,
  type PartitionRestorePlan,
  type RestorePlan,
  type RestoreSelection,
} from '../../core/restore-plan.js';
import { restoreIdFor, type RestoreState } from '../../core/restore-state.js';
import type { Repository } from '../../storage/repository.js';
import type { RunObserver } from '../observer.js';
import {
  commitTranslatedGroups,
  refuseActiveGroups,
  selectGroups,
  type GroupSelection,
} from '../restore-groups.js';
import { restorePartition, type PartitionRestoreResult } from './partition.js';
import { prepareTargets } from './targets.js';
import { settledEnds } from '../settled-end.js';

export interface RestoreOptions extends RestoreSelection {
  backupId: string;
  concurrency: number;
  /** Replication factor for created topics; undefined keeps the backed-up one, -1 uses the broker default. */
  replicationFactor?: number;
  /** Do not copy the backed-up topic configs onto created topics. */
  skipConfigs: boolean;
  configOverrides: Record<string, string>;
  provenanceHeaders: boolean;
  /** Raw bytes per produce request and partition. */
  batchMaxBytes: number;
  dryRun: boolean;
  /** Allow writing into target partitions that already hold records. */
  allowNonEmpty: boolean;
  /** Consumer groups whose captured offsets are translated and committed after the data. */
  consumerGroups: GroupSelection;
  signal?: AbortSignal;
}

export interface RestoreResult {
  restoreId: string;
  plan: RestorePlan;
  dryRun: boolean;
  /** fresh: started now; resumed: continued an interrupted run; already-complete: nothing was left to do. */
  mode: 'fresh' | 'resumed' | 'already-complete';
  createdTopics: string[];
  partitions: PartitionRestoreResult[];
  groupOffsets: GroupOffsetTranslation[];
  totals: { records: number; payloadBytes: number };
}

/**
 * Restores a complete backup, resumably. The state file (restores/<id>.json) is written before the first
 * record; a re-run of the same restore reads each target partition's end offset and skips the records an
 * earlier run already wrote, because restore is the only writer into the partitions it fills (it creates
 * them, or refuses non-empty ones). Consumer-group offsets are committed last, as a separate step that a
 * re-run finishes on its own if it failed.
 */
export async function runRestore(
  kafka: KafkaPort,
  repo: Repository,
  options: RestoreOptions,
  observer: RunObserver,
): Promise<RestoreResult> {
  const manifest = await repo.readManifest(options.backupId);
  const ancestors = await repo.readAncestors(manifest);
  const plan = planRestore(manifest, options, ancestors);
  const targetClusterId = await kafka.clusterId();
  const restoreId = restoreIdFor(plan, targetClusterId, options.window, options.provenanceHeaders);
  const base = { restoreId, plan, dryRun: options.dryRun };
  if (options.dryRun) {
    return {
      ...base,
      mode: 'fresh',
      createdTopics: [],
      partitions: [],
      groupOffsets: [],
      totals: { records: 0, payloadBytes: 0 },
    };
  }
  const groups = selectGroups(manifest, options.consumerGroups);
  const targetGroups = [
    ...new Set(groups.map((g) => options.consumerGroups.renames.get(g.groupId) ?? g.groupId)),
  ];
  const lock = await repo.lock(`restore-${restoreId}`, 'restore');
  try {
    let state = await repo.readRestoreState(restoreId);
    if (state?.status === 'complete') {
      observer.warn(
        `restore ${restoreId} already completed at ${state.completedAt ?? '?'}; nothing was written`,
      );
      return { ...base, mode: 'already-complete', ...summarize(state, []) };
    }
    const mode = state ? 'resumed' : 'fresh';
    // Fail before writing any data if a group we would move is in use.
    await refuseActiveGroups(kafka, targetGroups);
    if (!state) {
      const createdTopics = await prepareTargets(kafka, plan, options, observer);
      state = await initialState(kafka, plan, restoreId, options.backupId, targetClusterId, createdTopics);
      await repo.writeRestoreState(state);
    } else {
      observer.warn(`resuming restore ${restoreId}: records already in the target are not written again`);
    }
    const written = await restoreData(kafka, repo, plan, state, options, observer, mode === 'resumed');
    if (state.status === 'writing') {
      state.status = 'data-complete';
      await repo.writeRestoreState(state);
    }
    const groupOffsets = await commitTranslatedGroups(
      kafka,
      groups,
      state.partitions.map((p) => ({ ...p, runs: p.runs })),
      options.consumerGroups.renames,
    );
    state.groupOffsets = groupOffsets;
    state.status = 'complete';
    state.completedAt = new Date().toISOString();
    await repo.writeRestoreState(state);
    return { ...base, mode, ...summarize(state, written) };
  } finally {
    await lock.release();
  }
}

function summarize(state: RestoreState, written: PartitionRestoreResult[]) {
  return {
    createdTopics: state.createdTopics,
    partitions: written,
    groupOffsets: state.groupOffsets,
    totals: {
      records: written.reduce((s, p) => s + p.records, 0),
      payloadBytes: written.reduce((s, p) => s + p.payloadBytes, 0),
    },
  };
}

async function initialState(
  kafka: KafkaPort,
  plan: RestorePlan,
  restoreId: string,
  backupId: string,
  targetClusterId: string,
  createdTopics: string[],
): Promise<RestoreState> {
  const partitions: RestoreState['partitions'] = [];
  for (const topic of plan.topics) {
    const ends = await kafka.partitionOffsets(
      topic.targetTopic,
      topic.partitions.map((p) => p.partition),
    );
    for (const p of topic.partitions) {
      partitions.push({
        sourceTopic: p.sourceTopic,
        targetTopic: p.targetTopic,
        partition: p.partition,
        targetStartOffset: ends.get(p.partition)?.highWatermark ?? 0n,
        done: false,
        records: 0,
        targetEndOffset: null,
        runs: [],
      });
    }
  }
  return {
    format: 'kbackup-restore',
    version: 1,
    restoreId,
    backupId,
    targetClusterId,
    startedAt: new Date().toISOString(),
    completedAt: null,
    status: 'writing',
    createdTopics,
    partitions,
    groupOffsets: [],
  };
}

async function restoreData(
  kafka: KafkaPort,
  repo: Repository,
  plan: RestorePlan,
  state: RestoreState,
  options: RestoreOptions,
  observer: RunObserver,
  resuming: boolean,
): Promise<PartitionRestoreResult[]> {
  const work = plan.topics.flatMap((t) => t.partitions);
  const pending = work.filter((p) => !stateOf(state, p).done);
  // Segment record counts: an upper bound when a time or offset window selects part of a segment.
  observer.start?.({ partitions: pending.length, totalUnits: pending.reduce((s, p) => s + p.records, 0) });
  let saving = Promise.resolve();
  const results = await mapWithConcurrency(pending, options.concurrency, async (p) => {
    const entry = stateOf(state, p);
    // A fresh restore has written nothing yet; a resumed one counts what reached the target.
    let alreadyWritten = 0n;
    if (resuming) {
      const end = (await settledEnds(kafka, p.targetTopic, [p.partition], 'restore')).get(p.partition);
      if (!end) throw new KbackupError('KAFKA', `no offsets for ${p.targetTopic}-${p.partition}`);
      alreadyWritten = end.highWatermark - entry.targetStartOffset;
      if (alreadyWritten < 0n) {
        throw new KbackupError(
          'KAFKA',
          `target ${p.targetTopic}-${p.partition} ends before where this restore started writing (was it recreated?)`,
        );
      }
    }
    const result = await restorePartition(
      kafka,
      repo,
      p,
      options,
      { targetStartOffset: entry.targetStartOffset, alreadyWritten },
      observer,
    ).catch((error: unknown) => {
      tagTopic(error, p.sourceTopic);
      throw error;
    });
    entry.done = true;
    entry.records = result.totalRecords;
    entry.targetEndOffset = result.targetEndOffset;
    entry.runs = result.runs;
    // Partitions finish concurrently: write the state file one update at a time.
    saving = saving.then(() => repo.writeRestoreState(state));
    await saving;
    return result;
  });
  return results;
}

function stateOf(state: RestoreState, p: PartitionRestorePlan): RestoreState['partitions'][number] {
  const entry = state.partitions.find((x) => x.targetTopic === p.targetTopic && x.partition === p.partition);
  if (!entry)
    throw new KbackupError('INTERNAL', `restore state has no entry for ${p.targetTopic}-${p.partition}`);
  return entry;
}
