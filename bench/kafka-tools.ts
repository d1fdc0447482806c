import { randomBytes } from 'node:crypto';
import { assertOk, runMeasured, type Measured } from './proc.js';

/** Kafka's own perf tools, run from the harness's jar directory: the baselines kbackup is compared with. */

/** JVM flags of a perf tool: a modest heap, since broker, tool and kbackup share two cores. */
const TOOL_JVM = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', '-Djava.awt.headless=true'];

/**
 * Producer settings of the data load, which is also the restore baseline. acks=all and idempotence like
 * kbackup restore; no producer compression (kbackup restore sends uncompressed batches); batches of
 * 256 KiB with a 10 ms linger, so the Java producer is not held back by its 16 KiB default while kbackup
 * sends up to 900 KiB per partition and request.
 */
export const PRODUCER_PROPS = [
  'acks=all',
  'enable.idempotence=true',
  'compression.type=none',
  'batch.size=262144',
  'linger.ms=10',
  'buffer.memory=67108864',
];

export interface ToolRate {
  records: number;
  recordsPerSec: number;
  /** MiB/s as the tool prints it ("MB" in Kafka's tools is 1024*1024 bytes). */
  mibPerSec: number;
  run: Measured;
}

export interface ProducerPerfResult extends ToolRate {
  avgLatencyMs: number;
  p99LatencyMs: number;
}

export interface ConsumerPerfResult extends ToolRate {
  /** Throughput without the group join (the tool's fetch.MB.sec). */
  fetchMibPerSec: number;
  rebalanceMs: number;
}

/** Parses ProducerPerformance's summary line ("N records sent, R records/sec (M MB/sec), ... 50th, ..."). */
export function parseProducerSummary(output: string): Omit<ProducerPerfResult, 'run'> {
  const line = output
    .split('\n')
    .reverse()
    .find((l) => l.includes('50th'));
  const m =
    line === undefined
      ? null
      : /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.* (\d+) ms 99th/.exec(
          line.trim(),
        );
  if (!m) throw new Error(`ProducerPerformance printed no summary line:\n${output.slice(-2000)}`);
  return {
    records: Number(m[1]),
    recordsPerSec: Number(m[2]),
    mibPerSec: Number(m[3]),
    avgLatencyMs: Number(m[4]),
    p99LatencyMs: Number(m[5]),
  };
}

/** Parses ConsumerPerformance's header + values lines into the named columns. */
export function parseConsumerSummary(output: string): Omit<ConsumerPerfResult, 'run'> {
  const lines = output.split('\n').map((l) => l.trim());
  const headerAt = lines.findIndex((l) => l.startsWith('start.time'));
  const header = lines[headerAt]?.split(',').map((s) => s.trim());
  const values = lines[headerAt + 1]?.split(',').map((s) => s.trim());
  if (headerAt < 0 || header === undefined || values === undefined) {
    throw new Error(`ConsumerPerformance printed no result line:\n${output.slice(-2000)}`);
  }
  const column = (name: string): number => {
    const i = header.indexOf(name);
    const v = Number(values[i]);
    if (i < 0 || !Number.isFinite(v))
      throw new Error(`ConsumerPerformance: no numeric "${name}" in\n${output}`);
    return v;
  };
  return {
    records: column('data.consumed.in.nMsg'),
    recordsPerSec: column('nMsg.sec'),
    mibPerSec: column('MB.sec'),
    fetchMibPerSec: column('fetch.MB.sec'),
    rebalanceMs: column('rebalance.time.ms'),
  };
}

export interface ToolContext {
  libs: string;
  bootstrap: string;
  brokerPid: number;
}

/** Produces `records` payloads picked at random from `payloadFile` into `topic` and returns the summary. */
export async function producerPerformance(
  ctx: ToolContext,
  topic: string,
  records: number,
  payloadFile: string,
): Promise<ProducerPerfResult> {
  const run = await runMeasured(
    'java',
    [
      ...TOOL_JVM,
      '-cp',
      `${ctx.libs}/*`,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--payload-file',
      payloadFile,
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${ctx.bootstrap}`,
      ...PRODUCER_PROPS,
    ],
    { brokerPid: ctx.brokerPid },
  );
  assertOk(run, 'ProducerPerformance');
  const summary = parseProducerSummary(run.stdout);
  if (summary.records !== records) {
    throw new Error(`ProducerPerformance sent ${summary.records} records, expected ${records}`);
  }
  return { ...summary, run };
}

/** Consumes `records` from `topic` with a fresh consumer group and returns the summary. */
export async function consumerPerformance(
  ctx: ToolContext,
  topic: string,
  records: number,
): Promise<ConsumerPerfResult> {
  const run = await runMeasured(
    'java',
    [
      ...TOOL_JVM,
      '-cp',
      `${ctx.libs}/*`,
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      ctx.bootstrap,
      '--topic',
      topic,
      '--messages',
      String(records),
      '--group',
      `kbackup-bench-${randomBytes(4).toString('hex')}`,
      '--timeout',
      '120000',
    ],
    { brokerPid: ctx.brokerPid },
  );
  assertOk(run, 'ConsumerPerformance');
  const summary = parseConsumerSummary(run.stdout);
  if (summary.records < records) {
    throw new Error(`ConsumerPerformance consumed ${summary.records} records, expected ${records}`);
  }
  return { ...summary, run };
}
