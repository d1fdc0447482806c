/**
 * Inputs and outputs of the drain evaluator. A poll is what the engine read from the cluster at one moment:
 * per group its state and member count, per partition the committed offset and the log bounds. The
 * evaluator turns a series of polls into per-partition statuses and a drained/stuck/waiting decision.
 */

/**
 * Burrow-style partition status, ordered from best to worst: the worst partition decides the group's
 * status. REWIND ranks worst (someone moved offsets back: records will be processed again), then STOP (no
 * member is left to make progress), then STALL (members exist but the offset does not move).
 */
export const PARTITION_STATUSES = ['OK', 'WARNING', 'STALL', 'STOP', 'REWIND'] as const;
export type PartitionStatus = (typeof PARTITION_STATUSES)[number];

/** Statuses that end a drain with exit 11 once a partition's window is full (unless --no-fail-on-stuck). */
export const STUCK_STATUSES: ReadonlySet<PartitionStatus> = new Set(['STALL', 'STOP', 'REWIND']);

export type DrainStrategy = 'lag' | 'time';

export interface DrainPolicy {
  strategy: DrainStrategy;
  /** A partition with lag <= maxLag counts as caught up (0 with --strategy time unless --max-lag is given). */
  maxLag: bigint;
  /** lag strategy: every partition must have stayed caught up this long (ms). */
  stableForMs: number;
  /** time strategy: the end offsets must not have moved for this long (ms). */
  quietForMs: number;
  /** Polls per partition in the sliding window of the status evaluation (>= 2). */
  window: number;
  /** Whether a STALL/STOP/REWIND partition with a full window ends the drain as stuck. */
  failOnStuck: boolean;
}

export interface PartitionSample {
  topic: string;
  partition: number;
  /** Committed offset of the group, or null when the group has never committed on this partition. */
  committed: bigint | null;
  /** The reachable end: the last stable offset (equal to the high watermark without open transactions). */
  end: bigint;
  logStart: bigint;
}

export interface GroupSample {
  group: string;
  /** Coordinator state: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead, ... */
  state: string;
  members: number;
  partitions: PartitionSample[];
}

export interface DrainPoll {
  /** Epoch milliseconds when the poll started. */
  at: number;
  groups: GroupSample[];
}

export interface PartitionEvaluation {
  topic: string;
  partition: number;
  committed: bigint | null;
  end: bigint;
  lag: bigint;
  status: PartitionStatus;
  /** Samples of this partition in the window so far (the status is final only when it equals the window). */
  samples: number;
  windowFull: boolean;
}

export interface GroupEvaluation {
  group: string;
  state: string;
  members: number;
  status: PartitionStatus;
  /** Sum of the partitions' lag. */
  lag: bigint;
  /** Every partition is at lag <= maxLag in the latest poll. */
  caughtUp: boolean;
  /** A partition with a full window is STALL, STOP or REWIND. */
  stuck: boolean;
  partitions: PartitionEvaluation[];
}

export type DrainDecision = 'drained' | 'stuck' | 'waiting';

export interface DrainEvaluation {
  decision: DrainDecision;
  groups: GroupEvaluation[];
  /**
   * lag strategy: when every partition was last seen caught up without interruption since (epoch ms).
   * time strategy: since when the end offsets have not moved. Null when the condition does not hold now.
   */
  conditionSince: number | null;
  /** How long the condition has held at the latest poll (ms), 0 when it does not hold. */
  conditionHeldMs: number;
  /** How long it must hold (stableForMs or quietForMs). */
  conditionNeededMs: number;
}
