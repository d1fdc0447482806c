import { pino, type Logger } from 'pino';
import type { ConnectionOptions } from '../adapters/platformatic/kafka-adapter.js';
import { stringifyWithBigInt } from '../core/manifest/json.js';
import type { KafkaPort } from '../core/ports/kafka-port.js';
import type { RunObserver } from '../engine/observer.js';
import { parseBootstrap, parseDuration } from './parse.js';
import { resolveConnection, securityFlagsOf, type ConnectionFlags } from '../config/connection.js';
import type { ConfigFile } from '../config/schema.js';
import { KbackupError } from '../core/errors.js';
import { renderLiveMetrics } from '../metrics/live.js';
import { parseListenAddress, serveMetrics, type MetricsEndpoint } from './metrics-server.js';
import { ProgressTracker, renderProgress } from './progress.js';
import { TtyBlock } from './tty-block.js';

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  logLevel?: string;
  retryDeadline?: string;
  metricsPort?: string;
}

/** What a command gets: output channels, a logger, a cancellation signal and factories for ports. */
export interface CommandContext {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Machine-readable result document (stdout). */
  printJson(document: unknown): void;
  /** Human result text (stdout), suppressed under --json. */
  print(text: string): void;
  /**
   * Where engines report. Progress feeds one tracker per run, drawn on a TTY (unless `tty: false`: the
   * command draws its own view) and served on --metrics-port.
   */
  observer(options?: { tty?: boolean }): RunObserver;
  /** What the run did, for --metrics-file. */
  summarize(summary: RunSummary): void;
  readonly summary: RunSummary;
  /**
   * A Kafka port for `bootstrap` (the value of `bootstrapFlag`) over the command's connection flags. With
   * `side` (migrate's source or target): the side's named cluster, if any, brings its own TLS and SASL, and
   * the TLS and SASL flags apply only to a side that names no cluster.
   */
  kafka(
    bootstrapFlag: string,
    bootstrap: string | undefined,
    side?: KafkaSide,
  ): { port: KafkaPort; bootstrap: string };
  /** Starts what lives for the whole run (the --metrics-port endpoint). */
  open(): Promise<void>;
  /** Clears the progress view and stops the metrics endpoint. */
  close(): Promise<void>;
}

export interface KafkaSide {
  /** The flag that names this side's cluster, for messages (--source-cluster). */
  clusterFlag: string;
  cluster: string | undefined;
}

export interface RunSummary {
  records?: number;
  payloadBytes?: number;
  storedBytes?: number;
  topics?: string[];
}

export interface ConnectionSource {
  flags: ConnectionFlags;
  config: ConfigFile | undefined;
  /**
   * Makes the Kafka port. Loaded by the entry point only for commands that talk to Kafka: the client
   * library takes most of a second to load, which list, describe, verify and --help do not need to pay.
   */
  connect?: (options: ConnectionOptions) => KafkaPort;
}

/** Redraws of the TTY view are at most this often. */
const REDRAW_MS = 250;

export function createContext(
  global: GlobalOptions,
  signal: AbortSignal,
  connection: ConnectionSource,
  command = 'kbackup',
): CommandContext {
  const json = global.json === true;
  const quiet = global.quiet === true;
  // Logs go to stderr so that stdout carries only results (and --json stays parseable).
  const logger = pino({ level: global.logLevel ?? 'warn', base: undefined }, pino.destination(2));
  const tty = !quiet && !json && process.stderr.isTTY;
  const summary: RunSummary = {};
  const startedAt = new Date();
  const tracker = new ProgressTracker(startedAt.getTime());
  const warnings: string[] = [];
  const view = new TtyBlock(process.stderr);
  let drawProgress = tty;
  let lastDraw = 0;
  let endpoint: MetricsEndpoint | undefined;
  const draw = (force: boolean): void => {
    if (!drawProgress) return;
    const now = Date.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    view.draw(renderProgress(tracker.snapshot(now), command));
  };
  return {
    json,
    quiet,
    logger,
    signal,
    summary,
    summarize(values) {
      Object.assign(summary, values);
    },
    printJson(document) {
      // Peak resident memory of this run, so that cron jobs and benchmarks can track it.
      const peakRssBytes = process.resourceUsage().maxRSS * 1024;
      view.clear();
      process.stdout.write(stringifyWithBigInt({ ...(document as object), peakRssBytes }));
    },
    print(text) {
      if (json) return;
      // The result replaces the progress view rather than landing under (or inside) it.
      view.clear();
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    observer(options = {}) {
      if (options.tty === false) drawProgress = false;
      return {
        start(info) {
          tracker.start(info);
        },
        warn(message) {
          warnings.push(message);
          view.clear();
          logger.warn(message);
          if (!quiet && !json && logger.levelVal > 40) process.stderr.write(`warning: ${message}\n`);
        },
        warnings: () => [...warnings],
        progress(update) {
          tracker.update(update, Date.now());
          draw(false);
        },
      };
    },
    async open() {
      if (global.metricsPort === undefined) return;
      const listen = parseListenAddress('--metrics-port', global.metricsPort);
      endpoint = await serveMetrics('--metrics-port', listen, () => {
        const usage = process.cpuUsage();
        return renderLiveMetrics({
          command,
          startedAt,
          snapshot: tracker.snapshot(Date.now()),
          warnings: warnings.length,
          residentBytes: process.memoryUsage.rss(),
          cpuSeconds: (usage.user + usage.system) / 1e6,
        });
      });
      logger.info({ address: endpoint.address }, 'serving metrics');
      // On stderr even with --json (stdout stays one document), so that a wrapper can find a port chosen by 0.
      if (!quiet) process.stderr.write(`metrics: http://${endpoint.address}/metrics\n`);
    },
    async close() {
      view.clear();
      const open = endpoint;
      endpoint = undefined;
      await open?.close();
    },
    kafka(flag, bootstrapText, side) {
      const base: ConnectionFlags =
        side === undefined
          ? connection.flags
          : side.cluster === undefined
            ? securityFlagsOf(connection.flags)
            : { cluster: side.cluster };
      const resolved = resolveConnection(
        { ...base, ...(bootstrapText === undefined ? {} : { bootstrap: bootstrapText }) },
        connection.config,
        process.env,
      );
      // Security warnings are loud on purpose: they print even under --quiet.
      for (const warning of resolved.warnings) process.stderr.write(`kbackup: WARNING: ${warning}\n`);
      if (resolved.bootstrap === undefined) {
        throw new KbackupError('USAGE', `${flag} (or ${side?.clusterFlag ?? '--cluster'} NAME) is required`, {
          hint: `e.g. ${flag} 127.0.0.1:9092, or ${envVarOf(flag)} in the environment`,
        });
      }
      const bootstrap = parseBootstrap(flag, resolved.bootstrap);
      const retryDeadlineMs = parseDuration('--retry-deadline', global.retryDeadline ?? '60s');
      if (connection.connect === undefined) {
        throw new KbackupError('INTERNAL', 'this command was started without a Kafka client');
      }
      const port = connection.connect({
        bootstrap,
        security: resolved.security,
        retryDeadlineMs,
        requestTimeoutMs: Math.min(30_000, Math.max(1_000, retryDeadlineMs)),
      });
      return { port, bootstrap: bootstrap.join(',') };
    },
  };
}

/** The variable layerEnvironmentAndConfig gives a flag: KBACKUP_SOURCE_BOOTSTRAP for --source-bootstrap. */
function envVarOf(flag: string): string {
  return `KBACKUP_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;
}
