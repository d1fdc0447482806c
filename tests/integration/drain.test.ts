import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Consumer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLI_ARGV, runCli, tempRepo, type CliResult } from '../support/cli.js';
import { consumeAsGroup } from '../support/group-consumer.js';
import {
  clientOptions,
  createTopic,
  produceRecords,
  uniqueTopic,
  withAdmin,
  type TestRecord,
} from '../support/kafka-helpers.js';
import { pollUntil } from '../support/wait.js';

const bootstrap = inject('kafkaBootstrap');
const RECORDS = 40;

const records = (n: number, from = 0): TestRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    partition: (from + i) % 2,
    key: Buffer.from(`k${from + i}`),
    value: Buffer.from(`v${from + i}`),
  }));

interface PartitionRow {
  topic: string;
  partition: number;
  committed: string | null;
  end: string;
  lag: string;
  status: string;
}
interface GroupRow {
  group: string;
  status: string;
  members: number;
  partitions: PartitionRow[];
}
interface DrainDoc {
  type?: string;
  status: string;
  decision?: string;
  groups: GroupRow[];
  polls: number;
  durationMs: number;
}

/** A drain running in the background with --json-lines: its lines as they arrive, and its exit. */
interface RunningDrain {
  lines: DrainDoc[];
  done: Promise<CliResult>;
}

function startDrain(args: string[]): RunningDrain {
  const child = spawn(process.execPath, [...CLI_ARGV, 'drain', '--bootstrap', bootstrap, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: DrainDoc[] = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    pending += d.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') lines.push(JSON.parse(line) as DrainDoc);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A hang guard only: every drain here has its own --timeout well below it.
  const guard = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { lines, done };
}

/** The last line of a --json-lines run: the result document. */
function resultOf(run: CliResult, drain: RunningDrain): DrainDoc {
  const last = drain.lines.at(-1);
  if (last?.type !== 'result') throw new Error(`no result line\nstderr:\n${run.stderr}\n${run.stdout}`);
  return last;
}

async function waitForPolls(drain: RunningDrain, count: number, description: string): Promise<void> {
  await pollUntil(() => drain.lines.filter((l) => l.type === 'poll').length >= count, {
    timeoutMs: 60_000,
    description,
  });
}

const statuses = (doc: DrainDoc): string[] => doc.groups.flatMap((g) => g.partitions.map((p) => p.status));

/** Fast polling for tests; each test adds its group, thresholds and --timeout. */
const FAST = ['--interval', '200ms', '--json-lines'];

describe('kbackup drain on a real broker', () => {
  const dir = tempRepo('kbackup-drain-');
  const shared = uniqueTopic('drain');
  let stalled: Consumer | undefined;

  beforeAll(async () => {
    await createTopic(bootstrap, shared, { partitions: 2 });
    await produceRecords(bootstrap, shared, records(RECORDS));
  });

  afterAll(async () => {
    await stalled?.close(true);
  });

  it('exits 0 once a real consumer has caught up and stayed caught up', async () => {
    const group = 'drain-catch-up';
    await consumeAsGroup(bootstrap, group, shared, { max: 1 }); // the group exists, with lag
    // Stuck detection is off: the consumer below takes a moment to join, and that is not the point here.
    const drain = startDrain([
      ...FAST,
      ...['--group', group, '--topics', shared, '--max-lag', '0', '--stable-for', '1s'],
      ...['--timeout', '120s', '--no-fail-on-stuck'],
    ]);
    await waitForPolls(drain, 1, 'the first poll of drain');
    expect(drain.lines[0]?.groups[0]?.partitions.some((p) => p.lag !== '0')).toBe(true);
    const consumed = await consumeAsGroup(bootstrap, group, shared);
    expect(consumed.length).toBe(RECORDS - 1);
    const run = await drain.done;
    expect(run.code, run.stderr).toBe(0);
    const doc = resultOf(run, drain);
    expect(doc.status).toBe('drained');
    expect(doc.groups[0]?.partitions.map((p) => [p.partition, p.committed, p.end, p.lag, p.status])).toEqual([
      [0, '20', '20', '0', 'OK'],
      [1, '20', '20', '0', 'OK'],
    ]);
  });

  it('a stopped consumer with lag: exit 11 (STOP) by default, exit 10 with --no-fail-on-stuck', async () => {
    const group = 'drain-stopped';
    await consumeAsGroup(bootstrap, group, shared, { max: 10 });
    const drain = ['--json', 'drain', '--bootstrap', bootstrap, '--group', group, '--max-lag', '0'];
    const [stuck, timeout] = await Promise.all([
      runCli([...drain, '--interval', '200ms', '--window', '3', '--timeout', '120s']),
      // Two polls at least: one at the start, one at the deadline (the window is 2 polls).
      runCli([...drain, '--interval', '200ms', '--window', '2', '--timeout', '5s', '--no-fail-on-stuck']),
    ]);
    expect(stuck.code, stuck.stderr).toBe(11);
    const stuckDoc = JSON.parse(stuck.stdout) as DrainDoc;
    expect(stuckDoc.status).toBe('stuck');
    expect(stuckDoc.groups[0]).toMatchObject({ group, status: 'STOP', members: 0 });
    expect(statuses(stuckDoc)).toEqual(['STOP', 'STOP']);

    expect(timeout.code, timeout.stderr).toBe(10);
    const timeoutDoc = JSON.parse(timeout.stdout) as DrainDoc;
    expect(timeoutDoc.status).toBe('timeout');
    expect(timeoutDoc.polls).toBeGreaterThanOrEqual(2);
    expect(timeoutDoc.groups[0]?.status).toBe('STOP');
  });

  it('a member that does not commit is STALL: exit 11', async () => {
    const group = 'drain-stalled';
    await consumeAsGroup(bootstrap, group, shared, { max: 4 });
    // A real member that joins the group and then never reads nor commits.
    stalled = new Consumer({
      ...clientOptions(bootstrap, 'kbackup-test-stalled'),
      groupId: group,
      autocommit: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    await stalled.consume({ topics: [shared], mode: 'committed', fallbackMode: 'earliest' });
    await pollUntil(
      () =>
        withAdmin(bootstrap, async (admin) => {
          const described = (await admin.describeGroups({ groups: [group] })).get(group);
          return described?.state.toLowerCase() === 'stable' && described.members.size > 0;
        }),
      { timeoutMs: 60_000, description: `group ${group} to be stable with its member` },
    );
    const run = await runCli([
      ...['--json', 'drain', '--bootstrap', bootstrap, '--group', group, '--max-lag', '0'],
      ...['--window', '3', '--interval', '200ms', '--timeout', '120s'],
    ]);
    expect(run.code, run.stderr).toBe(11);
    const doc = JSON.parse(run.stdout) as DrainDoc;
    expect(doc.groups[0]).toMatchObject({ status: 'STALL', members: 1 });
  });

  it('a rewind (offsets reset to earliest while drain watches) is REWIND: exit 11', async () => {
    const group = 'drain-rewind';
    await consumeAsGroup(bootstrap, group, shared); // caught up
    const drain = startDrain([
      ...FAST,
      ...['--group', group, '--topics', shared, '--max-lag', '0', '--stable-for', '10m'],
      ...['--window', '3', '--timeout', '120s'],
    ]);
    await waitForPolls(drain, 3, 'three caught-up polls');
    expect(drain.lines.every((l) => l.decision === 'waiting' && statuses(l).every((s) => s === 'OK'))).toBe(
      true,
    );
    const reset = await runCli([
      ...['offsets', 'reset', '--bootstrap', bootstrap, '--group', group, '--topics', shared],
      ...['--to-earliest', '--execute', '--snapshot-out', join(dir, 'before-rewind.json')],
    ]);
    expect(reset.code, reset.stderr).toBe(0);
    const run = await drain.done;
    expect(run.code, run.stderr).toBe(11);
    const doc = resultOf(run, drain);
    expect(doc.status).toBe('stuck');
    expect(doc.groups[0]?.status).toBe('REWIND');
    expect(doc.groups[0]?.partitions.map((p) => [p.committed, p.lag, p.status])).toEqual([
      ['0', '20', 'REWIND'],
      ['0', '20', 'REWIND'],
    ]);
  });

  it('time strategy: exits 0 when the consumer is at the end and no new records arrive', async () => {
    const topic = uniqueTopic('drain-time');
    const group = 'drain-time';
    await createTopic(bootstrap, topic, { partitions: 2 });
    await produceRecords(bootstrap, topic, records(20));
    await consumeAsGroup(bootstrap, group, topic, { max: 1 });
    const drain = startDrain([
      ...FAST,
      ...['--group', group, '--strategy', 'time', '--quiet-for', '1s'],
      ...['--timeout', '120s', '--no-fail-on-stuck'],
    ]);
    await waitForPolls(drain, 1, 'the first poll of drain');
    await produceRecords(bootstrap, topic, records(10, 20)); // still arriving
    await consumeAsGroup(bootstrap, group, topic);
    const run = await drain.done;
    expect(run.code, run.stderr).toBe(0);
    const doc = resultOf(run, drain);
    expect(doc.status).toBe('drained');
    expect(doc.groups[0]?.partitions.map((p) => [p.end, p.lag, p.status])).toEqual([
      ['15', '0', 'OK'],
      ['15', '0', 'OK'],
    ]);
    // It waited while the consumer had lag.
    expect(drain.lines.some((l) => l.type === 'poll' && l.decision === 'waiting')).toBe(true);
  });

  it('refuses a group without committed offsets (a misspelt group) with exit 2', async () => {
    const run = await runCli([
      ...['drain', '--bootstrap', bootstrap, '--group', 'drain-no-such-group', '--topics', shared],
      ...['--max-lag', '0', '--timeout', '30s'],
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('drain-no-such-group have no committed offsets on');
  });
});
