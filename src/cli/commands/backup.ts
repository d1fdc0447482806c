import type { Command } from 'commander';
import { KbackupError } from '../../core/errors.js';
import { parseCodec } from '../../core/codecs.js';
import { parseTopicPatterns } from '../../core/topic-select.js';
import { runBackup } from '../../engine/backup/run.js';
import { Repository } from '../../storage/repository.js';
import type { CommandContext } from '../context.js';
import { collect, parseIntFlag, parseSize } from '../parse.js';
import { formatBytes, formatDuration } from '../render.js';

interface BackupFlags {
  bootstrap?: string;
  repo: string;
  topics: string[];
  exclude: string[];
  includeInternal?: boolean;
  codec: string;
  segmentSize: string;
  segmentRecords: string;
  isolation: string;
  concurrency: string;
  fetchMaxBytes: string;
  consumerGroups: string;
  backupId?: string;
  resume?: string;
  incremental?: boolean;
  requireFreeSpace?: boolean;
}

export function registerBackup(
  program: Command,
  run: (fn: (ctx: CommandContext) => Promise<number>) => Promise<void>,
): void {
  program
    .command('backup')
    .description('back up topics (a consistent cut up to the offsets read at start) into a repository')
    .requiredOption('--repo <dir>', 'repository directory (created if missing)')
    .option('--bootstrap <host:port,...>', 'source cluster brokers')
    .option(
      '--topics <list>',
      'topics: names, globs (orders-*) or /regexes/, comma-separated; repeatable',
      collect,
      [],
    )
    .option('--exclude <list>', 'topics to leave out (same syntax); repeatable', collect, [])
    .option('--include-internal', 'let patterns match internal topics (__consumer_offsets, ...)')
    .option('--codec <codec[:level]>', 'none, gzip, snappy, lz4 or zstd, with an optional level', 'zstd:3')
    .option('--segment-size <size>', 'roll segments at this uncompressed size', '64MiB')
    .option('--segment-records <n>', 'roll segments at this record count', '1000000')
    .option(
      '--isolation <level>',
      'read_committed (cut at last stable offsets, no aborted records) or read_uncommitted',
      'read_committed',
    )
    .option('--concurrency <n>', 'partitions read at the same time', '2')
    .option('--fetch-max-bytes <size>', 'bytes per fetch request', '2MiB')
    .option(
      '--consumer-groups <all|none|g1,g2>',
      'consumer groups whose committed offsets are recorded',
      'all',
    )
    .option('--backup-id <id>', 'id of the new backup (default: UTC time + random suffix)')
    .option(
      '--require-free-space',
      'refuse to start when the estimated size exceeds the free space (default: warn)',
    )
    .option('--incremental', 'start each partition where the newest complete backup of this cluster ended')
    .option('--resume <id>', 'finish an interrupted backup (the same command run again resumes it too)')
    .action(async (flags: BackupFlags) => {
      await run((ctx) => backupCommand(ctx, flags));
    });
}

async function backupCommand(ctx: CommandContext, flags: BackupFlags): Promise<number> {
  const started = Date.now();
  const { codec, level } = parseCodec(flags.codec);
  if (flags.isolation !== 'read_committed' && flags.isolation !== 'read_uncommitted') {
    throw new KbackupError(
      'USAGE',
      `--isolation must be read_committed or read_uncommitted, got "${flags.isolation}"`,
    );
  }
  const groups =
    flags.consumerGroups === 'all'
      ? 'all'
      : flags.consumerGroups === 'none'
        ? []
        : flags.consumerGroups.split(',').filter(Boolean);
  const { port, bootstrap } = ctx.kafka('--bootstrap', flags.bootstrap);
  try {
    const repo = await Repository.open(flags.repo, { create: true });
    const observer = ctx.observer();
    const { manifest, resumed } = await runBackup(
      port,
      repo,
      {
        selection: {
          include: parseTopicPatterns(flags.topics),
          exclude: parseTopicPatterns(flags.exclude),
          includeInternal: flags.includeInternal === true,
        },
        codec,
        level,
        segmentMaxBytes: parseSize('--segment-size', flags.segmentSize),
        segmentMaxRecords: parseIntFlag('--segment-records', flags.segmentRecords, 1),
        isolation: flags.isolation,
        concurrency: parseIntFlag('--concurrency', flags.concurrency, 1, 256),
        fetchMaxBytes: parseSize('--fetch-max-bytes', flags.fetchMaxBytes),
        consumerGroups: groups,
        bootstrap,
        ...(flags.backupId === undefined ? {} : { backupId: flags.backupId }),
        ...(flags.resume === undefined ? {} : { resume: flags.resume }),
        incremental: flags.incremental === true,
        requireFreeSpace: flags.requireFreeSpace === true,
        signal: ctx.signal,
      },
      observer,
    );
    const durationMs = Date.now() - started;
    const t = manifest.totals;
    ctx.summarize({
      records: t.records,
      payloadBytes: t.payloadBytes,
      storedBytes: t.storedBytes,
      topics: manifest.topics.map((x) => x.name),
    });
    if (ctx.json) {
      ctx.printJson({
        command: 'backup',
        status: 'complete',
        resumed,
        backupId: manifest.backupId,
        parent: manifest.parent,
        repo: flags.repo,
        topics: manifest.topics.map((x) => x.name),
        totals: t,
        compressionRatio: t.storedBytes > 0 ? t.payloadBytes / t.storedBytes : null,
        consumerGroups: manifest.consumerGroups.map((g) => g.groupId),
        warnings: manifest.warnings,
        durationMs,
      });
    } else {
      const partitions = manifest.topics.reduce((s, x) => s + x.partitions.length, 0);
      const mbps = t.payloadBytes / 1024 / 1024 / Math.max(durationMs / 1000, 0.001);
      ctx.print(
        [
          `backup ${manifest.backupId} complete${resumed ? ' (resumed)' : ''}`,
          `  topics      ${manifest.topics.map((x) => x.name).join(', ')} (${partitions} partitions)`,
          `  records     ${t.records.toLocaleString()}`,
          `  data        ${formatBytes(t.payloadBytes)} → ${formatBytes(t.storedBytes)} on disk (${manifest.options.codec})`,
          `  groups      ${manifest.consumerGroups.length} consumer group(s) recorded`,
          `  duration    ${formatDuration(durationMs)} (${mbps.toFixed(1)} MiB/s)`,
          ...manifest.warnings.map((w) => `  warning     ${w}`),
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    await port.close();
  }
}
