import { statusRank } from './evaluate.js';
import type { DrainEvaluation, DrainPolicy, GroupEvaluation, PartitionEvaluation } from './types.js';

/** Machine and human renderings of a drain: the --json document, --json-lines poll lines, text views. */

export type DrainResultStatus = 'drained' | 'timeout' | 'stuck';

export interface DrainOutcome {
  status: DrainResultStatus;
  evaluation: DrainEvaluation;
  polls: number;
  durationMs: number;
}

export type TableRenderer = (headers: string[], rows: string[][]) => string;

function partitionJson(p: PartitionEvaluation) {
  return {
    topic: p.topic,
    partition: p.partition,
    committed: p.committed,
    end: p.end,
    lag: p.lag,
    status: p.status,
    windowFull: p.windowFull,
  };
}

function groupJson(g: GroupEvaluation) {
  return {
    group: g.group,
    status: g.status,
    state: g.state,
    members: g.members,
    lag: g.lag,
    caughtUp: g.caughtUp,
    partitions: g.partitions.map(partitionJson),
  };
}

function policyJson(policy: DrainPolicy) {
  return {
    strategy: policy.strategy,
    maxLag: policy.maxLag,
    ...(policy.strategy === 'lag' ? { stableForMs: policy.stableForMs } : { quietForMs: policy.quietForMs }),
    window: policy.window,
    failOnStuck: policy.failOnStuck,
  };
}

/** The final --json document (offsets and lags are decimal strings, like every kbackup offset). */
export function drainDocument(outcome: DrainOutcome, policy: DrainPolicy, exitCode: number) {
  return {
    command: 'drain',
    status: outcome.status,
    ...policyJson(policy),
    groups: outcome.evaluation.groups.map(groupJson),
    polls: outcome.polls,
    durationMs: outcome.durationMs,
    exitCode,
  };
}

/** One --json-lines line per poll. */
export function pollLine(evaluation: DrainEvaluation, poll: number, elapsedMs: number) {
  return {
    type: 'poll',
    poll,
    elapsedMs,
    decision: evaluation.decision,
    conditionHeldMs: evaluation.conditionHeldMs,
    groups: evaluation.groups.map(groupJson),
  };
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** What the drain is waiting for, in words: "caught up for 3.0 s of 30.0 s" / "2 partitions over max lag". */
export function conditionText(evaluation: DrainEvaluation, policy: DrainPolicy): string {
  const over = evaluation.groups.reduce(
    (n, g) => n + g.partitions.filter((p) => p.lag > policy.maxLag).length,
    0,
  );
  const needed = formatMs(evaluation.conditionNeededMs);
  if (policy.strategy === 'lag') {
    return evaluation.conditionSince === null
      ? `${over} partition(s) over max lag ${policy.maxLag}`
      : `all at lag <= ${policy.maxLag} for ${formatMs(evaluation.conditionHeldMs)} of ${needed}`;
  }
  if (over > 0) return `${over} partition(s) over max lag ${policy.maxLag}`;
  return `caught up; no new records for ${formatMs(evaluation.conditionHeldMs)} of ${needed}`;
}

function groupLine(g: GroupEvaluation): string {
  const members = `${g.members} member${g.members === 1 ? '' : 's'}`;
  return `group ${g.group} (${g.state}, ${members}): ${g.status}, lag ${g.lag.toLocaleString('en-US')}`;
}

/** Worst partitions first (status, then lag), at most `limit` rows; the rest summed up in one line. */
function partitionTable(g: GroupEvaluation, window: number, limit: number, table: TableRenderer): string[] {
  const sorted = [...g.partitions].sort(
    (a, b) => statusRank(b.status) - statusRank(a.status) || (b.lag > a.lag ? 1 : b.lag < a.lag ? -1 : 0),
  );
  const shown = sorted.slice(0, limit);
  const rows = shown.map((p) => [
    p.topic,
    String(p.partition),
    p.committed === null ? '-' : p.committed.toString(),
    p.end.toString(),
    p.lag.toString(),
    p.windowFull || p.status !== 'OK' ? p.status : `OK (${p.samples}/${window} polls)`,
  ]);
  const out = [table(['topic', 'partition', 'committed', 'end', 'lag', 'status'], rows)];
  const rest = sorted.slice(limit);
  if (rest.length > 0) {
    const lag = rest.reduce((sum, p) => sum + p.lag, 0n);
    out.push(`... and ${rest.length} more partition(s), lag ${lag}, at most ${rest[0]?.status ?? 'OK'}`);
  }
  return out;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** The refreshed view on a terminal (stderr), redrawn after each poll. */
export function viewText(
  evaluation: DrainEvaluation,
  policy: DrainPolicy,
  poll: number,
  elapsedMs: number,
  table: TableRenderer,
  limit = 15,
): string {
  const lines = [`kbackup drain: poll ${poll}, ${formatMs(elapsedMs)}: ${conditionText(evaluation, policy)}`];
  for (const g of evaluation.groups) {
    lines.push(groupLine(g), ...partitionTable(g, policy.window, limit, table).map(indent));
  }
  return lines.join('\n');
}

const HEADLINE: Record<DrainOutcome['status'], string> = {
  drained: 'DRAINED',
  timeout: 'TIMEOUT: not drained in time',
  stuck: 'STUCK',
};

/** The final human summary (stdout). */
export function summaryText(
  outcome: DrainOutcome,
  policy: DrainPolicy,
  table: TableRenderer,
  limit = 50,
): string {
  const { evaluation } = outcome;
  const lines = [
    `${HEADLINE[outcome.status]} after ${outcome.polls} poll(s), ${formatMs(outcome.durationMs)}: ${conditionText(evaluation, policy)}`,
  ];
  for (const g of evaluation.groups) {
    lines.push('', groupLine(g), ...partitionTable(g, policy.window, limit, table).map(indent));
  }
  if (outcome.status === 'stuck') {
    const stuck = evaluation.groups.filter((g) => g.stuck).map((g) => `${g.group} (${g.status})`);
    lines.push(
      '',
      `stuck: ${stuck.join(', ')}`,
      '  STOP: no members and no progress; STALL: members but no progress; REWIND: the committed offset',
      '  moved back. Use --no-fail-on-stuck to keep waiting until --timeout instead.',
    );
  }
  return lines.join('\n');
}
