import type { Command } from 'commander';
import { KbackupError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { appliedCsv, planCsv, snapshotCsv } from '../../core/offsets/csv.js';
import { dryRunText, executedText, snapshotText, type TableData } from '../../core/offsets/report.js';
import { snapshotSources } from '../../core/offsets/snapshot-format.js';
import { describeTarget, type ResetTarget } from '../../core/offsets/target.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import { executeOffsetPlan, type ExecuteOptions } from '../../engine/offsets/execute.js';
import { planJson, planOffsetReset, type ResetPlan } from '../../engine/offsets/reset.js';
import { completeSnapshotGroups } from '../../engine/offsets/rollback.js';
import { loadBackupTarget, loadSnapshotTarget } from '../../engine/offsets/targets.js';
import {
  captureOffsetsSnapshot,
  readSnapshotFile,
  writeSnapshotFile,
} from '../../engine/offsets/snapshot.js';
import type { CommandContext } from '../context.js';
import { collect, parseIntFlag, parseOffsetFlag, parseTime } from '../parse.js';
import { table } from '../render.js';
import { resolveBackupId } from './resolve.js';

type Run = (fn: (ctx: CommandContext) => Promise<number>) => Promise<void>;

interface CommonFlags {
  bootstrap?: string;
  csv?: boolean;
  concurrency: string;
}
interface SnapshotFlags extends CommonFlags {
  group: string[];
  allGroups?: boolean;
  topics: string[];
  out: string;
}
interface TargetFlags {
  toEarliest?: boolean;
  toLatest?: boolean;
  toDatetime?: string;
  toOffset?: string;
  shiftBy?: string;
  fromSnapshot?: string;
  fromBackup?: string;
  repo?: string;
}
interface ResetFlags extends CommonFlags, TargetFlags {
  group: string[];
  topics: string[];
  allTopics?: boolean;
  dryRun?: boolean;
  execute?: boolean;
  snapshotOut?: string;
  verify?: boolean;
}
interface RollbackFlags extends CommonFlags {
  snapshot: string;
  group: string[];
  verify?: boolean;
  dryRun?: boolean;
  snapshotOut?: string;
}

const TARGET_FLAGS: [keyof TargetFlags, string][] = [
  ['toEarliest', '--to-earliest'],
  ['toLatest', '--to-latest'],
  ['toDatetime', '--to-datetime'],
  ['toOffset', '--to-offset'],
  ['shiftBy', '--shift-by'],
  ['fromSnapshot', '--from-snapshot'],
  ['fromBackup', '--from-backup'],
];

const splitList = (values: string[]): string[] =>
  values
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

function parseShift(text: string): bigint {
  const t = text.trim();
  const value = /^-?\d{1,19}$/.test(t) ? BigInt(t) : undefined;
  if (value === undefined || value < -(2n ** 63n) || value > 2n ** 63n - 1n) {
    throw usage(
      `--shift-by must be an int64 (negative moves back), got "${text}"`,
      'e.g. --shift-by -100 or --shift-by=-100',
    );
  }
  return value;
}

function outputMode(ctx: CommandContext, csv: boolean | undefined): 'json' | 'csv' | 'human' {
  if (csv === true && ctx.json)
    throw usage(
      '--csv and --json cannot be combined',
      'Pick one output: --json for one document, --csv for a table of offsets.',
    );
  return ctx.json ? 'json' : csv === true ? 'csv' : 'human';
}

/** Announcements that must not pollute CSV on stdout go to stderr. */
function notice(ctx: CommandContext, mode: string, text: string): void {
  if (mode === 'human') ctx.print(text);
  else if (mode === 'csv' && !ctx.quiet) process.stderr.write(`${text}\n`);
}

const render = (t: TableData): string => table(t.headers, t.rows);

const usage = (message: string, hint: string): KbackupError => new KbackupError('USAGE', message, { hint });

/** Checks the target flags (exactly one) and loads a snapshot or backup target; no Kafka needed. */
async function loadTarget(flags: TargetFlags): Promise<ResetTarget> {
  const given = TARGET_FLAGS.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
  if (given.length !== 1) {
    throw new KbackupError(
      'USAGE',
      given.length === 0
        ? `choose a target: one of ${TARGET_FLAGS.map(([, f]) => f).join(', ')}`
        : `choose exactly one target, got ${given.join(' and ')}`,
      { hint: 'e.g. --to-earliest, --to-datetime 2026-11-22T14:00:00Z, --shift-by -100' },
    );
  }
  if (flags.repo !== undefined && flags.fromBackup === undefined) {
    throw usage('--repo is only used with --from-backup', 'e.g. --from-backup latest --repo /backups/kafka');
  }
  if (flags.toEarliest) return { kind: 'earliest' };
  if (flags.toLatest) return { kind: 'latest' };
  if (flags.toDatetime !== undefined)
    return { kind: 'datetime', timestamp: parseTime('--to-datetime', flags.toDatetime) };
  if (flags.toOffset !== undefined)
    return { kind: 'offset', offset: parseOffsetFlag('--to-offset', flags.toOffset) };
  if (flags.shiftBy !== undefined) return { kind: 'shift', by: parseShift(flags.shiftBy) };
  if (flags.fromSnapshot !== undefined) return loadSnapshotTarget(flags.fromSnapshot);
  if (flags.repo === undefined) {
    throw usage(
      '--from-backup needs --repo DIR (the repository holding the backup)',
      'e.g. --from-backup latest --repo /backups/kafka',
    );
  }
  return loadBackupTarget(flags.repo, flags.fromBackup ?? 'latest', resolveBackupId);
}

/** Prints a plan that is not applied (dry run); exit 3 when some partition has no computable target. */
function printPlan(ctx: CommandContext, mode: string, command: string, plan: ResetPlan) {
  const exitCode = plan.totals.error > 0 ? ExitCode.Partial : ExitCode.Ok;
  if (mode === 'json') {
    ctx.printJson({
      command,
      status: 'planned',
      dryRun: true,
      ...planJson(plan),
      partitions: plan.rows,
      totals: plan.totals,
      warnings: plan.warnings,
      exitCode,
    });
  } else if (mode === 'csv') {
    ctx.print(planCsv(plan.rows));
  } else {
    const heading = `DRY RUN: ${command} of ${plan.groups.map((g) => g.groupId).join(', ')} to ${describeTarget(plan.target)}; nothing is committed`;
    ctx.print(
      dryRunText(
        heading,
        plan,
        plan.warnings,
        render,
        command === 'offsets rollback' ? 'Re-run without --dry-run to apply.' : undefined,
      ),
    );
  }
  return exitCode;
}

/** Applies a plan through the engine and reports per partition; the exit code says what happened. */
async function executePlan(
  ctx: CommandContext,
  mode: string,
  port: KafkaPort,
  plan: ResetPlan,
  command: string,
  options: Omit<ExecuteOptions, 'onSnapshot' | 'signal'>,
): Promise<number> {
  const undo = (path: string): string =>
    `undo with: kbackup offsets rollback --bootstrap ${options.bootstrap} --snapshot ${path}`;
  const result = await executeOffsetPlan(port, plan, {
    ...options,
    signal: ctx.signal,
    onSnapshot: (path) => {
      notice(ctx, mode, `saved the current offsets to ${path}\n  ${undo(path)}`);
    },
  });
  const { totals, verifyFailures } = result;
  const exitCode = ctx.signal.aborted
    ? ExitCode.Interrupted
    : verifyFailures > 0
      ? ExitCode.VerifyFailed
      : totals.failed > 0
        ? ExitCode.Partial
        : ExitCode.Ok;
  if (mode === 'json') {
    ctx.printJson({
      command,
      status:
        exitCode === ExitCode.Ok
          ? 'complete'
          : exitCode === ExitCode.VerifyFailed
            ? 'verify-failed'
            : 'partial',
      dryRun: false,
      ...planJson(plan),
      snapshot: result.snapshotPath,
      partitions: result.applied,
      totals,
      ...(options.verify ? { verify: { ok: verifyFailures === 0, checks: result.checks } } : {}),
      warnings: plan.warnings,
      exitCode,
    });
    return exitCode;
  }
  if (mode === 'csv') {
    ctx.print(appliedCsv(result.applied));
    return exitCode;
  }
  const mismatches = result.checks.filter((c) => !c.ok);
  const verify = options.verify ? { failures: verifyFailures, mismatches } : undefined;
  ctx.print(
    executedText(
      {
        command,
        groups: plan.groups.length,
        applied: result.applied,
        totals,
        ...(verify ? { verify } : {}),
        warnings: plan.warnings,
        undo: result.snapshotPath === null ? null : undo(result.snapshotPath),
      },
      render,
    ),
  );
  return exitCode;
}

async function snapshotCommand(ctx: CommandContext, flags: SnapshotFlags): Promise<number> {
  const mode = outputMode(ctx, flags.csv);
  if ((flags.allGroups === true) === flags.group.length > 0) {
    throw usage(
      'pass either --group G (repeatable) or --all-groups',
      'e.g. --group orders-service --group billing, or --all-groups',
    );
  }
  const topics = splitList(flags.topics);
  const concurrency = parseIntFlag('--concurrency', flags.concurrency, 1, 64);
  const { port, bootstrap } = ctx.kafka('--bootstrap', flags.bootstrap);
  try {
    const snapshot = await captureOffsetsSnapshot(port, {
      groups: flags.allGroups === true ? 'all' : flags.group,
      ...(topics.length > 0 ? { topics } : {}),
      reason: 'snapshot',
      bootstrap,
      concurrency,
    });
    const path = await writeSnapshotFile(flags.out, snapshot, { overwrite: true });
    if (mode === 'json') ctx.printJson({ command: 'offsets snapshot', status: 'complete', path, snapshot });
    else if (mode === 'csv') ctx.print(snapshotCsv(snapshot));
    else ctx.print(snapshotText(snapshot, path, render));
    if (mode === 'csv') notice(ctx, mode, `saved the offsets snapshot to ${path}`);
    return ExitCode.Ok;
  } finally {
    await port.close();
  }
}

async function resetCommand(ctx: CommandContext, flags: ResetFlags): Promise<number> {
  const mode = outputMode(ctx, flags.csv);
  if (flags.dryRun && flags.execute)
    throw usage(
      '--dry-run and --execute exclude each other',
      'Without either, the plan is printed and nothing changes; add --execute to apply it.',
    );
  if (flags.group.length === 0)
    throw usage('--group is required (repeatable)', 'e.g. --group orders-service');
  const topics = splitList(flags.topics);
  if (topics.length > 0 && flags.allTopics) {
    throw usage(
      '--topics and --all-topics exclude each other',
      '--topics resets every partition of the named topics; --all-topics every partition the group has committed.',
    );
  }
  const concurrency = parseIntFlag('--concurrency', flags.concurrency, 1, 64);
  const target = await loadTarget(flags);
  const { port, bootstrap } = ctx.kafka('--bootstrap', flags.bootstrap);
  try {
    const plan = await planOffsetReset(port, {
      groups: flags.group,
      ...(topics.length > 0 ? { topics } : {}),
      allTopics: flags.allTopics === true,
      target,
      concurrency,
    });
    if (flags.execute !== true) return printPlan(ctx, mode, 'offsets reset', plan);
    return await executePlan(ctx, mode, port, plan, 'offsets reset', {
      bootstrap,
      concurrency,
      snapshotOut: flags.snapshotOut,
      verify: flags.verify === true,
      reason: 'before-reset',
    });
  } finally {
    await port.close();
  }
}

async function rollbackCommand(ctx: CommandContext, flags: RollbackFlags): Promise<number> {
  const mode = outputMode(ctx, flags.csv);
  const concurrency = parseIntFlag('--concurrency', flags.concurrency, 1, 64);
  const snapshot = await readSnapshotFile(flags.snapshot);
  const known = new Set(snapshot.groups.map((g) => g.groupId));
  const unknown = flags.group.filter((g) => !known.has(g));
  if (unknown.length > 0) {
    throw usage(
      `snapshot ${flags.snapshot} has no group(s) ${unknown.join(', ')}`,
      `It has: ${[...known].join(', ') || '(no groups)'}.`,
    );
  }
  const selected = snapshot.groups.filter((g) => flags.group.length === 0 || flags.group.includes(g.groupId));
  const { port, bootstrap } = ctx.kafka('--bootstrap', flags.bootstrap);
  try {
    const clusterId = await port.clusterId();
    if (clusterId !== snapshot.cluster.clusterId) {
      throw new KbackupError(
        'USAGE',
        `snapshot ${flags.snapshot} was taken on cluster ${snapshot.cluster.clusterId}, but ${bootstrap} is cluster ${clusterId}`,
        {
          hint: 'Check --bootstrap. To apply it to another cluster on purpose, use `offsets reset --from-snapshot`.',
        },
      );
    }
    const groups = await completeSnapshotGroups(port, selected, snapshot.topics, concurrency);
    const plan = await planOffsetReset(port, {
      groups: groups.map((g) => g.groupId),
      allTopics: false,
      target: {
        kind: 'snapshot',
        path: flags.snapshot,
        clusterId,
        groups: snapshotSources({ ...snapshot, groups }),
        deleteUncommitted: true,
      },
      concurrency,
    });
    if (flags.dryRun === true) return printPlan(ctx, mode, 'offsets rollback', plan);
    return await executePlan(ctx, mode, port, plan, 'offsets rollback', {
      bootstrap,
      concurrency,
      snapshotOut: flags.snapshotOut,
      verify: flags.verify === true,
      reason: 'before-rollback',
      rollbackOf: groups,
    });
  } finally {
    await port.close();
  }
}

export function registerOffsets(program: Command, run: Run): void {
  const offsets = program
    .command('offsets')
    .description('save, reset and roll back the committed offsets of consumer groups');
  const common = (cmd: Command): Command =>
    cmd
      .option('--bootstrap <host:port,...>', 'cluster brokers')
      .option('--concurrency <n>', 'groups (and topics) processed at the same time', '4');

  common(offsets.command('snapshot'))
    .description("save groups' committed offsets, state and lag to a file (to roll back to later)")
    .requiredOption('--out <file>', 'snapshot file to write (JSON, replaced atomically)')
    .option('--group <group>', 'consumer group (repeatable)', collect, [])
    .option('--all-groups', 'every consumer group of the cluster')
    .option('--topics <list>', 'only offsets on these topics (comma-separated; repeatable)', collect, [])
    .option('--csv', 'print the snapshot as CSV (group,topic,partition,offset,...) on stdout')
    .action(async (flags: SnapshotFlags) => {
      await run((ctx) => snapshotCommand(ctx, flags));
    });

  common(offsets.command('reset'))
    .description(
      'plan (default) or --execute a reset of committed offsets, like kafka-consumer-groups --reset-offsets',
    )
    .option('--group <group>', 'consumer group (repeatable)', collect, [])
    .option('--topics <list>', 'every partition of these topics (comma-separated; repeatable)', collect, [])
    .option('--all-topics', 'every partition the group has committed offsets on')
    .option('--to-earliest', 'target: the log start')
    .option('--to-latest', 'target: the high watermark (skip everything)')
    .option('--to-datetime <time>', 'target: first offset with timestamp >= time (ISO with zone or epoch ms)')
    .option('--to-offset <n>', 'target: this offset in every partition (clamped into the log)')
    .option('--shift-by <n>', 'target: current committed offset + n (negative moves back; --shift-by=-n)')
    .option('--from-snapshot <file>', 'target: the offsets saved in a snapshot file')
    .option('--from-backup <id|latest>', 'target: the offsets a backup captured at its cut (needs --repo)')
    .option('--repo <dir>', 'repository of --from-backup')
    .option('--dry-run', 'print the plan and change nothing (the default)')
    .option('--execute', 'apply the plan (after saving a snapshot of the current offsets)')
    .option(
      '--snapshot-out <file>',
      'where --execute saves the current offsets (default ./kbackup-offsets-<group>-<UTC>.json)',
    )
    .option('--verify', 'with --execute: read the committed offsets back and fail (exit 4) on a difference')
    .option('--csv', 'print the plan as CSV (group,topic,partition,offset,...) on stdout')
    .action(async (flags: ResetFlags) => {
      await run((ctx) => resetCommand(ctx, flags));
    });

  common(offsets.command('rollback'))
    .description('commit the offsets of a snapshot back (refuses active groups)')
    .requiredOption('--snapshot <file>', 'snapshot file (from `offsets snapshot` or a reset --execute)')
    .option('--group <group>', 'only this group of the snapshot (repeatable)', collect, [])
    .option('--verify', 'read the committed offsets back and fail (exit 4) if any differs from the snapshot')
    .option('--dry-run', 'print what would be committed and change nothing')
    .option(
      '--snapshot-out <file>',
      'where to save the offsets being replaced (default ./kbackup-offsets-<group>-<UTC>.json)',
    )
    .option('--csv', 'print the plan as CSV on stdout')
    .action(async (flags: RollbackFlags) => {
      await run((ctx) => rollbackCommand(ctx, flags));
    });
}
