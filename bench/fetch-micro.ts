// Micro-benchmark of backup's main-thread path without a broker: fetched Kafka batches (uncompressed, as
// the benchmark's ProducerPerformance writes them) are checked, transcoded into the segment encoding and
// copied into segment blocks with codec none, both CRC-32C passes included. Prints CPU time per GiB.
// Usage: npx tsx bench/fetch-micro.ts [--record-size 1024] [--mib 256] [--rounds 4]
import { parseArgs } from 'node:util';
import { encodeRecordBatch } from '../src/adapters/platformatic/batch-writer.js';
import { streamFetchedBatches, type FetchedPartition } from '../src/adapters/platformatic/fetch-decoder.js';
import { SegmentBuilder } from '../src/core/segment/builder.js';

const { values } = parseArgs({
  options: {
    'record-size': { type: 'string', default: '1024' },
    mib: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '4' },
  },
});
const RECORD_BYTES = Number(values['record-size']);
const MIB = Number(values.mib);
const BATCH_BYTES = 256 * 1024;
const FETCH_BYTES = 1024 * 1024;

const perBatch = Math.max(1, Math.floor(BATCH_BYTES / (RECORD_BYTES + 10)));
const fetches: { raw: Buffer; offset: bigint }[] = [];
let offset = 0n;
let payload = 0;
let pending: Buffer[] = [];
let pendingBytes = 0;
let fetchStart = 0n;
while (payload < MIB * 1024 * 1024) {
  const records = Array.from({ length: perBatch }, (_, i) => ({
    key: null,
    value: Buffer.alloc(RECORD_BYTES, 97 + (i % 20)),
    headers: [],
    timestamp: 1_735_689_600_000n + offset + BigInt(i),
  }));
  const header = { producerId: 1n, producerEpoch: 0, firstSequence: 0, transactional: false };
  const batch = encodeRecordBatch(records, header, 0n);
  batch.writeBigInt64BE(offset, 0); // not covered by the CRC
  offset += BigInt(perBatch);
  payload += perBatch * RECORD_BYTES;
  pending.push(batch);
  pendingBytes += batch.length;
  if (pendingBytes >= FETCH_BYTES) {
    fetches.push({ raw: Buffer.concat(pending), offset: fetchStart });
    fetchStart = offset;
    pending = [];
    pendingBytes = 0;
  }
}
const partition: FetchedPartition = {
  highWatermark: offset,
  lastStableOffset: offset,
  logStartOffset: 0n,
  abortedTransactions: [],
};

async function backUpInMemory(): Promise<void> {
  const builder = new SegmentBuilder({ write: () => Promise.resolve() }, { codec: 'none' });
  for (const { raw, offset: from } of fetches) {
    const request = {
      topic: 't',
      partition: 0,
      offset: from,
      isolation: 'read_uncommitted',
      maxBytes: FETCH_BYTES,
    } as const;
    for (const run of streamFetchedBatches(request, partition, raw).batches) {
      const wait = builder.appendEncoded(run, 0, run.count);
      if (wait) await wait;
    }
  }
  await builder.finish();
}

for (let round = 1; round <= Number(values.rounds); round++) {
  const cpu = process.cpuUsage();
  await backUpInMemory();
  const used = process.cpuUsage(cpu);
  const seconds = (used.user + used.system) / 1e6;
  console.log(
    `round ${round}: ${RECORD_BYTES} B records, ${((seconds * 1024) / MIB).toFixed(2)} CPU-seconds per GiB of payload`,
  );
}
