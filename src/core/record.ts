/**
 * One Kafka record as kbackup stores it. Nothing is added and nothing is lost: null and empty are distinct
 * for keys, values and header values; headers keep their order and may repeat a key.
 */
export interface BackupRecord {
  /** Offset in the source partition. */
  offset: bigint;
  /** Milliseconds since the epoch, as the broker reported it (int64). */
  timestamp: bigint;
  /** 0 = CreateTime, 1 = LogAppendTime (bit 3 of the Kafka batch attributes). */
  timestampType: TimestampType;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** Kafka header keys are strings on the wire but are kept as raw bytes so that nothing is re-encoded. */
export type RecordHeader = [key: Buffer, value: Buffer | null];

export type TimestampType = 0 | 1;
export const CREATE_TIME: TimestampType = 0;
export const LOG_APPEND_TIME: TimestampType = 1;

/** Bytes a record contributes to "record bytes" throughput figures: key + value + header keys and values. */
export function recordPayloadBytes(record: BackupRecord): number {
  let size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [k, v] of record.headers) size += k.length + (v?.length ?? 0);
  return size;
}
