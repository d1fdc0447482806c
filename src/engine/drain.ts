import { setTimeout as sleep } from 'node:timers/promises';
import { mapWithConcurrency } from '../core/concurrency.js';
import { evaluateDrain, retainPolls } from '../core/drain/evaluate.js';
import type { DrainOutcome } from '../core/drain/report.js';
import type {
  DrainEvaluation,
  DrainPolicy,
  DrainPoll,
  GroupSample,
  PartitionSample,
} from '../core/drain/types.js';
import { KbackupError } from '../core/errors.js';
import type { KafkaPort, PartitionOffsets } from '../core/ports/kafka-port.js';
import { describeGroupStates } from './offsets/cluster.js';

/**
 * Polls the committed offsets of consumer groups against the partitions' ends until the evaluator says
 * drained or stuck, or the timeout passes. Sleeping between polls is the product's behaviour (the poll
 * interval); SIGINT (the context's signal) ends it at once with INTERRUPTED.
 */

export interface DrainRunOptions {
  groups: readonly string[];
  /** --topics: every partition of these topics. Without it: the topics each group has committed on. */
  topics?: readonly string[];
  policy: DrainPolicy;
  /** Pause between the end of one poll and the start of the next (ms). */
  intervalMs: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** Topics whose offsets are read at the same time. */
  concurrency?: number;
  onPoll?: (evaluation: DrainEvaluation, poll: number, elapsedMs: number) => void;
  now?: () => number;
}

function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw interrupted();
}

function interrupted(): KbackupError {
  return new KbackupError('INTERRUPTED', 'drain interrupted before the groups were confirmed drained', {
    hint: 'Nothing was changed; run kbackup drain again to keep waiting.',
  });
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** What one poll needs to remember across polls: the topics each group has been seen committing on. */
interface PollState {
  seenTopics: Map<string, Set<string>>;
  first: boolean;
}

async function readPoll(
  port: KafkaPort,
  options: DrainRunOptions,
  state: PollState,
  at: number,
): Promise<DrainPoll> {
  const { groups } = options;
  const concurrency = options.concurrency ?? 4;
  const [states, committed, existing] = await Promise.all([
    describeGroupStates(port, groups),
    mapWithConcurrency(groups, concurrency, (group) =>
      port.fetchGroupOffsets(group, options.topics ? [...options.topics] : undefined),
    ),
    port.listTopics({ includeInternal: true }).then((names) => new Set(names)),
  ]);
  if (options.topics) {
    const missing = options.topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new KbackupError('TOPIC_NOT_FOUND', `topic(s) not found on the cluster: ${missing.join(', ')}`, {
        hint: 'Check the names passed to --topics (exact names, comma-separated).',
      });
    }
  }
  if (state.first) {
    const empty = groups.filter((_, i) => (committed[i] ?? []).length === 0);
    if (empty.length > 0) {
      const where = options.topics ? ` on ${options.topics.join(', ')}` : '';
      throw new KbackupError(
        'USAGE',
        `group(s) ${empty.join(', ')} have no committed offsets${where}: nothing to wait for`,
        {
          hint:
            'Check the --group names (a misspelt group would otherwise look drained or never drain). A ' +
            'group must have committed at least once before drain can judge it.',
          details: { groups: empty },
        },
      );
    }
    state.first = false;
  }
  // Each group's topics: --topics, or every topic it has committed on during this run (that still exists).
  const scopes = groups.map((group, i) => {
    if (options.topics) return [...options.topics];
    const seen = state.seenTopics.get(group) ?? new Set<string>();
    for (const o of committed[i] ?? []) seen.add(o.topic);
    state.seenTopics.set(group, seen);
    return [...seen].filter((t) => existing.has(t)).sort();
  });
  const topics = [...new Set(scopes.flat())];
  const layout = new Map(
    (topics.length > 0 ? await port.describeTopics(topics) : []).map((t) => [t.name, t.partitions]),
  );
  const bounds = new Map<string, PartitionOffsets>();
  await mapWithConcurrency(topics, concurrency, async (topic) => {
    const offsets = await port.partitionOffsets(topic, layout.get(topic) ?? []);
    for (const [partition, o] of offsets) bounds.set(key(topic, partition), o);
  });
  const samples: GroupSample[] = groups.map((group, i) => {
    const commits = new Map((committed[i] ?? []).map((o) => [key(o.topic, o.partition), o.offset]));
    const partitions: PartitionSample[] = [];
    for (const topic of scopes[i] ?? []) {
      for (const partition of layout.get(topic) ?? []) {
        const b = bounds.get(key(topic, partition));
        if (!b) continue;
        partitions.push({
          topic,
          partition,
          committed: commits.get(key(topic, partition)) ?? null,
          // The reachable end for read_committed consumers: open or aborted transaction tails are no lag.
          end: b.lastStableOffset,
          logStart: b.logStartOffset,
        });
      }
    }
    const s = states.get(group);
    return { group, state: s?.state ?? 'Unknown', members: s?.memberCount ?? 0, partitions };
  });
  return { at, groups: samples };
}

export async function runDrain(port: KafkaPort, options: DrainRunOptions): Promise<DrainOutcome> {
  const now = options.now ?? Date.now;
  const { policy, signal } = options;
  const started = now();
  const deadline = started + options.timeoutMs;
  const state: PollState = { seenTopics: new Map(), first: true };
  let polls: DrainPoll[] = [];
  for (let count = 1; ; count++) {
    throwIfInterrupted(signal);
    const poll = await readPoll(port, options, state, now());
    throwIfInterrupted(signal);
    polls.push(poll);
    polls = retainPolls(polls, policy);
    const evaluation = evaluateDrain(polls, policy);
    const elapsed = now() - started;
    options.onPoll?.(evaluation, count, elapsed);
    if (evaluation.decision !== 'waiting') {
      return { status: evaluation.decision, evaluation, polls: count, durationMs: elapsed };
    }
    if (now() >= deadline) return { status: 'timeout', evaluation, polls: count, durationMs: elapsed };
    try {
      await sleep(Math.max(0, Math.min(options.intervalMs, deadline - now())), undefined, { signal });
    } catch (error) {
      throwIfInterrupted(signal);
      throw error;
    }
  }
}
