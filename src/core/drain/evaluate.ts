import {
  PARTITION_STATUSES,
  STUCK_STATUSES,
  type DrainEvaluation,
  type DrainPolicy,
  type DrainPoll,
  type GroupEvaluation,
  type PartitionEvaluation,
  type PartitionSample,
  type PartitionStatus,
} from './types.js';

/**
 * The drain evaluator: pure functions of a series of polls, no clock and no I/O. See docs/DRAIN.md for the
 * rules; in short, a partition's status is judged over its last `window` samples, Burrow-style, and the
 * drain is over when the strategy's condition has held long enough (drained) or some partition with a
 * full window is STALL, STOP or REWIND (stuck).
 */

/**
 * Records the group still has to read. A partition without a commit, or committed below the log start
 * (retention removed what it had not read), has everything from the log start to the end ahead of it. A
 * commit past the end (a read_uncommitted consumer inside an open transaction) counts as no lag.
 */
export function lagOf(sample: PartitionSample): bigint {
  const from =
    sample.committed === null || sample.committed < sample.logStart ? sample.logStart : sample.committed;
  return sample.end > from ? sample.end - from : 0n;
}

export function statusRank(status: PartitionStatus): number {
  return PARTITION_STATUSES.indexOf(status);
}

export function worstStatus(statuses: Iterable<PartitionStatus>): PartitionStatus {
  let worst: PartitionStatus = 'OK';
  for (const s of statuses) if (statusRank(s) > statusRank(worst)) worst = s;
  return worst;
}

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Status of one partition from its samples in the window (oldest first), in this order:
 * 1. current lag <= maxLag: OK (caught up; nothing in the past matters);
 * 2. the committed offset moved backwards between two samples in the window: REWIND;
 * 3. the window is not full yet: OK (not enough history to judge);
 * 4. some sample in the window was caught up: OK;
 * 5. the committed offset never changed: STOP when the group has no members, else STALL;
 * 6. the lag never decreased from one sample to the next: WARNING (consuming slower than producing);
 * 7. otherwise OK.
 */
export function partitionStatus(
  samples: readonly PartitionSample[],
  window: number,
  members: number,
  maxLag: bigint,
): PartitionStatus {
  const lags = samples.map(lagOf);
  const current = lags.at(-1);
  if (current === undefined || current <= maxLag) return 'OK';
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1]?.committed ?? null;
    const after = samples[i]?.committed ?? null;
    if (before !== null && after !== null && after < before) return 'REWIND';
  }
  if (samples.length < window) return 'OK';
  if (lags.some((lag) => lag <= maxLag)) return 'OK';
  const first = samples[0]?.committed ?? null;
  if (samples.every((s) => s.committed === first)) return members === 0 ? 'STOP' : 'STALL';
  let neverDecreased = true;
  for (let i = 1; i < lags.length; i++) if ((lags[i] ?? 0n) < (lags[i - 1] ?? 0n)) neverDecreased = false;
  return neverDecreased ? 'WARNING' : 'OK';
}

/** Statuses of every group of the latest poll, judged over the last `window` polls. */
export function evaluateGroups(polls: readonly DrainPoll[], policy: DrainPolicy): GroupEvaluation[] {
  const latest = polls.at(-1);
  if (!latest) return [];
  const recent = polls.slice(-policy.window);
  return latest.groups.map((group) => {
    // Samples per partition across the window, oldest first; a poll that lacks the partition adds none.
    const history = new Map<string, PartitionSample[]>();
    for (const poll of recent) {
      const sameGroup = poll.groups.find((g) => g.group === group.group);
      for (const sample of sameGroup?.partitions ?? []) {
        const key = keyOf(sample.topic, sample.partition);
        const list = history.get(key) ?? [];
        list.push(sample);
        history.set(key, list);
      }
    }
    const partitions: PartitionEvaluation[] = [...group.partitions]
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
      .map((sample) => {
        const samples = history.get(keyOf(sample.topic, sample.partition)) ?? [sample];
        return {
          topic: sample.topic,
          partition: sample.partition,
          committed: sample.committed,
          end: sample.end,
          lag: lagOf(sample),
          status: partitionStatus(samples, policy.window, group.members, policy.maxLag),
          samples: samples.length,
          windowFull: samples.length >= policy.window,
        };
      });
    return {
      group: group.group,
      state: group.state,
      members: group.members,
      status: worstStatus(partitions.map((p) => p.status)),
      lag: partitions.reduce((sum, p) => sum + p.lag, 0n),
      caughtUp: partitions.every((p) => p.lag <= policy.maxLag),
      stuck: partitions.some((p) => p.windowFull && STUCK_STATUSES.has(p.status)),
      partitions,
    };
  });
}

function allCaughtUp(poll: DrainPoll, maxLag: bigint): boolean {
  return poll.groups.every((g) => g.partitions.every((p) => lagOf(p) <= maxLag));
}

function endsOf(poll: DrainPoll): Map<string, bigint> {
  const ends = new Map<string, bigint>();
  for (const g of poll.groups) for (const p of g.partitions) ends.set(keyOf(p.topic, p.partition), p.end);
  return ends;
}

/** Whether `poll` saw exactly the end offsets of `reference` (a partition it lacks counts as moved). */
function sameEnds(poll: DrainPoll, reference: Map<string, bigint>): boolean {
  const ends = endsOf(poll);
  for (const [key, end] of reference) if (ends.get(key) !== end) return false;
  return true;
}

/** Time of the oldest poll of the longest run of polls, ending with the latest, that all satisfy `holds`. */
function heldSince(polls: readonly DrainPoll[], holds: (poll: DrainPoll) => boolean): number | null {
  let since: number | null = null;
  for (let i = polls.length - 1; i >= 0; i--) {
    const poll = polls[i] as DrainPoll;
    if (!holds(poll)) break;
    since = poll.at;
  }
  return since;
}

/**
 * The drain condition and decision at the latest poll.
 * - lag strategy: drained when every partition of every group has been at lag <= maxLag in every poll
 *   of the last stableForMs (measured between poll times).
 * - time strategy: drained when every partition is at lag <= maxLag now and no end offset has moved for
 *   quietForMs.
 * Drained wins over stuck (a caught-up partition is always OK anyway); stuck needs policy.failOnStuck.
 */
export function evaluateDrain(polls: readonly DrainPoll[], policy: DrainPolicy): DrainEvaluation {
  const groups = evaluateGroups(polls, policy);
  const latest = polls.at(-1);
  const conditionNeededMs = policy.strategy === 'lag' ? policy.stableForMs : policy.quietForMs;
  if (!latest) {
    return { decision: 'waiting', groups, conditionSince: null, conditionHeldMs: 0, conditionNeededMs };
  }
  let conditionSince: number | null;
  if (policy.strategy === 'lag') {
    conditionSince = heldSince(polls, (poll) => allCaughtUp(poll, policy.maxLag));
  } else {
    const reference = endsOf(latest);
    conditionSince = allCaughtUp(latest, policy.maxLag)
      ? heldSince(polls, (poll) => sameEnds(poll, reference))
      : null;
  }
  const conditionHeldMs = conditionSince === null ? 0 : latest.at - conditionSince;
  const drained = conditionSince !== null && conditionHeldMs >= conditionNeededMs;
  const stuck = !drained && policy.failOnStuck && groups.some((g) => g.stuck);
  return {
    decision: drained ? 'drained' : stuck ? 'stuck' : 'waiting',
    groups,
    conditionSince,
    conditionHeldMs,
    conditionNeededMs,
  };
}

/**
 * The polls the evaluator still needs, so that a long drain keeps bounded memory: the last `window` polls,
 * every poll within the stable/quiet duration of the latest, and the one just before that (which decides
 * whether the condition has held for the whole duration). evaluateDrain reaches the same decision and
 * statuses on the trimmed series as on the full one.
 */
export function retainPolls(polls: readonly DrainPoll[], policy: DrainPolicy): DrainPoll[] {
  const latest = polls.at(-1);
  if (!latest) return [];
  const horizon = latest.at - Math.max(policy.stableForMs, policy.quietForMs);
  let firstInside = polls.findIndex((p) => p.at >= horizon);
  if (firstInside < 0) firstInside = polls.length - 1;
  const start = Math.min(Math.max(0, firstInside - 1), Math.max(0, polls.length - policy.window));
  return polls.slice(start);
}
