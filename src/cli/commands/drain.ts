import { Option, type Command } from 'commander';
import { KbackupError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { stringifyWithBigInt } from '../../core/manifest/json.js';
import {
  drainDocument,
  pollLine,
  summaryText,
  viewText,
  type DrainOutcome,
} from '../../core/drain/report.js';
import type { DrainPolicy, DrainStrategy } from '../../core/drain/types.js';
import { runDrain } from '../../engine/drain.js';
import type { CommandContext } from '../context.js';
import { collect, parseDuration, parseIntFlag, parseOffsetFlag } from '../parse.js';
import { table } from '../render.js';

type Run = (fn: (ctx: CommandContext) => Promise<number>) => Promise<void>;

interface DrainFlags {
  bootstrap?: string;
  group: string[];
  topics: string[];
  maxLag?: string;
  stableFor: string;
  timeout?: string;
  interval: string;
  window: string;
  strategy: DrainStrategy;
  quietFor: string;
  failOnStuck: boolean;
  jsonLines?: boolean;
  concurrency: string;
}

const EXIT: Record<DrainOutcome['status'], number> = {
  drained: ExitCode.Ok,
  timeout: ExitCode.DrainTimeout,
  stuck: ExitCode.DrainStuck,
};

const splitList = (values: string[]): string[] => [
  ...new Set(
    values
      .flatMap((v) => v.split(','))
      .map((s) => s.trim())
      .filter(Boolean),
  ),
];

const usage = (message: string, hint: string): KbackupError => new KbackupError('USAGE', message, { hint });

function policyFrom(flags: DrainFlags): DrainPolicy {
  if (flags.maxLag === undefined && flags.strategy === 'lag') {
    throw usage('--max-lag is required with --strategy lag', 'e.g. --max-lag 0 (fully caught up)');
  }
  return {
    strategy: flags.strategy,
    maxLag: flags.maxLag === undefined ? 0n : parseOffsetFlag('--max-lag', flags.maxLag),
    stableForMs: parseDuration('--stable-for', flags.stableFor),
    quietForMs: parseDuration('--quiet-for', flags.quietFor),
    window: parseIntFlag('--window', flags.window, 2, 1000),
    failOnStuck: flags.failOnStuck,
  };
}

/**
 * A view redrawn in place on a terminal: moves the cursor up over the previous drawing and clears. Lines
 * are cut to the terminal's width so that none wraps (a wrapped line would break the count).
 */
function terminalView(): { draw(text: string): void; clear(): void } {
  let drawn = 0;
  const erase = (): string => (drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '');
  return {
    draw(text) {
      const width = Math.max(20, (process.stderr.columns || 80) - 1);
      const lines = text.split('\n').map((line) => (line.length > width ? line.slice(0, width) : line));
      process.stderr.write(`${erase()}${lines.join('\n')}\n`);
      drawn = lines.length;
    },
    clear() {
      process.stderr.write(erase());
      drawn = 0;
    },
  };
}

async function drainCommand(ctx: CommandContext, flags: DrainFlags): Promise<number> {
  const groups = splitList(flags.group);
  if (groups.length === 0) throw usage('--group is required (repeatable)', 'e.g. --group orders-service');
  const topics = splitList(flags.topics);
  const policy = policyFrom(flags);
  if (flags.timeout === undefined) throw usage('--timeout is required', 'e.g. --timeout 10m');
  const timeoutMs = parseDuration('--timeout', flags.timeout);
  const intervalMs = parseDuration('--interval', flags.interval);
  if (intervalMs < 100) throw usage('--interval must be at least 100ms', 'e.g. --interval 2s');
  if (timeoutMs <= 0) throw usage('--timeout must be more than 0', 'e.g. --timeout 10m');
  const concurrency = parseIntFlag('--concurrency', flags.concurrency, 1, 64);
  const jsonLines = flags.jsonLines === true;
  const showView = !ctx.quiet && !ctx.json && !jsonLines && process.stderr.isTTY;
  const view = terminalView();

  const { port } = ctx.kafka('--bootstrap', flags.bootstrap);
  let outcome: DrainOutcome;
  try {
    outcome = await runDrain(port, {
      groups,
      ...(topics.length > 0 ? { topics } : {}),
      policy,
      intervalMs,
      timeoutMs,
      concurrency,
      signal: ctx.signal,
      onPoll(evaluation, poll, elapsedMs) {
        if (jsonLines) {
          process.stdout.write(stringifyWithBigInt(pollLine(evaluation, poll, elapsedMs), 0));
        }
        if (showView) view.draw(viewText(evaluation, policy, poll, elapsedMs, table));
      },
    });
  } finally {
    if (showView) view.clear();
    await port.close();
  }
  const exitCode = EXIT[outcome.status];
  ctx.summarize({
    topics: [...new Set(outcome.evaluation.groups.flatMap((g) => g.partitions.map((p) => p.topic)))].sort(),
  });
  const document = drainDocument(outcome, policy, exitCode);
  if (jsonLines) process.stdout.write(stringifyWithBigInt({ type: 'result', ...document }, 0));
  else if (ctx.json) ctx.printJson(document);
  else ctx.print(summaryText(outcome, policy, table));
  return exitCode;
}

export function registerDrain(program: Command, run: Run): void {
  program
    .command('drain')
    .description(
      'wait until consumer groups have caught up (exit 0), time out (10) or look stuck (11), e.g. before a cutover',
    )
    .option('--bootstrap <host:port,...>', 'cluster brokers')
    .option('--group <group>', 'consumer group to wait for (repeatable, or comma-separated)', collect, [])
    .option(
      '--topics <list>',
      "every partition of these topics (comma-separated; default: the group's committed topics)",
      collect,
      [],
    )
    .option('--max-lag <n>', 'a partition at lag <= n is caught up (required with --strategy lag)')
    .option('--stable-for <duration>', 'lag strategy: every partition caught up for this long', '30s')
    .option('--timeout <duration>', 'give up after this long with exit 10 (required), e.g. 10m')
    .option('--interval <duration>', 'pause between polls (at least 100ms)', '2s')
    .option('--window <polls>', 'polls per partition in the stuck evaluation window (2-1000)', '10')
    .addOption(
      new Option('--strategy <strategy>', 'lag: caught up and stable; time: caught up and no new records')
        .choices(['lag', 'time'])
        .default('lag'),
    )
    .option('--quiet-for <duration>', 'time strategy: no new records on the topics for this long', '60s')
    .option('--no-fail-on-stuck', 'keep waiting until --timeout when a group is STALL, STOP or REWIND')
    .option('--json-lines', 'print one JSON line per poll on stdout, and the result as the last line')
    .option('--concurrency <n>', 'topics whose offsets are read at the same time', '4')
    .addHelpText(
      'after',
      '\nLag is end - committed per partition, where end is the last stable offset (so open or aborted\n' +
        'transaction tails are not lag) and a partition without a commit has lag end - log start.\n' +
        'See docs/DRAIN.md for the STALL/STOP/REWIND/WARNING rules.',
    )
    .action(async (flags: DrainFlags) => {
      await run((ctx) => drainCommand(ctx, flags));
    });
}
