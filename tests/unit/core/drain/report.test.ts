import { describe, expect, it } from 'vitest';
import { evaluateDrain } from '../../../../src/core/drain/evaluate.js';
import {
  drainDocument,
  pollLine,
  summaryText,
  viewText,
  type DrainOutcome,
} from '../../../../src/core/drain/report.js';
import type { DrainPolicy, DrainPoll } from '../../../../src/core/drain/types.js';
import { stringifyWithBigInt } from '../../../../src/core/manifest/json.js';
import { table } from '../../../../src/cli/render.js';

const policy: DrainPolicy = {
  strategy: 'lag',
  maxLag: 0n,
  stableForMs: 1000,
  quietForMs: 60_000,
  window: 2,
  failOnStuck: true,
};

const polls: DrainPoll[] = [0, 1000].map((at) => ({
  at,
  groups: [
    {
      group: 'orders',
      state: 'Empty',
      members: 0,
      partitions: [
        { topic: 'o', partition: 0, committed: 10n, end: 10n, logStart: 0n },
        { topic: 'o', partition: 1, committed: null, end: 7n, logStart: 2n },
      ],
    },
  ],
}));

const outcome: DrainOutcome = {
  status: 'stuck',
  evaluation: evaluateDrain(polls, policy),
  polls: 2,
  durationMs: 1000,
};

describe('drain report', () => {
  it('the --json document has per-partition offsets, lag and status as documented', () => {
    const doc = JSON.parse(stringifyWithBigInt(drainDocument(outcome, policy, 11))) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({
      command: 'drain',
      status: 'stuck',
      strategy: 'lag',
      maxLag: '0',
      stableForMs: 1000,
      polls: 2,
      durationMs: 1000,
      exitCode: 11,
      groups: [
        {
          group: 'orders',
          status: 'STOP',
          members: 0,
          lag: '5',
          partitions: [
            { topic: 'o', partition: 0, committed: '10', end: '10', lag: '0', status: 'OK' },
            { topic: 'o', partition: 1, committed: null, end: '7', lag: '5', status: 'STOP' },
          ],
        },
      ],
    });
  });

  it('poll lines are single-line JSON', () => {
    const line = stringifyWithBigInt(pollLine(outcome.evaluation, 2, 1000), 0);
    expect(line.trimEnd()).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ type: 'poll', poll: 2, decision: 'stuck' });
  });

  it('human texts show the worst partitions first and cap long lists', () => {
    const view = viewText(outcome.evaluation, policy, 2, 1000, table, 1);
    expect(view).toContain('poll 2, 1.0 s: 1 partition(s) over max lag 0');
    expect(view).toContain('group orders (Empty, 0 members): STOP, lag 5');
    expect(view).toMatch(/o\s+1\s+-\s+7\s+5\s+STOP/);
    expect(view).toContain('... and 1 more partition(s), lag 0, at most OK');
    const summary = summaryText(outcome, policy, table);
    expect(summary.split('\n')[0]).toBe('STUCK after 2 poll(s), 1.0 s: 1 partition(s) over max lag 0');
    expect(summary).toContain('stuck: orders (STOP)');
  });
});
