import { pino, type Logger } from 'pino';
import { PlatformaticKafkaAdapter } from '../adapters/platformatic/kafka-adapter.js';
import { stringifyWithBigInt } from '../core/manifest/json.js';
import type { KafkaPort } from '../core/ports/kafka-port.js';
import type { RunObserver } from '../engine/observer.js';
import { parseBootstrap, parseDuration } from './parse.js';
import { resolveConnection, type ConnectionFlags } from '../config/connection.js';
import type { ConfigFile } from '../config/schema.js';
import { KbackupError } from '../core/errors.js';

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  logLevel?: string;
  retryDeadline?: string;
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
  observer(): RunObserver;
  /** What the run did, for --metrics-file. */
  summarize(summary: RunSummary): void;
  readonly summary: RunSummary;
  kafka(bootstrapFlag: string, bootstrap: string | undefined): { port: KafkaPort; bootstrap: string };
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
}

export function createContext(
  global: GlobalOptions,
  signal: AbortSignal,
  connection: ConnectionSource,
): CommandContext {
  const json = global.json === true;
  const quiet = global.quiet === true;
  // Logs go to stderr so that stdout carries only results (and --json stays parseable).
  const logger = pino({ level: global.logLevel ?? 'warn', base: undefined }, pino.destination(2));
  const showProgress = !quiet && !json && process.stderr.isTTY;
  const summary: RunSummary = {};
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
      process.stdout.write(stringifyWithBigInt({ ...(document as object), peakRssBytes }));
    },
    print(text) {
      if (!json) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    observer() {
      const warnings: string[] = [];
      let lastDraw = 0;
      const totals = new Map<string, number>();
      return {
        warn(message) {
          warnings.push(message);
          logger.warn(message);
          if (!quiet && !json && logger.levelVal > 40) process.stderr.write(`warning: ${message}\n`);
        },
        warnings: () => [...warnings],
        progress(label, records) {
          totals.set(label, (totals.get(label) ?? 0) + records);
          if (!showProgress) return;
          const now = Date.now();
          if (now - lastDraw < 250) return;
          lastDraw = now;
          const sum = [...totals.values()].reduce((a, b) => a + b, 0);
          process.stderr.write(`\r${sum.toLocaleString()} records, ${totals.size} partitions active   `);
        },
      };
    },
    kafka(flag, bootstrapText) {
      const resolved = resolveConnection(
        { ...connection.flags, ...(bootstrapText === undefined ? {} : { bootstrap: bootstrapText }) },
        connection.config,
        process.env,
      );
      // Security warnings are loud on purpose: they print even under --quiet.
      for (const warning of resolved.warnings) process.stderr.write(`kbackup: WARNING: ${warning}\n`);
      if (resolved.bootstrap === undefined) {
        throw new KbackupError('USAGE', `${flag} (or --cluster NAME) is required`, {
          hint: `e.g. ${flag} 127.0.0.1:9092, or KBACKUP_BOOTSTRAP in the environment`,
        });
      }
      const bootstrap = parseBootstrap(flag, resolved.bootstrap);
      const retryDeadlineMs = parseDuration('--retry-deadline', global.retryDeadline ?? '60s');
      const port = new PlatformaticKafkaAdapter({
        bootstrap,
        security: resolved.security,
        retryDeadlineMs,
        requestTimeoutMs: Math.min(30_000, Math.max(1_000, retryDeadlineMs)),
      });
      return { port, bootstrap: bootstrap.join(',') };
    },
  };
}
