import type { Command } from 'commander';
import { KbackupError } from '../../core/errors.js';
import type { RestoreWindow } from '../../core/restore-plan.js';
import { runRestore } from '../../engine/restore/run.js';
import { Repository } from '../../storage/repository.js';
import type { CommandContext } from '../context.js';
import {
  collect,
  parseIntFlag,
  parseIntList,
  parseKeyValues,
  parseOffsetFlag,
  parseRenames,
  parseSize,
  parseTime,
} from '../parse.js';
import { formatBytes, formatDuration, table, groupOffsetsReport } from '../render.js';
import { resolveBackupId } from './resolve.js';
import { tuneHeapForRestore } from '../runtime-tuning.js';

interface RestoreFlags {
  repo: string;
  backup: string;
  bootstrap?: string;
  topics: string[];
  partitions: string[];
  rename: string[];
  replicationFactor?: string;
  topicConfigs: boolean;
  topicConfig: string[];
  provenanceHeaders?: boolean;
  fromTime?: string;
  toTime?: string;
  fromOffset?: string;
  toOffset?: string;
  dryRun?: boolean;
  allowNonEmpty?: boolean;
  concurrency: string;
  batchBytes: string;
  consumerGroups?: string;
  renameGroup: string[];
}

export function registerRestore(
  program: Command,
  run: (fn: (ctx: CommandContext) => Promise<number>) => Promise<void>,
): void {
  program
    .command('restore')
    .description(
      'restore a backup into a cluster: same partitions, order, keys, values, headers and timestamps',
    )
    .requiredOption('--repo <dir>', 'repository directory')
    .requiredOption('--backup <id|latest>', 'backup to restore')
    .option('--bootstrap <host:port,...>', 'target cluster brokers')
    .option(
      '--topics <list>',
      'restore only these backed-up topics (comma-separated; repeatable)',
      collect,
      [],
    )
    .option('--partitions <list>', 'restore only these partition numbers', collect, [])
    .option('--rename <old=new>', 'restore topic old into topic new; repeatable', collect, [])
    .option('--replication-factor <n>', 'replication factor of created topics (-1: broker default)')
    .option('--no-topic-configs', 'do not copy the backed-up topic configs onto created topics')
    .option('--topic-config <key=value>', 'set a config on created topics; repeatable', collect, [])
    .option(
      '--provenance-headers',
      'add kbackup.source.{topic,partition,offset} headers (off: byte-identical)',
    )
    .option('--from-time <time>', 'restore records with timestamp >= this (ISO-8601 with zone, or epoch ms)')
    .option('--to-time <time>', 'restore records with timestamp <= this (inclusive)')
    .option('--from-offset <offset>', 'restore records with source offset >= this')
    .option('--to-offset <offset>', 'restore records with source offset <= this (inclusive)')
    .option('--dry-run', 'print the plan and touch nothing')
    .option('--allow-non-empty', 'write into target partitions that already hold records')
    .option(
      '--consumer-groups <all|g1,g2>',
      'after the data, commit the translated offsets of these captured groups',
    )
    .option(
      '--rename-group <old=new>',
      'commit the offsets of group old under group new; repeatable',
      collect,
      [],
    )
    .option('--concurrency <n>', 'partitions restored at the same time', '4')
    .option('--batch-bytes <size>', 'record bytes per produce request and partition', '900KiB')
    .action(async (flags: RestoreFlags) => {
      tuneHeapForRestore();
      await run((ctx) => restoreCommand(ctx, flags));
    });
}

function parseWindow(flags: RestoreFlags): RestoreWindow {
  const window: RestoreWindow = {};
  if (flags.fromTime !== undefined) window.fromTime = parseTime('--from-time', flags.fromTime);
  if (flags.toTime !== undefined) window.toTime = parseTime('--to-time', flags.toTime);
  if (flags.fromOffset !== undefined) window.fromOffset = parseOffsetFlag('--from-offset', flags.fromOffset);
  if (flags.toOffset !== undefined) window.toOffset = parseOffsetFlag('--to-offset', flags.toOffset);
  if (window.fromTime !== undefined && window.toTime !== undefined && window.fromTime > window.toTime) {
    throw new KbackupError('USAGE', '--from-time is after --to-time');
  }
  if (
    window.fromOffset !== undefined &&
    window.toOffset !== undefined &&
    window.fromOffset > window.toOffset
  ) {
    throw new KbackupError('USAGE', '--from-offset is after --to-offset');
  }
  return window;
}

async function restoreCommand(ctx: CommandContext, flags: RestoreFlags): Promise<number> {
  const started = Date.now();
  const window = parseWindow(flags);
  const repo = await Repository.open(flags.repo);
  const backupId = await resolveBackupId(repo, flags.backup);
  const { port } = ctx.kafka('--bootstrap', flags.bootstrap);
  try {
    const result = await runRestore(
      port,
      repo,
      {
        backupId,
        topics: flags.topics.flatMap((t) => t.split(',')).filter(Boolean),
        partitions: parseIntList('--partitions', flags.partitions),
        renames: parseRenames('--rename', flags.rename),
        window,
        concurrency: parseIntFlag('--concurrency', flags.concurrency, 1, 256),
        ...(flags.replicationFactor === undefined
          ? {}
          : { replicationFactor: parseIntFlag('--replication-factor', flags.replicationFactor, -1, 32767) }),
        skipConfigs: !flags.topicConfigs,
        configOverrides: parseKeyValues('--topic-config', flags.topicConfig),
        provenanceHeaders: flags.provenanceHeaders === true,
        batchMaxBytes: parseSize('--batch-bytes', flags.batchBytes),
        dryRun: flags.dryRun === true,
        allowNonEmpty: flags.allowNonEmpty === true,
        consumerGroups: {
          groups:
            flags.consumerGroups === undefined || flags.consumerGroups === 'none'
              ? []
              : flags.consumerGroups === 'all'
                ? 'all'
                : flags.consumerGroups.split(',').filter(Boolean),
          renames: parseRenames('--rename-group', flags.renameGroup),
        },
        signal: ctx.signal,
      },
      ctx.observer(),
    );
    const durationMs = Date.now() - started;
    ctx.summarize({
      records: result.totals.records,
      payloadBytes: result.totals.payloadBytes,
      topics: result.plan.topics.map((t) => t.sourceTopic),
    });
    if (ctx.json) {
      ctx.printJson({
        command: 'restore',
        status: result.dryRun ? 'planned' : 'complete',
        ...result,
        durationMs,
      });
      return 0;
    }
    const rows = result.plan.topics.flatMap((t) =>
      t.partitions.map((p) => {
        const done = result.partitions.find(
          (r) => r.targetTopic === t.targetTopic && r.partition === p.partition,
        );
        return [
          t.sourceTopic,
          t.targetTopic,
          p.partition,
          p.segments.length,
          done ? done.records : `≤${p.records}`,
          formatBytes(p.rawBytes),
        ];
      }),
    );
    ctx.print(table(['source', 'target', 'partition', 'segments', 'records', 'raw bytes'], rows));
    if (result.dryRun) {
      ctx.print(
        `dry run: nothing was written (${result.plan.totals.records.toLocaleString()} records at most)`,
      );
    } else {
      const created = result.createdTopics.length > 0 ? `; created ${result.createdTopics.join(', ')}` : '';
      if (result.mode === 'already-complete')
        ctx.print(`restore ${result.restoreId} had already completed: nothing was written`);
      if (result.mode === 'resumed')
        ctx.print(
          `resumed restore ${result.restoreId}: records already in the target were not written again`,
        );
      ctx.print(
        `restore of ${backupId} complete: ${result.totals.records.toLocaleString()} records, ${formatBytes(result.totals.payloadBytes)} in ${formatDuration(durationMs)}${created}`,
      );
      for (const line of groupOffsetsReport(result.groupOffsets)) ctx.print(line);
    }
    return 0;
  } finally {
    await port.close();
  }
}
