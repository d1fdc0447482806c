import {
  Consumer,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  kGetApi,
  readKnownTaggedFields,
  ResponseError,
  type API,
  type Callback,
  type Reader,
  type ResponseErrorWithLocation,
} from '@platformatic/kafka';
import { BufferPool } from '../../core/buffer-pool.js';
import { answerWithReplacement, replacementApis } from './api-swap.js';

/**
 * A fetched partition whose record batches are left undecoded: `records` is always empty (so the client's
 * read_committed filter, which walks `records`, has nothing to do) and `recordsBytes` holds the partition's
 * COMPACT_RECORDS bytes, decoded by fetch-decoder.ts straight into BackupRecords.
 */
export interface RawFetchPartition extends fetchV17.FetchResponsePartition {
  /** Taken from fetchBuffers: release it there once nothing refers to the records' bytes any more. */
  recordsBytes: Buffer | null;
}

/**
 * The fetched record bytes are copied into reused buffers (see BufferPool): a fresh buffer per fetch was
 * the largest share of backup's malloc churn. Fetches larger than a buffer get memory of their own.
 */
export const fetchBuffers = new BufferPool(2 * 1024 * 1024, 4);

/** Copies `size` bytes at the reader's position, which may span several socket chunks, into one buffer. */
function takeRecordsBytes(reader: Reader, size: number): Buffer {
  const bytes = fetchBuffers.take(size);
  let at = 0;
  for (const chunk of reader.buffer.subarray(reader.position, reader.position + size).buffers) {
    at += chunk.copy(bytes, at);
  }
  return bytes;
}

/** Fetch v13 to v17 share the response layout parsed below (topic ids, tagged fields). */
const REQUEST_CREATORS: Partial<Record<number, typeof fetchV17.createRequest>> = {
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest,
};
const FETCH_KEY = 1;

/**
 * The client's Fetch v13-v17 parseResponse (same response object, same ResponseError for error codes, so
 * errors.ts maps failures as before), except that record batches are not decoded: the client's reader would
 * build an object per record (and a DynamicBuffer view per field), which kbackup then copied into its own
 * objects. The bytes are copied into one buffer from fetchBuffers.
 */
export function parseRawResponse(
  _correlationId: number,
  apiKey: number,
  apiVersion: number,
  reader: Reader,
): fetchV17.FetchResponse {
  const errors: ResponseErrorWithLocation[] = [];
  const throttleTimeMs = reader.readInt32();
  const errorCode = reader.readInt16();
  // The client reports a top-level error at '/' up to v14 and at '' from v15: keep its paths.
  if (errorCode !== 0) errors.push([apiVersion <= 14 ? '/' : '', [errorCode, null]]);
  const response: fetchV17.FetchResponse = {
    throttleTimeMs,
    errorCode,
    sessionId: reader.readInt32(),
    responses: reader.readArray((r, i) => ({
      topicId: r.readUUID(),
      partitions: r.readArray(
        (r, j): RawFetchPartition => {
          const partition: RawFetchPartition = {
            partitionIndex: r.readInt32(),
            errorCode: r.readInt16(),
            highWatermark: r.readInt64(),
            lastStableOffset: r.readInt64(),
            logStartOffset: r.readInt64(),
            divergingEpoch: { epoch: -1, endOffset: -1n },
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
            snapshotId: { endOffset: -1n, epoch: -1 },
            abortedTransactions: r.readNullableArray((r) => ({
              producerId: r.readInt64(),
              firstOffset: r.readInt64(),
            })),
            preferredReadReplica: r.readInt32(),
            records: [],
            recordsBytes: null,
          };
          if (partition.errorCode !== 0) {
            errors.push([`/responses/${i}/partitions/${j}`, [partition.errorCode, null]]);
          }
          // COMPACT_RECORDS: unsigned varint length + 1 (0 = null), then the batches.
          const size = r.readUnsignedVarInt() - 1;
          if (size < 0) partition.records = null;
          else if (size > 0) {
            partition.recordsBytes = takeRecordsBytes(r, size);
            r.skip(size);
          }
          readKnownTaggedFields(r, {
            0: (r) => {
              partition.divergingEpoch = { epoch: r.readInt32(), endOffset: r.readInt64() };
            },
            1: (r) => {
              partition.currentLeader = { leaderId: r.readInt32(), leaderEpoch: r.readInt32() };
            },
            2: (r) => {
              partition.snapshotId = { endOffset: r.readInt64(), epoch: r.readInt32() };
            },
          });
          return partition;
        },
        true,
        false,
      ),
    })),
  };
  readKnownTaggedFields(
    reader,
    apiVersion < 16
      ? {}
      : {
          0: (r) => {
            response.nodeEndpoints = r.readArray((r) => ({
              nodeId: r.readInt32(),
              host: r.readString(),
              port: r.readInt32(),
              rack: r.readNullableString(),
            }));
          },
        },
  );
  if (errors.length > 0) {
    throw new ResponseError(apiKey, apiVersion, Object.fromEntries(errors), response);
  }
  return response;
}

/** Fetch with the raw parser, for the versions REQUEST_CREATORS covers. */
const rawFetchApi = replacementApis(
  FETCH_KEY,
  (version) => REQUEST_CREATORS[version],
  () => parseRawResponse,
);

/**
 * A Consumer whose Fetch requests return undecoded record batches (see RawFetchPartition). The client picks
 * the highest Fetch version both sides support; this swaps in the raw parser for that version. Every broker
 * kbackup supports (Kafka 3.5+) speaks Fetch v13 or later, so older versions are refused rather than parsed.
 */
export class RawFetchConsumer extends Consumer {
  override [kGetApi]<R extends unknown[], T>(name: string, callback: Callback<API<R, T>>): void {
    answerWithReplacement(
      name,
      'Fetch',
      (negotiated: Callback<API<R, T>>) => {
        super[kGetApi](name, negotiated);
      },
      callback,
      rawFetchApi,
      (version) =>
        `The broker's newest usable Fetch version is ${version}; kbackup needs Fetch v13+ (Kafka 3.1 or later).`,
    );
  }
}
