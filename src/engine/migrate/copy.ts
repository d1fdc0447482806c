import { setTimeout as delay } from 'node:timers/promises';
import { tagTopic } from '../../core/errors.js';
import { QuietTracker, caughtUp } from '../../core/migrate/drain.js';
import type { MigrateState } from '../../core/migrate/state.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import { copyPartition, Gate, type CopyContext, type LivePartition } from './partition.js';
import type { MigrateObserver, MigrateOptions } from './run.js';
import { PeriodicSaver, type MigrateStateStore } from './state-store.js';

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Runs every partition's copy until its cut, until drained, or until stopped; saves progress as it goes. */
export async function copyAll(
  source: KafkaPort,
  target: KafkaPort,
  store: MigrateStateStore,
  state: MigrateState,
  live: LivePartition[],
  options: MigrateOptions,
  observer: MigrateObserver,
): Promise<'complete' | 'stopped' | 'interrupted'> {
  const stopper = new AbortController();
  const stop = (): void => {
    stopper.abort();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  const saver = new PeriodicSaver(store, state, options.saveIntervalMs ?? 1_000);
  saver.start();
  const ticker = setInterval(() => observer.partitions?.(live), 1_000);
  // Written from callbacks: kept in an object so that the checks below are not narrowed away.
  const end: { failure?: { error: unknown }; drained: boolean } = { drained: false };
  const fail = (error: unknown): void => {
    end.failure ??= { error };
    stop();
  };
  const ctx: CopyContext = {
    source,
    target,
    isolation: options.isolation,
    batchMaxBytes: options.batchMaxBytes,
    gate: new Gate(options.concurrency),
    stop: stopper.signal,
    changed: () => {
      saver.changed();
    },
    observer,
  };
  const watching =
    options.mode === 'until-drained'
      ? watchDrain(source, live, options, stopper.signal).then((quiet) => {
          end.drained = quiet;
          stop();
        }, fail)
      : Promise.resolve();
  try {
    await Promise.all(
      live.map((l) =>
        copyPartition(ctx, l).catch((error: unknown) => {
          tagTopic(error, l.entry.sourceTopic);
          fail(error);
        }),
      ),
    );
    stop();
    await watching;
  } finally {
    clearInterval(ticker);
    options.signal?.removeEventListener('abort', stop);
    if (end.failure) state.lastRun.status = 'failed';
    // The final save: on a failure, report the failure rather than a failed save after it.
    const saved = saver.stop();
    if (end.failure) await saved.catch(() => undefined);
    else await saved;
  }
  observer.partitions?.(live);
  if (end.failure) throw end.failure.error;
  if (options.mode === 'follow') return 'stopped';
  if (options.mode === 'until-drained') return end.drained ? 'complete' : 'interrupted';
  return live.every((l) => l.done) ? 'complete' : 'interrupted';
}

/** Resolves true once the source was quiet for --quiet-for and the copy caught up; false when stopped. */
async function watchDrain(
  source: KafkaPort,
  live: LivePartition[],
  options: MigrateOptions,
  signal: AbortSignal,
): Promise<boolean> {
  const tracker = new QuietTracker(options.quietForMs);
  const interval = Math.max(100, Math.min(1_000, Math.floor(options.quietForMs / 4)));
  const topics = [...new Set(live.map((l) => l.entry.sourceTopic))];
  while (!signal.aborted) {
    const ends = new Map<string, bigint>();
    for (const topic of topics) {
      const mine = live.filter((l) => l.entry.sourceTopic === topic).map((l) => l.entry.partition);
      for (const [p, o] of await source.partitionOffsets(topic, mine)) {
        ends.set(
          key(topic, p),
          options.isolation === 'read_committed' ? o.lastStableOffset : o.highWatermark,
        );
      }
    }
    const now = Date.now();
    tracker.observe(now, ends);
    const positions = new Map(live.map((l) => [key(l.entry.sourceTopic, l.entry.partition), l.position]));
    if (tracker.quiet(now) && caughtUp(positions, ends)) return true;
    await delay(interval, undefined, { signal }).catch(() => undefined);
  }
  return false;
}
