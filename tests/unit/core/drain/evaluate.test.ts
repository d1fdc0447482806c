import { describe, expect, it } from 'vitest';
import {
  evaluateDrain,
  evaluateGroups,
  lagOf,
  partitionStatus,
  retainPolls,
  worstStatus,
} from '../../../../src/core/drain/evaluate.js';
import type { DrainPolicy, DrainPoll, PartitionSample } from '../../../../src/core/drain/types.js';
import { randomInt, seededRandom } from '../helpers.js';

const policy = (over: Partial<DrainPolicy> = {}): DrainPolicy => ({
  strategy: 'lag',
  maxLag: 0n,
  stableForMs: 3_000,
  quietForMs: 3_000,
  window: 3,
  failOnStuck: true,
  ...over,
});

const sample = (committed: bigint | null, end: bigint, partition = 0, logStart = 0n): PartitionSample => ({
  topic: 't',
  partition,
  committed,
  end,
  logStart,
});

/** One group "g" polled every second; each entry is [committed, end] of partition 0 (and more). */
function series(
  points: [bigint | null, bigint][][],
  members = 1,
  state = members > 0 ? 'Stable' : 'Empty',
): DrainPoll[] {
  return points.map((partitions, i) => ({
    at: i * 1000,
    groups: [
      {
        group: 'g',
        state,
        members,
        partitions: partitions.map(([c, e], p) => sample(c, e, p)),
      },
    ],
  }));
}

/** Status of partition 0 after the given [committed, end] samples. */
const statusOf = (points: [bigint | null, bigint][], members = 1, window = 3, maxLag = 0n) =>
  partitionStatus(
    points.map(([c, e]) => sample(c, e)),
    window,
    members,
    maxLag,
  );

describe('lagOf', () => {
  it('is end - committed, never negative', () => {
    expect(lagOf(sample(40n, 100n))).toBe(60n);
    expect(lagOf(sample(100n, 100n))).toBe(0n);
    expect(lagOf(sample(105n, 100n))).toBe(0n); // committed inside an open transaction, past the LSO
  });
  it('counts from the log start without a commit, or below the log start', () => {
    expect(lagOf(sample(null, 100n, 0, 30n))).toBe(70n);
    expect(lagOf(sample(10n, 100n, 0, 30n))).toBe(70n);
  });
});

describe('partitionStatus', () => {
  it('is OK whenever the current lag is within max lag, whatever happened before', () => {
    expect(
      statusOf([
        [50n, 100n],
        [40n, 100n],
        [100n, 100n],
      ]),
    ).toBe('OK');
    expect(
      statusOf(
        [
          [90n, 100n],
          [90n, 100n],
          [95n, 100n],
        ],
        0,
        3,
        5n,
      ),
    ).toBe('OK');
  });
  it('is OK while the window is not full, except for a rewind', () => {
    expect(
      statusOf(
        [
          [10n, 100n],
          [10n, 100n],
        ],
        0,
      ),
    ).toBe('OK');
    expect(statusOf([[10n, 100n]], 1)).toBe('OK');
    expect(
      statusOf([
        [50n, 100n],
        [20n, 100n],
      ]),
    ).toBe('REWIND');
  });
  it('STOP: offset unchanged with lag and no members; STALL: the same with members', () => {
    const stuck: [bigint, bigint][] = [
      [10n, 100n],
      [10n, 100n],
      [10n, 120n],
    ];
    expect(statusOf(stuck, 0)).toBe('STOP');
    expect(statusOf(stuck, 2)).toBe('STALL');
    // Never committed and nobody consuming: also STOP.
    expect(
      statusOf(
        [
          [null, 100n],
          [null, 100n],
          [null, 100n],
        ],
        0,
      ),
    ).toBe('STOP');
  });
  it('REWIND: the committed offset moved back, ranked before STOP and STALL', () => {
    expect(
      statusOf(
        [
          [50n, 100n],
          [10n, 100n],
          [10n, 100n],
        ],
        0,
      ),
    ).toBe('REWIND');
    expect(
      statusOf(
        [
          [50n, 100n],
          [60n, 100n],
          [55n, 100n],
        ],
        3,
      ),
    ).toBe('REWIND');
  });
  it('is OK when some sample in the window was caught up (Burrow rule, with max lag as threshold)', () => {
    expect(
      statusOf(
        [
          [100n, 100n],
          [100n, 150n],
          [100n, 200n],
        ],
        0,
      ),
    ).toBe('OK');
    expect(
      statusOf(
        [
          [95n, 100n],
          [95n, 150n],
          [95n, 200n],
        ],
        0,
        3,
        5n,
      ),
    ).toBe('OK');
  });
  it('WARNING: offsets move but the lag never decreases', () => {
    expect(
      statusOf([
        [10n, 100n],
        [20n, 110n],
        [30n, 130n],
      ]),
    ).toBe('WARNING');
    expect(
      statusOf([
        [10n, 100n],
        [20n, 110n],
        [30n, 120n],
      ]),
    ).toBe('WARNING'); // fixed lag
  });
  it('OK: offsets move and the lag went down at least once', () => {
    expect(
      statusOf([
        [10n, 100n],
        [50n, 110n],
        [60n, 130n],
      ]),
    ).toBe('OK');
  });
  it('judges only the samples it is given (the caller slides the window)', () => {
    // Caught up long ago, stopped since: once the caught-up sample left the window it is STOP.
    expect(
      statusOf(
        [
          [100n, 200n],
          [100n, 200n],
          [100n, 200n],
        ],
        0,
      ),
    ).toBe('STOP');
  });
});

describe('worstStatus', () => {
  it('orders OK < WARNING < STALL < STOP < REWIND', () => {
    expect(worstStatus([])).toBe('OK');
    expect(worstStatus(['OK', 'WARNING'])).toBe('WARNING');
    expect(worstStatus(['STOP', 'STALL', 'WARNING'])).toBe('STOP');
    expect(worstStatus(['REWIND', 'STOP'])).toBe('REWIND');
  });
});

describe('evaluateGroups', () => {
  it('slides the window over the last polls and takes the worst partition for the group', () => {
    const polls = series([
      [
        [0n, 100n],
        [0n, 100n],
      ],
      [
        [50n, 100n],
        [0n, 100n],
      ],
      [
        [60n, 120n],
        [0n, 100n],
      ],
      [
        [70n, 140n],
        [0n, 100n],
      ],
    ]);
    const [group] = evaluateGroups(polls, policy());
    expect(group?.partitions.map((p) => [p.partition, p.status, p.lag, p.windowFull])).toEqual([
      [0, 'WARNING', 70n, true], // window = last 3 polls: lag 50 → 60 → 70
      [1, 'STALL', 100n, true],
    ]);
    expect(group).toMatchObject({ status: 'STALL', lag: 170n, caughtUp: false, stuck: true });
  });
  it('a partition that appeared later has a window of its own', () => {
    const polls = series(
      [
        [[0n, 10n]],
        [[0n, 10n]],
        [
          [0n, 10n],
          [null, 10n],
        ],
      ],
      0,
    );
    const [group] = evaluateGroups(polls, policy());
    expect(group?.partitions.map((p) => [p.status, p.samples, p.windowFull])).toEqual([
      ['STOP', 3, true],
      ['OK', 1, false],
    ]);
  });
});

describe('evaluateDrain, lag strategy', () => {
  it('waits on no polls, and while the stable window is not over', () => {
    expect(evaluateDrain([], policy()).decision).toBe('waiting');
    const polls = series([[[100n, 100n]], [[100n, 100n]], [[100n, 100n]]]);
    const e = evaluateDrain(polls, policy());
    expect(e).toMatchObject({ decision: 'waiting', conditionSince: 0, conditionHeldMs: 2000 });
  });
  it('drains once every partition stayed within max lag for the stable duration', () => {
    const polls = series([[[90n, 100n]], [[100n, 100n]], [[100n, 100n]], [[100n, 105n]], [[105n, 105n]]]);
    const e = evaluateDrain(polls, policy({ maxLag: 5n }));
    expect(e).toMatchObject({ decision: 'drained', conditionSince: 1000, conditionHeldMs: 3000 });
  });
  it('restarts the stable window when the lag rises above max lag', () => {
    const polls = series([[[100n, 100n]], [[100n, 100n]], [[100n, 120n]], [[120n, 120n]], [[120n, 120n]]]);
    const e = evaluateDrain(polls, policy());
    expect(e).toMatchObject({ decision: 'waiting', conditionSince: 3000, conditionHeldMs: 1000 });
  });
  it('requires every partition of every group', () => {
    const polls: DrainPoll[] = [0, 1000, 2000, 3000].map((at) => ({
      at,
      groups: [
        { group: 'a', state: 'Stable', members: 1, partitions: [sample(10n, 10n)] },
        { group: 'b', state: 'Stable', members: 1, partitions: [sample(10n, 10n), sample(5n, 10n, 1)] },
      ],
    }));
    // b's partition 1 does not move: STALL (stuck) at max lag 0, drained at max lag 5.
    expect(evaluateDrain(polls, policy({ failOnStuck: false })).decision).toBe('waiting');
    expect(evaluateDrain(polls, policy()).decision).toBe('stuck');
    expect(evaluateDrain(polls, policy({ maxLag: 5n })).decision).toBe('drained');
  });
  it('a zero stable duration drains on the first caught-up poll', () => {
    const polls = series([[[100n, 100n]]]);
    expect(evaluateDrain(polls, policy({ stableForMs: 0 })).decision).toBe('drained');
  });
  it('is stuck only once a STALL/STOP/REWIND partition has a full window, and only with failOnStuck', () => {
    const stopped = series([[[10n, 100n]], [[10n, 100n]], [[10n, 100n]]], 0);
    expect(evaluateDrain(stopped.slice(0, 2), policy()).decision).toBe('waiting');
    expect(evaluateDrain(stopped, policy()).decision).toBe('stuck');
    expect(evaluateDrain(stopped, policy({ failOnStuck: false })).decision).toBe('waiting');
    // A rewind shows at once but decides only with a full window.
    const rewound = series([[[50n, 100n]], [[10n, 100n]]], 0);
    const early = evaluateDrain(rewound, policy());
    expect(early.decision).toBe('waiting');
    expect(early.groups[0]?.status).toBe('REWIND');
    const later = series([[[50n, 100n]], [[10n, 100n]], [[12n, 100n]]], 1);
    expect(evaluateDrain(later, policy()).groups[0]).toMatchObject({ status: 'REWIND', stuck: true });
  });
  it('a WARNING group is not stuck', () => {
    const polls = series([[[10n, 100n]], [[20n, 110n]], [[30n, 120n]]]);
    const e = evaluateDrain(polls, policy());
    expect(e.groups[0]?.status).toBe('WARNING');
    expect(e.decision).toBe('waiting');
  });
});

describe('evaluateDrain, time strategy', () => {
  const time = (over: Partial<DrainPolicy> = {}) => policy({ strategy: 'time', ...over });
  it('drains when caught up and the ends have not moved for the quiet duration', () => {
    const polls = series([[[10n, 100n]], [[90n, 120n]], [[120n, 120n]], [[120n, 120n]], [[120n, 120n]]]);
    expect(evaluateDrain(polls.slice(0, 4), time())).toMatchObject({
      decision: 'waiting',
      conditionSince: 1000,
      conditionHeldMs: 2000,
    });
    expect(evaluateDrain(polls, time())).toMatchObject({ decision: 'drained', conditionHeldMs: 3000 });
  });
  it('waits while records keep arriving, even when the group keeps up', () => {
    const polls = series([[[100n, 100n]], [[110n, 110n]], [[120n, 120n]], [[130n, 130n]], [[140n, 140n]]]);
    const e = evaluateDrain(polls, time());
    expect(e).toMatchObject({ decision: 'waiting', conditionSince: 4000, conditionHeldMs: 0 });
  });
  it('waits while the group has lag, however quiet the topic', () => {
    const polls = series([[[90n, 120n]], [[100n, 120n]], [[110n, 120n]], [[119n, 120n]], [[119n, 120n]]]);
    expect(evaluateDrain(polls, time())).toMatchObject({ decision: 'waiting', conditionSince: null });
    expect(evaluateDrain(polls, time({ maxLag: 1n })).decision).toBe('drained');
  });
  it('counts a new partition as the ends moving', () => {
    const polls = series([
      [[5n, 5n]],
      [[5n, 5n]],
      [[5n, 5n]],
      [
        [5n, 5n],
        [0n, 0n],
      ],
    ]);
    expect(evaluateDrain(polls, time())).toMatchObject({ decision: 'waiting', conditionSince: 3000 });
  });
});

describe('retainPolls', () => {
  it('keeps the window and the stable horizon, and reaches the same decision as the full series', () => {
    const rand = seededRandom(7);
    for (let run = 0; run < 200; run++) {
      const p = policy({
        window: 2 + randomInt(rand, 4),
        stableForMs: randomInt(rand, 6) * 1000,
        quietForMs: randomInt(rand, 6) * 1000,
        strategy: rand() < 0.5 ? 'lag' : 'time',
        maxLag: BigInt(randomInt(rand, 3)),
      });
      const points: [bigint | null, bigint][][] = [];
      let committed = 0n;
      let end = 5n;
      for (let i = 0; i < 20; i++) {
        end += BigInt(randomInt(rand, 3) === 0 ? randomInt(rand, 4) : 0);
        const move = randomInt(rand, 5);
        committed = move === 0 ? committed - 1n : move === 1 ? end : committed + BigInt(randomInt(rand, 3));
        if (committed < 0n) committed = 0n;
        points.push([[committed, end]]);
      }
      const members = randomInt(rand, 2);
      const all = series(points, members);
      let kept: DrainPoll[] = [];
      for (let i = 0; i < all.length; i++) {
        kept = retainPolls([...kept, all[i] as DrainPoll], p);
        const full = evaluateDrain(all.slice(0, i + 1), p);
        const trimmed = evaluateDrain(kept, p);
        expect(trimmed.decision).toBe(full.decision);
        expect(trimmed.groups).toEqual(full.groups);
      }
      expect(kept.length).toBeLessThanOrEqual(Math.max(p.window, 8));
    }
  });
});
