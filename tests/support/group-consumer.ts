import { Consumer, FetchIsolationLevels, type Message } from '@platformatic/kafka';
import { clientOptions, highWatermarks, lastStableOffsets, type Isolation } from './kafka-helpers.js';

export interface ConsumedRecord {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * A real consumer in a consumer group: joins the group, resumes at the group's committed offsets (earliest
 * when it has none), reads up to `max` records (or until it has reached the end of every partition),
 * commits what it read, and leaves. This is what an application does, so tests that resume a group after a
 * restore prove the translated offsets the way users will experience them.
 */
export async function consumeAsGroup(
  bootstrap: string,
  groupId: string,
  topic: string,
  options: { max?: number; isolation?: Isolation; timeoutMs?: number } = {},
): Promise<ConsumedRecord[]> {
  const isolation = options.isolation ?? 'read_committed';
  const ends =
    isolation === 'read_committed'
      ? await lastStableOffsets(bootstrap, topic)
      : await highWatermarks(bootstrap, topic);
  const consumer = new Consumer({
    ...clientOptions(bootstrap, `kbackup-test-${groupId}`),
    groupId,
    isolationLevel:
      isolation === 'read_committed'
        ? FetchIsolationLevels.READ_COMMITTED
        : FetchIsolationLevels.READ_UNCOMMITTED,
    autocommit: false,
    maxWaitTime: 200,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  const out: ConsumedRecord[] = [];
  const max = options.max ?? Number.POSITIVE_INFINITY;
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
    const caughtUp = (): boolean =>
      ends.every((end, partition) => (stream.offsetsToFetch.get(`${topic}:${partition}`) ?? -1n) >= end);
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Message>;
    // The stream fetches ahead of what the application has read, so "caught up" is judged only when no
    // message arrives for a moment AND the fetch position has reached the end of every partition.
    // One next() at a time: a second call while the first is pending would hand the first message to the
    // abandoned promise, and the record would be skipped yet committed past.
    let pending: Promise<IteratorResult<Message>> | undefined;
    while (out.length < max) {
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(
          `consumer ${groupId} read ${out.length} records and did not reach the end of ${topic}`,
        );
      pending ??= iterator.next();
      let timer: NodeJS.Timeout | undefined;
      const next = await Promise.race([
        pending,
        new Promise<'idle'>((resolve) => {
          timer = setTimeout(
            () => {
              resolve('idle');
            },
            Math.min(remaining, 500),
          );
        }),
      ]);
      clearTimeout(timer);
      if (next === 'idle') {
        if (caughtUp()) break;
        continue;
      }
      pending = undefined;
      if (next.done === true) break;
      const message = next.value;
      out.push({
        partition: message.partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
      });
      await message.commit();
    }
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return out;
}
