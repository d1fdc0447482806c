import { KbackupError } from '../../core/errors.js';
import type { GroupOffsetTranslation } from '../../core/group-translation.js';
import { planTopicMapping, type TopicMapping } from '../../core/migrate/plan.js';
import {
  migrationIdFor,
  resumePoint,
  type MigrateMode,
  type MigrateState,
  type MigrateStatePartition,
} from '../../core/migrate/state.js';
import type { IsolationLevel, KafkaPort, TopicDescription } from '../../core/ports/kafka-port.js';
import type { RunObserver } from '../observer.js';
import type { GroupSelection } from '../restore-groups.js';
import { migrateGroups, precheckGroups } from './groups.js';
import { copyAll } from './copy.js';
import { LivePartition } from './partition.js';
import { dryRun, resultOf } from './report.js';
import { MigrateStateStore, readMigrateState, stateFilePath } from './state-store.js';
import { settledEnds } from '../settled-end.js';
import { prepareTargets, type TargetCreation } from './targets.js';

export interface MigrateOptions extends TargetCreation {
  topics: string[];
  exclude: string[];
  renames: Map<string, string>;
  consumerGroups: GroupSelection;
  mode: MigrateMode;
  /** --until-drained: how long the source end offsets must stay unchanged. */
  quietForMs: number;
  stateDir: string;
  isolation: IsolationLevel;
  /** Fetch-and-produce steps in flight at once, across partitions. */
  concurrency: number;
  /** Bytes per fetch and per produce request. */
  batchMaxBytes: number;
  dryRun: boolean;
  /** How often progress is saved while copying. */
  saveIntervalMs?: number;
  signal?: AbortSignal;
}

export interface MigrateObserver extends RunObserver {
  /** Called about once a second while copying, with the live state of every partition. */
  partitions?(live: readonly LivePartition[]): void;
}

export interface MigratePartitionResult {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  /** Written by this run. */
  records: number;
  payloadBytes: number;
  /** Written by this migration into the target partition, over all runs. */
  totalRecords: bigint;
  sourcePosition: bigint;
  sourceEnd: bigint;
  lag: bigint;
  targetEndOffset: bigint;
  lostToRetention: bigint;
}

export interface MigrateResult {
  migrationId: string;
  stateFile: string;
  mode: MigrateMode;
  dryRun: boolean;
  /** fresh: no earlier run; resumed: continued the state of an earlier run. */
  start: 'fresh' | 'resumed';
  /** complete: one-shot or drained; stopped: --follow ended by a signal; planned: dry run. */
  status: 'complete' | 'stopped' | 'planned';
  sourceClusterId: string;
  targetClusterId: string;
  sameCluster: boolean;
  createdTopics: string[];
  partitions: MigratePartitionResult[];
  groupOffsets: GroupOffsetTranslation[];
  totals: { records: number; payloadBytes: number; lag: bigint; lostToRetention: bigint };
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Copies topics from a source cluster into a target cluster (or into other topics of the same cluster),
 * streaming, with the fidelity of restore, resumably and without duplicates (docs/MIGRATE.md).
 */
export async function runMigrate(
  source: KafkaPort,
  target: KafkaPort,
  options: MigrateOptions,
  observer: MigrateObserver,
): Promise<MigrateResult> {
  const [sourceClusterId, targetClusterId] = await Promise.all([source.clusterId(), target.clusterId()]);
  const sameCluster = sourceClusterId === targetClusterId;
  const migrationId = migrationIdFor({ sourceClusterId, targetClusterId, ...options });
  const store = options.dryRun ? undefined : await MigrateStateStore.open(options.stateDir, migrationId);
  try {
    const previous = await readMigrateState(stateFilePath(options.stateDir, migrationId));
    if (previous && previous.isolation !== options.isolation) {
      throw new KbackupError(
        'USAGE',
        `migration ${migrationId} copies with --isolation ${previous.isolation}; this run asks for ${options.isolation}`,
        { hint: 'Keep the isolation of the first run, or migrate into new topics.' },
      );
    }
    const mapping = planTopicMapping({
      available: await source.listTopics({ includeInternal: true }),
      include: options.topics,
      exclude: options.exclude,
      renames: options.renames,
      sameCluster,
      knownTargets: previous?.partitions.map((p) => p.targetTopic) ?? [],
    });
    if (mapping.length === 0) {
      throw new KbackupError('TOPIC_NOT_FOUND', 'no source topic matches --topics', {
        hint: 'Check the patterns with `kbackup backup --dry-run` or list the topics of the source.',
      });
    }
    const described = await source.describeTopics(mapping.map((m) => m.sourceTopic));
    const base = {
      migrationId,
      stateFile: stateFilePath(options.stateDir, migrationId),
      mode: options.mode,
      dryRun: options.dryRun,
      start: previous ? ('resumed' as const) : ('fresh' as const),
      sourceClusterId,
      targetClusterId,
      sameCluster,
    };
    const state = previous ?? newState(migrationId, sourceClusterId, targetClusterId, options);
    const known = new Map(state.partitions.map((p) => [key(p.sourceTopic, p.partition), p]));
    const fresh = described
      .map((d) => ({
        d,
        m: mappingOf(mapping, d),
        partitions: d.partitions.filter((p) => !known.has(key(d.name, p))),
      }))
      .filter((t) => t.partitions.length > 0);
    if (!store) return await dryRun(source, target, base, state, described, mapping, options.isolation);

    await precheckGroups(
      source,
      target,
      mapping.map((m) => m.sourceTopic),
      options.consumerGroups,
    );
    state.lastRun = {
      mode: options.mode,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      status: 'running',
    };
    const createdTopics = await prepareTargets(
      target,
      fresh.map(({ d, m, partitions }) => ({
        ...m,
        partitionCount: d.partitions.length,
        replicationFactor: d.replicationFactor,
        configs: d.configs,
        partitions,
      })),
      options,
      observer,
    );
    state.createdTopics.push(...createdTopics);
    for (const { m, partitions } of fresh) {
      const starts = await source.partitionOffsets(m.sourceTopic, partitions);
      const ends = await target.partitionOffsets(m.targetTopic, partitions);
      for (const p of partitions) {
        const sourceStart = starts.get(p)?.logStartOffset ?? 0n;
        const entry: MigrateStatePartition = {
          ...m,
          partition: p,
          sourceStartOffset: sourceStart,
          targetStartOffset: ends.get(p)?.highWatermark ?? 0n,
          sourceNextOffset: sourceStart,
          runs: [],
        };
        state.partitions.push(entry);
        known.set(key(m.sourceTopic, p), entry);
      }
    }
    // Durable before the first record is written: where each target partition starts.
    await store.save(state);

    const live = await resumeAll(target, described, known);
    if (options.mode === 'one-shot') await setCuts(source, live, options.isolation);
    const outcome = await copyAll(source, target, store, state, live, options, observer);
    const finish = async (status: MigrateState['lastRun']['status']): Promise<void> => {
      state.lastRun.status = status;
      state.lastRun.finishedAt = new Date().toISOString();
      await store.save(state);
    };
    if (outcome === 'interrupted') {
      await finish('interrupted');
      throw new KbackupError('INTERRUPTED', 'migration interrupted; progress was saved', {
        hint: 'Run the same command again to continue: records already copied are not sent again.',
      });
    }
    let groupOffsets: GroupOffsetTranslation[];
    try {
      groupOffsets = await migrateGroups(source, target, live, options.consumerGroups, observer);
    } catch (error) {
      await finish('failed');
      throw error;
    }
    state.groupOffsets = groupOffsets;
    await finish(outcome);
    const partitions = live.map(resultOf);
    return {
      ...base,
      status: outcome,
      createdTopics,
      partitions,
      groupOffsets,
      totals: {
        records: partitions.reduce((s, p) => s + p.records, 0),
        payloadBytes: partitions.reduce((s, p) => s + p.payloadBytes, 0),
        lag: partitions.reduce((s, p) => s + p.lag, 0n),
        lostToRetention: partitions.reduce((s, p) => s + p.lostToRetention, 0n),
      },
    };
  } finally {
    await store?.release();
  }
}

function mappingOf(mapping: TopicMapping[], d: TopicDescription): TopicMapping {
  const m = mapping.find((x) => x.sourceTopic === d.name);
  if (!m) throw new KbackupError('INTERNAL', `no mapping for ${d.name}`);
  return m;
}

function newState(
  migrationId: string,
  sourceClusterId: string,
  targetClusterId: string,
  options: MigrateOptions,
): MigrateState {
  const now = new Date().toISOString();
  return {
    format: 'kbackup-migrate',
    version: 1,
    migrationId,
    sourceClusterId,
    targetClusterId,
    isolation: options.isolation,
    createdAt: now,
    updatedAt: now,
    lastRun: { mode: options.mode, startedAt: now, finishedAt: null, status: 'running' },
    createdTopics: [],
    partitions: [],
    groupOffsets: [],
  };
}

/** Resume points of the selected partitions, from the settled ends of their target partitions. */
async function resumeAll(
  target: KafkaPort,
  described: TopicDescription[],
  known: Map<string, MigrateStatePartition>,
): Promise<LivePartition[]> {
  const perTopic = await Promise.all(
    described.map(async (d) => {
      const entries = d.partitions.map((p) => known.get(key(d.name, p)) as MigrateStatePartition);
      const targetTopic = entries[0]?.targetTopic;
      if (targetTopic === undefined) return [];
      const ends = await settledEnds(
        target,
        targetTopic,
        entries.map((e) => e.partition),
        'migration',
      );
      return entries.map((entry) => {
        const end = ends.get(entry.partition)?.highWatermark;
        if (end === undefined)
          throw new KbackupError('KAFKA', `target ${targetTopic} has no partition ${entry.partition}`);
        return new LivePartition(entry, resumePoint(entry, end));
      });
    }),
  );
  return perTopic.flat();
}

/** One-shot: a consistent cut, the ends read now (last stable offsets under read_committed). */
async function setCuts(source: KafkaPort, live: LivePartition[], isolation: IsolationLevel): Promise<void> {
  for (const topic of new Set(live.map((l) => l.entry.sourceTopic))) {
    const mine = live.filter((l) => l.entry.sourceTopic === topic);
    const ends = await source.partitionOffsets(
      topic,
      mine.map((l) => l.entry.partition),
    );
    for (const l of mine) {
      const o = ends.get(l.entry.partition);
      l.cut = (isolation === 'read_committed' ? o?.lastStableOffset : o?.highWatermark) ?? l.position;
      l.sourceEnd = l.cut;
    }
  }
}
