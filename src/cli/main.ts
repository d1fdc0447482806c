import { Command, CommanderError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { KbackupError, isKbackupError, topicOf } from '../core/errors.js';
import { renderMetrics, type RunMetrics } from '../metrics/prometheus.js';
import { writeFileAtomic } from '../storage/atomic.js';
import { EXIT_CODE_TABLE, ExitCode } from '../core/exit-codes.js';
import { stringifyWithBigInt } from '../core/manifest/json.js';
import { VERSION } from '../version.js';
import { registerBackup } from './commands/backup.js';
import { registerDrain } from './commands/drain.js';
import { registerInspect } from './commands/inspect.js';
import { registerMigrate } from './commands/migrate.js';
import { registerOffsets } from './commands/offsets.js';
import { registerRestore } from './commands/restore.js';
import { registerRetention } from './commands/retention.js';
import { registerDoctor } from './commands/doctor.js';
import { createContext, type CommandContext, type ConnectionSource, type GlobalOptions } from './context.js';
import { addConnectionOptions, allCommands, configPathFrom, layerEnvironmentAndConfig } from './options.js';
import { loadConfigFile } from '../config/load.js';
import type { ConfigFile } from '../config/schema.js';
import type { ConnectionFlags } from '../config/connection.js';

/**
 * The entry point, and the only place that calls process.exit. Commands return an exit code or throw a
 * KbackupError; this turns either into a message (or a JSON document with --json) and a documented code.
 */
const controller = new AbortController();
let stopSignal: NodeJS.Signals | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (stopSignal) {
    process.stderr.write(`\n${signal} again: aborting now\n`);
    process.exit(signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated);
  }
  stopSignal = signal;
  process.stderr.write(`\n${signal}: finishing in-flight work and saving progress (send again to abort)\n`);
  controller.abort();
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const exitTable = EXIT_CODE_TABLE.map(
  (e) => `  ${String(e.code).padStart(3)}  ${e.name.padEnd(14)} ${e.meaning}`,
).join('\n');

const program = new Command('kbackup')
  .description(
    'Back up Apache Kafka topics to compressed, checksummed segment files and restore them exactly.',
  )
  .version(VERSION, '-V, --version')
  .option('--json', 'print one machine-readable result document on stdout')
  .option('-q, --quiet', 'no progress output')
  .option(
    '--metrics-file <path>',
    'write Prometheus metrics of this run here at the end (node_exporter textfile)',
  )
  .option(
    '--metrics-port <[host:]port>',
    'serve live Prometheus metrics on http://host:port/metrics while the command runs (host defaults to 0.0.0.0)',
  )
  .option('--config <file>', 'YAML configuration file (named clusters, option defaults)')
  .option(
    '--retry-deadline <duration>',
    'how long retriable Kafka errors (broker down, leader moving) are retried',
    '60s',
  )
  .addOption(
    new Option('--log-level <level>', 'log level (logs go to stderr)')
      .choices(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
      .default('warn'),
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText(
    'after',
    `\nExit codes:\n${exitTable}\n\nDocs: docs/ in the package (FORMAT.md, EXIT-CODES.md, CONFIGURATION.md).`,
  );

let exitCode: number = ExitCode.Ok;
let config: ConfigFile | undefined;
let activeCommand: Command | undefined;
program.hook('preAction', (_program, actionCommand) => {
  activeCommand = actionCommand;
});

async function run(fn: (ctx: CommandContext) => Promise<number>): Promise<void> {
  const ctx = createContext(
    program.opts<GlobalOptions>(),
    controller.signal,
    {
      flags: activeCommand?.opts<ConnectionFlags>() ?? {},
      config,
      ...(activeCommand && talksToKafka(activeCommand) ? { connect: await kafkaConnector() } : {}),
    },
    commandPath(activeCommand),
  );
  const started = Date.now();
  let failure: unknown;
  let failed = false;
  try {
    await ctx.open();
    exitCode = await fn(ctx);
  } catch (error) {
    failure = error;
    failed = true;
  }
  // Before the error is reported, so that the message does not land inside the progress view.
  await ctx.close();
  if (failed) exitCode = report(failure, ctx.json, program.opts<GlobalOptions>().logLevel);
  const metricsFile = program.opts<{ metricsFile?: string }>().metricsFile;
  if (metricsFile !== undefined) {
    const errorTopic = failure === undefined ? undefined : topicOf(failure);
    try {
      await writeMetricsFile(metricsFile, {
        command: commandPath(activeCommand),
        success: exitCode === 0,
        exitCode,
        finishedAt: new Date(),
        durationMs: Date.now() - started,
        ...ctx.summary,
        topics: ctx.summary.topics ?? [],
        errorTopics: errorTopic === undefined ? [] : [errorTopic],
      });
    } catch (error) {
      process.stderr.write(
        `kbackup: error: could not write metrics to ${metricsFile}: ${(error as Error).message}\n`,
      );
      if (exitCode === 0) exitCode = ExitCode.Io;
    }
  }
}

/** Commands with a bootstrap option (--bootstrap, --source-bootstrap, --target-bootstrap) talk to Kafka. */
function talksToKafka(command: Command): boolean {
  return command.options.some((o) => /bootstrap$/i.test(o.attributeName()));
}

/** The Kafka client library, loaded on demand (see ConnectionSource.connect). */
async function kafkaConnector(): Promise<NonNullable<ConnectionSource['connect']>> {
  const { PlatformaticKafkaAdapter } = await import('../adapters/platformatic/kafka-adapter.js');
  return (options) => new PlatformaticKafkaAdapter(options);
}

function commandPath(command: Command | undefined): string {
  const names: string[] = [];
  for (let c: Command | null = command ?? null; c && c !== program; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

async function writeMetricsFile(path: string, run: RunMetrics): Promise<void> {
  const previous = await readFile(path, 'utf8').catch(() => undefined);
  await writeFileAtomic(path, renderMetrics(run, previous));
}

function report(error: unknown, json: boolean, logLevel: string | undefined): number {
  let failure: KbackupError;
  if (isKbackupError(error)) failure = error;
  else {
    const message = error instanceof Error ? error.message : String(error);
    failure = new KbackupError('INTERNAL', `internal error: ${message}`, {
      cause: error,
      hint: 'This is a bug in kbackup. Re-run with --log-level debug and report the output.',
    });
  }
  let code: number = failure.exitCode;
  if (failure.code === 'INTERRUPTED')
    code = stopSignal === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted;
  if (json) {
    process.stdout.write(
      stringifyWithBigInt({
        status: 'error',
        error: {
          code: failure.code,
          message: failure.message,
          hint: failure.hint ?? null,
          canRetry: failure.canRetry,
          details: failure.details ?? null,
        },
        exitCode: code,
      }),
    );
  }
  process.stderr.write(`kbackup: error: ${failure.message}\n`);
  if (failure.hint) process.stderr.write(`  hint: ${failure.hint}\n`);
  if (failure.code === 'INTERNAL' || logLevel === 'debug' || logLevel === 'trace') {
    const cause = failure.code === 'INTERNAL' ? failure.cause : failure;
    if (cause instanceof Error && cause.stack) process.stderr.write(`${cause.stack}\n`);
  }
  return code;
}

registerBackup(program, run);
registerRestore(program, run);
registerInspect(program, run);
registerRetention(program, run);
registerDoctor(program, run);
registerOffsets(program, run);
registerMigrate(program, run);
registerDrain(program, run);

try {
  // The configuration file is read before parsing: its values become the options' defaults, under the
  // KBACKUP_* environment and the flags.
  const configPath = configPathFrom(process.argv.slice(2), process.env);
  if (configPath !== undefined) config = loadConfigFile(configPath);
  for (const { command } of allCommands(program)) {
    if (command.options.some((o) => o.attributeName() === 'bootstrap')) addConnectionOptions(command);
  }
  layerEnvironmentAndConfig(program, config);
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; parse errors (commander already printed them) are usage errors.
    exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  } else {
    exitCode = report(error, false, undefined);
  }
}
process.exit(exitCode);
