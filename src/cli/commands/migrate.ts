import type { Command } from 'commander';
import { securityFlagsGiven, type ConnectionFlags } from '../../config/connection.js';
import { KbackupError } from '../../core/errors.js';
import { parseTopicPatterns } from '../../core/topic-select.js';
import type { LivePartition } from '../../engine/migrate/partition.js';
import {
  runMigrate,
  type MigrateObserver,
  type MigrateOptions,
  type MigrateResult,
} from '../../engine/migrate/run.js';
import { DEFAULT_STATE_DIR } from '../../engine/migrate/state-store.js';
import type { CommandContext } from '../context.js';
import { addSecurityOptions } from '../options.js';
import { collect, parseDuration, parseIntFlag, parseKeyValues, parseRenames, parseSize } from '../parse.js';
import { TtyBlock } from '../tty-block.js';
import { formatBytes, formatDuration, table, groupOffsetsReport } from '../render.js';

interface MigrateFlags extends ConnectionFlags {
  sourceBootstrap?: string;
  targetBootstrap?: string;
  sourceCluster?: string;
  targetCluster?: string;
  topics: string[];
  exclude: string[];
  rename: string[];
  consumerGroups?: string;
  renameGroup: string[];
  follow?: boolean;
  untilDrained?: boolean;
  quietFor: string;
  stateDir: string;
  isolation: string;
  concurrency: string;
  batchBytes: string;
  replicationFactor?: string;
  topicConfigs: boolean;
  topicConfig: string[];
  dryRun?: boolean;
}

export function registerMigrate(
  program: Command,
  run: (fn: (ctx: CommandContext) => Promise<number>) => Promise<void>,
): void {
  const command = program
    .command('migrate')
    .description(
      'copy topics from one cluster to another (or to other topics of the same cluster), streaming, resumably',
    )
    .option('--source-bootstrap <host:port,...>', 'source cluster brokers')
    .option('--target-bootstrap <host:port,...>', 'target cluster brokers (may be the source)')
    .option(
      '--source-cluster <name>',
      'named cluster from the configuration file for the source (bootstrap, TLS, SASL)',
    )
    .option(
      '--target-cluster <name>',
      'named cluster from the configuration file for the target (bootstrap, TLS, SASL)',
    )
    .option(
      '--topics <list>',
      'topics: names, globs (orders-*) or /regexes/, comma-separated; repeatable',
      collect,
      [],
    )
    .option('--exclude <list>', 'topics to leave out (same syntax); repeatable', collect, [])
    .option('--rename <old=new>', 'migrate topic old into topic new; repeatable', collect, [])
    .option(
      '--consumer-groups <all|g1,g2>',
      'at the end, translate and commit the source offsets of these groups on the target',
    )
    .option(
      '--rename-group <old=new>',
      'commit the offsets of group old under group new; repeatable',
      collect,
      [],
    )
    .option('--follow', 'keep copying new records until SIGINT/SIGTERM, then save progress and exit 0')
    .option(
      '--until-drained',
      'keep copying until the source has been quiet for --quiet-for and the copy caught up',
    )
    .option(
      '--quiet-for <duration>',
      'with --until-drained: how long the source end offsets must not move',
      '10s',
    )
    .option(
      '--state-dir <dir>',
      'where the progress of migrations is kept (one file per migration)',
      DEFAULT_STATE_DIR,
    )
    .option(
      '--isolation <level>',
      'read_committed (no aborted or open transactional records) or read_uncommitted',
      'read_committed',
    )
    .option(
      '--concurrency <n>',
      'fetch-and-produce steps in flight at once (partitions copied in parallel)',
      '4',
    )
    .option('--batch-bytes <size>', 'record bytes per fetch and per produce request', '900KiB')
    .option('--replication-factor <n>', 'replication factor of created topics (-1: broker default)')
    .option('--no-topic-configs', 'do not copy the source topic configs onto created topics')
    .option('--topic-config <key=value>', 'set a config on created topics; repeatable', collect, [])
    .option('--dry-run', 'print what would be copied and created, and touch nothing')
    .addHelpText(
      'after',
      '\nEach side needs --source-bootstrap / --target-bootstrap, or a named cluster (--source-cluster /\n' +
        '--target-cluster) that brings its own TLS and SASL settings. The --tls* and --sasl-* flags apply to\n' +
        'each side that names no cluster.',
    )
    .action(async (flags: MigrateFlags) => {
      await run((ctx) => migrateCommand(ctx, flags));
    });
  addSecurityOptions(command);
}

function parseGroups(text: string | undefined): 'all' | string[] {
  if (text === undefined || text === 'none') return [];
  if (text === 'all') return 'all';
  return text.split(',').filter(Boolean);
}

async function migrateCommand(ctx: CommandContext, flags: MigrateFlags): Promise<number> {
  const started = Date.now();
  if (flags.follow === true && flags.untilDrained === true) {
    throw new KbackupError('USAGE', '--follow and --until-drained exclude each other');
  }
  if (flags.isolation !== 'read_committed' && flags.isolation !== 'read_uncommitted') {
    throw new KbackupError(
      'USAGE',
      `--isolation must be read_committed or read_uncommitted, got "${flags.isolation}"`,
    );
  }
  const topics = parseTopicPatterns(flags.topics);
  if (topics.length === 0) {
    throw new KbackupError('USAGE', 'no topics selected', {
      hint: "Pass --topics with names, globs or /regexes/, e.g. --topics 'orders,payments-*'.",
    });
  }
  const options: MigrateOptions = {
    topics,
    exclude: parseTopicPatterns(flags.exclude),
    renames: parseRenames('--rename', flags.rename),
    consumerGroups: {
      groups: parseGroups(flags.consumerGroups),
      renames: parseRenames('--rename-group', flags.renameGroup),
    },
    mode: flags.follow === true ? 'follow' : flags.untilDrained === true ? 'until-drained' : 'one-shot',
    quietForMs: parseDuration('--quiet-for', flags.quietFor),
    stateDir: flags.stateDir,
    isolation: flags.isolation,
    concurrency: parseIntFlag('--concurrency', flags.concurrency, 1, 256),
    batchMaxBytes: parseSize('--batch-bytes', flags.batchBytes),
    ...(flags.replicationFactor === undefined
      ? {}
      : { replicationFactor: parseIntFlag('--replication-factor', flags.replicationFactor, -1, 32767) }),
    skipConfigs: !flags.topicConfigs,
    configOverrides: parseKeyValues('--topic-config', flags.topicConfig),
    dryRun: flags.dryRun === true,
    signal: ctx.signal,
  };
  if (flags.sourceCluster !== undefined && flags.targetCluster !== undefined) {
    // Both sides bring their own TLS and SASL: flags that would apply to neither are a mistake to report.
    const unused = securityFlagsGiven(flags);
    if (unused.length > 0) {
      throw new KbackupError(
        'USAGE',
        `${unused.join(', ')} would apply to neither side: --source-cluster and --target-cluster both name clusters`,
        {
          hint: 'Put TLS and SASL settings in the clusters of the configuration file, or drop the flags (and their KBACKUP_* variables).',
        },
      );
    }
  }
  const source = ctx.kafka('--source-bootstrap', flags.sourceBootstrap, {
    clusterFlag: '--source-cluster',
    cluster: flags.sourceCluster,
  }).port;
  try {
    const target = ctx.kafka('--target-bootstrap', flags.targetBootstrap, {
      clusterFlag: '--target-cluster',
      cluster: flags.targetCluster,
    }).port;
    try {
      // Migrate draws its own lag-oriented table; the run's tracker still feeds --metrics-port.
      const base = ctx.observer({ tty: false });
      const draw = progressTable(ctx);
      const observer: MigrateObserver = {
        warn: (message) => {
          draw?.clear();
          base.warn(message);
        },
        warnings: () => base.warnings(),
        progress: (update) => base.progress?.(update),
        ...(draw
          ? {
              partitions: (live: readonly LivePartition[]) => {
                draw.draw(live);
              },
            }
          : {}),
      };
      const result = await runMigrate(source, target, options, observer);
      report(ctx, result, Date.now() - started);
      return 0;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

const MAX_ROWS = 20;

/** Per-partition progress (records, bytes, lag) redrawn in place on a TTY; undefined elsewhere. */
function progressTable(
  ctx: CommandContext,
): { draw(live: readonly LivePartition[]): void; clear(): void } | undefined {
  if (ctx.quiet || ctx.json || !process.stderr.isTTY) return undefined;
  const block = new TtyBlock(process.stderr);
  return {
    clear: () => {
      block.clear();
    },
    draw: (live) => {
      const busiest = [...live]
        .sort((a, b) => (b.lag > a.lag ? 1 : b.lag < a.lag ? -1 : 0))
        .slice(0, MAX_ROWS);
      const rows = busiest.map((l) => [
        l.label,
        l.records.toLocaleString(),
        formatBytes(l.payloadBytes),
        l.lag,
      ]);
      const records = live.reduce((s, l) => s + l.records, 0);
      const bytes = live.reduce((s, l) => s + l.payloadBytes, 0);
      const lag = live.reduce((s, l) => s + l.lag, 0n);
      block.draw(
        [
          table(['partition', 'records', 'bytes', 'lag'], rows),
          ...(live.length > MAX_ROWS
            ? [`… ${live.length - MAX_ROWS} more partitions (highest lag shown)`]
            : []),
          `total: ${records.toLocaleString()} records, ${formatBytes(bytes)}, lag ${lag.toLocaleString()}`,
        ].join('\n'),
      );
    },
  };
}

function report(ctx: CommandContext, result: MigrateResult, durationMs: number): void {
  ctx.summarize({
    records: result.totals.records,
    payloadBytes: result.totals.payloadBytes,
    topics: [...new Set(result.partitions.map((p) => p.sourceTopic))],
  });
  if (ctx.json) {
    ctx.printJson({ command: 'migrate', ...result, durationMs });
    return;
  }
  ctx.print(
    table(
      ['source', 'target', 'partition', result.dryRun ? 'to copy' : 'records', 'total', 'position', 'lag'],
      result.partitions.map((p) => [
        p.sourceTopic,
        p.targetTopic,
        p.partition,
        result.dryRun ? p.lag : p.records,
        p.totalRecords,
        p.sourcePosition,
        p.lag,
      ]),
    ),
  );
  const created = result.createdTopics.length > 0 ? result.createdTopics.join(', ') : '';
  if (result.dryRun) {
    ctx.print(
      `dry run of migration ${result.migrationId}: nothing was written (${result.totals.lag.toLocaleString()} offsets to copy${created ? `; would create ${created}` : ''})`,
    );
    return;
  }
  if (result.start === 'resumed')
    ctx.print(`continued migration ${result.migrationId}: records already in the target were not sent again`);
  const verb = result.status === 'stopped' ? 'stopped' : 'complete';
  ctx.print(
    `migration ${result.migrationId} ${verb}: ${result.totals.records.toLocaleString()} records, ${formatBytes(result.totals.payloadBytes)} in ${formatDuration(durationMs)}${created ? `; created ${created}` : ''}`,
  );
  if (result.totals.lostToRetention > 0n) {
    ctx.print(
      `WARNING: ${result.totals.lostToRetention} source offsets were deleted by retention before they were copied`,
    );
  }
  for (const line of groupOffsetsReport(result.groupOffsets)) ctx.print(line);
  ctx.print(`progress: ${result.stateFile}`);
}
