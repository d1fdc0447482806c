import { kGetApi, kGetConnection, ResponseError, type Producer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { IdempotentProducer } from '../../../src/adapters/platformatic/produce.js';
import { KbackupError } from '../../../src/core/errors.js';
import type { ProduceRecord } from '../../../src/core/ports/kafka-port.js';

const LEADER = { host: '127.0.0.1', port: 9092 };

/** What the fake broker saw of one Produce request. */
interface SeenBatch {
  producerId: bigint;
  firstSequence: number;
  count: number;
}

type Answer = { baseOffset: bigint } | { error: Error };

/**
 * A stand-in for the client's Producer: InitProducerId answers producer id 7, Produce v11 is negotiated,
 * and the connection decodes each request's record batch header and answers from `answers` in order.
 */
function fakeClient(answers: Answer[]) {
  const seen: SeenBatch[] = [];
  let inits = 0;
  const connection = {
    send(
      _key: number,
      _version: number,
      createPayload: () => { buffer: Buffer },
      _parse: unknown,
      _requestTagged: boolean,
      _responseTagged: boolean,
      callback: (error: Error | null, response?: unknown) => void,
    ) {
      const request = createPayload().buffer;
      // The batch is the only part of the request that starts with 8 zero bytes and has magic 2 at 16.
      const at = request.findIndex((_, i) => request.readBigInt64BE(i) === 0n && request[i + 16] === 2);
      seen.push({
        producerId: request.readBigInt64BE(at + 43),
        firstSequence: request.readInt32BE(at + 53),
        count: request.readInt32BE(at + 57),
      });
      const answer = answers.shift();
      if (!answer) throw new Error('no answer scripted');
      queueMicrotask(() => {
        if ('error' in answer) callback(answer.error);
        else callback(null, { responses: [{ name: 't', partitionResponses: [{ index: 0, ...answer }] }] });
      });
    },
  };
  const client = {
    initIdempotentProducer: () => {
      inits++;
      return Promise.resolve({ producerId: 7n, producerEpoch: 0 });
    },
    [kGetApi]: (_name: string, callback: (error: Error | null, api: { version: number }) => void) => {
      callback(null, { version: 11 });
    },
    [kGetConnection]: (_broker: unknown, callback: (error: Error | null, c: unknown) => void) => {
      callback(null, connection);
    },
  };
  return { client: client as unknown as Producer, seen, inits: () => inits };
}

const records = (n: number): ProduceRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    key: null,
    value: Buffer.from(`v${i}`),
    headers: [],
    timestamp: 1_000n,
  }));

const failureOf = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (error: unknown) => error,
  );

function expectRefused(error: unknown, code: string, message: RegExp): void {
  expect(error).toBeInstanceOf(KbackupError);
  expect((error as KbackupError).code).toBe(code);
  expect((error as KbackupError).message).toMatch(message);
}

const lostAnswer = (): Answer => ({
  error: Object.assign(new Error('timed out'), { code: 'PLT_KFK_TIMEOUT' }),
});

describe('IdempotentProducer', () => {
  it('advances the sequence by the records acknowledged, per partition, with one producer id', async () => {
    const fake = fakeClient([{ baseOffset: 0n }, { baseOffset: 3n }, { baseOffset: 0n }]);
    const producer = new IdempotentProducer(fake.client, 1000);
    expect(await producer.produce(LEADER, 't', 0, records(3))).toBe(0n);
    expect(await producer.produce(LEADER, 't', 0, records(2))).toBe(3n);
    expect(await producer.produce(LEADER, 't', 1, records(4))).toBe(0n);
    expect(fake.seen).toEqual([
      { producerId: 7n, firstSequence: 0, count: 3 },
      { producerId: 7n, firstSequence: 3, count: 2 },
      { producerId: 7n, firstSequence: 0, count: 4 },
    ]);
    expect(fake.inits()).toBe(1);
  });

  it('retries a failed batch with the same sequence, so the broker can recognize a duplicate', async () => {
    const fake = fakeClient([{ baseOffset: 0n }, lostAnswer(), { baseOffset: 5n }, { baseOffset: 8n }]);
    const producer = new IdempotentProducer(fake.client, 1000);
    await producer.produce(LEADER, 't', 0, records(5));
    await expect(producer.produce(LEADER, 't', 0, records(3))).rejects.toThrow('timed out');
    expect(await producer.produce(LEADER, 't', 0, records(3))).toBe(5n);
    expect(await producer.produce(LEADER, 't', 0, records(1))).toBe(8n);
    expect(fake.seen.map((b) => b.firstSequence)).toEqual([0, 5, 5, 8]);
  });

  it('refuses another batch in place of a failed one, and a second call while one is in flight', async () => {
    const fake = fakeClient([lostAnswer(), { baseOffset: 0n }]);
    const producer = new IdempotentProducer(fake.client, 1000);
    await expect(producer.produce(LEADER, 't', 0, records(3))).rejects.toThrow('timed out');
    // With the failed batch's sequence, a different batch would be taken for its duplicate and dropped.
    expectRefused(
      await failureOf(producer.produce(LEADER, 't', 0, records(2))),
      'INTERNAL',
      /failed batch of 3 records must be retried/,
    );
    const first = producer.produce(LEADER, 't', 0, records(3));
    await expect(producer.produce(LEADER, 't', 0, records(3))).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await first).toBe(0n);
    expect(fake.seen.map((b) => b.firstSequence)).toEqual([0, 0]);
  });

  it('fails on lost producer state instead of taking a new producer id', async () => {
    // Error code 59 is UNKNOWN_PRODUCER_ID.
    const lost = new ResponseError(0, 11, { '/responses/0/partition_responses/0': [59, null] }, {});
    const fake = fakeClient([{ error: lost }]);
    const producer = new IdempotentProducer(fake.client, 1000);
    expectRefused(
      await failureOf(producer.produce(LEADER, 't', 0, records(1))),
      'KAFKA',
      /no longer knows this run's producer state/,
    );
    expect(fake.inits()).toBe(1);
  });
});
