import { fetchV13, fetchV14, fetchV15, fetchV16, fetchV17, Reader, Writer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { hasApiError } from '../../../src/adapters/platformatic/errors.js';
import {
  fetchBuffers,
  parseRawResponse,
  type RawFetchPartition,
} from '../../../src/adapters/platformatic/raw-fetch.js';
import { encodeBatches } from './raw-batches.js';

const CLIENT_PARSERS = { 13: fetchV13, 14: fetchV14, 15: fetchV15, 16: fetchV16, 17: fetchV17 } as const;
const VERSIONS = [13, 14, 15, 16, 17] as const;
const TOPIC_ID = '0b6c3d1e-2f4a-4b5c-8d9e-0f1a2b3c4d5e';
const BATCHES = encodeBatches([
  { baseOffset: 40n, records: [{ offsetDelta: 0 }, { offsetDelta: 1 }] },
  { baseOffset: 42n, records: [{ offsetDelta: 0, value: Buffer.alloc(3000, 1) }], compression: 'zstd' },
]);

interface PartitionSpec {
  index: number;
  errorCode?: number;
  /** undefined: a null records field; an empty Buffer: zero-length records. */
  records?: Buffer;
}

/**
 * A Fetch v13+ response as a broker sends it. The Writer keeps it as several chunks, so a Reader over it
 * also exercises the case where the record bytes straddle chunks.
 */
function response(version: number, partitions: PartitionSpec[], errorCode = 0): Writer {
  const w = Writer.create().appendInt32(0).appendInt16(errorCode).appendInt32(77);
  w.appendArray([TOPIC_ID], (w, id) => {
    w.appendUUID(id).appendArray(
      partitions,
      (w, p) => {
        w.appendInt32(p.index)
          .appendInt16(p.errorCode ?? 0)
          .appendInt64(100n)
          .appendInt64(90n)
          .appendInt64(3n)
          .appendArray([{ producerId: 7n, firstOffset: 41n }], (w, a) => {
            w.appendInt64(a.producerId).appendInt64(a.firstOffset);
          })
          .appendInt32(-1);
        if (p.records === undefined) w.appendUnsignedVarInt(0);
        else w.appendUnsignedVarInt(p.records.length + 1);
        // (The client's DynamicBuffer misreads across an empty chunk, which a socket never delivers.)
        if (p.records?.length) w.append(p.records);
        // Tagged field 1, current_leader: leader 2, epoch 5.
        w.appendUnsignedVarInt(1)
          .appendUnsignedVarInt(1)
          .appendUnsignedVarInt(8)
          .appendInt32(2)
          .appendInt32(5);
      },
      true,
      false,
    );
  });
  if (version >= 16) {
    // Tagged field 0, node_endpoints.
    const endpoints = Writer.create().appendArray([{ id: 2, host: 'b2', port: 9092 }], (w, n) => {
      w.appendInt32(n.id).appendString(n.host).appendInt32(n.port).appendString(null);
    }).buffer;
    w.appendUnsignedVarInt(1)
      .appendUnsignedVarInt(0)
      .appendUnsignedVarInt(endpoints.length)
      .append(endpoints);
  } else {
    w.appendTaggedFields();
  }
  return w;
}

/** The errors inside a ResponseError, without their stacks (which name the parser that threw). */
const errorsOf = (error: Error): unknown =>
  ((error as { errors?: Error[] }).errors ?? []).map(({ stack: _stack, ...rest }) => rest);

describe('parseRawResponse', () => {
  it.each(VERSIONS)(
    'parses a Fetch v%s response as the client does, keeping the record bytes raw',
    (version) => {
      const bytes = response(version, [
        { index: 0, records: BATCHES },
        { index: 1 },
        { index: 2, records: Buffer.alloc(0) },
      ]);
      expect(bytes.dynamicBuffer.buffers.length).toBeGreaterThan(1);
      const client = CLIENT_PARSERS[version].parseResponse(0, 1, version, Reader.from(bytes));
      const raw = parseRawResponse(0, 1, version, Reader.from(bytes));

      const partitions = raw.responses[0]?.partitions as RawFetchPartition[];
      expect(partitions.map((p) => p.recordsBytes)).toEqual([BATCHES, null, null]);
      expect(partitions.map((p) => p.records)).toEqual([[], null, []]);
      // Apart from the records, the same response object.
      const withoutRecords = partitions.map(({ records: _r, recordsBytes: _b, ...rest }) => rest);
      const clientPartitions = client.responses[0]?.partitions.map(({ records: _r, ...rest }) => rest);
      expect(withoutRecords).toEqual(clientPartitions);
      expect({ ...raw, responses: [] }).toEqual({ ...client, responses: [] });
      expect(raw.responses[0]?.topicId).toBe(TOPIC_ID);
      expect(client.responses[0]?.partitions[0]?.records?.map((b) => b.firstOffset)).toEqual([40n, 42n]);
      if (version >= 16)
        expect(raw.nodeEndpoints).toEqual([{ nodeId: 2, host: 'b2', port: 9092, rack: null }]);
    },
  );

  it.each(VERSIONS)('throws the same ResponseError as the client for v%s error codes', (version) => {
    for (const bytes of [
      response(version, [
        { index: 0, records: BATCHES },
        { index: 1, errorCode: 6 },
      ]),
      response(version, [], 71),
    ]) {
      const thrown = (parse: () => unknown): Error => {
        try {
          parse();
        } catch (error) {
          return error as Error;
        }
        throw new Error('expected an error');
      };
      const client = thrown(() => CLIENT_PARSERS[version].parseResponse(0, 1, version, Reader.from(bytes)));
      const raw = thrown(() => parseRawResponse(0, 1, version, Reader.from(bytes)));
      expect(raw.constructor).toBe(client.constructor);
      expect(raw.message).toBe(client.message);
      expect(errorsOf(raw)).toEqual(errorsOf(client));
      for (const id of ['NOT_LEADER_OR_FOLLOWER', 'INVALID_FETCH_SESSION_EPOCH']) {
        expect(hasApiError(raw, id)).toBe(hasApiError(client, id));
      }
    }
  });

  it('copies the record bytes out of the socket chunks into pooled memory, reused once released', () => {
    const recordsOf = (): Buffer => {
      const raw = parseRawResponse(0, 1, 17, Reader.from(response(17, [{ index: 0, records: BATCHES }])));
      return (raw.responses[0]?.partitions[0] as RawFetchPartition).recordsBytes as Buffer;
    };
    const first = recordsOf();
    expect(first.equals(BATCHES)).toBe(true);
    expect(first.buffer.byteLength).toBe(fetchBuffers.bufferBytes);
    fetchBuffers.release(first);
    const second = recordsOf();
    expect(second.buffer).toBe(first.buffer);
    expect(second.equals(BATCHES)).toBe(true);
    // Taken and not released: the next response gets other memory.
    expect(recordsOf().buffer).not.toBe(second.buffer);
  });
});
