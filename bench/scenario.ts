import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTopic, deleteTopic, highWatermarks } from '../tests/support/kafka-helpers.js';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.js';
import { poolSize, writePayloadFile, type PayloadPool } from './dataset.js';
import { consumerPerformance, producerPerformance, type ToolContext } from './kafka-tools.js';
import { kbackupBackup, kbackupRestore, kbackupVerify, type CliContext } from './kbackup.js';
import type { DatasetResult, MemoryResult } from './report.js';

export interface BenchContext extends ToolContext {
  /** Temporary directory for payload files, repositories and profiles; deleted by the caller. */
  work: string;
  backupArgs: string[];
  restoreArgs: string[];
  log: (message: string) => void;
}

export interface DatasetSpec {
  name: string;
  size: number;
  recordSize: number;
  partitions: number;
  codecs: string[];
}

const fmt = (n: number) => n.toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function topicRecords(bootstrap: string, topic: string): Promise<number> {
  return Number((await highWatermarks(bootstrap, topic)).reduce((s, hw) => s + hw, 0n));
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

const pools = new Map<string, PayloadPool>();

/** The payload file for a record size (generated once per run, seeded). */
function payloadPool(ctx: BenchContext, recordSize: number, records: number): PayloadPool {
  const count = poolSize(recordSize, records);
  const key = `${recordSize}:${count}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = writePayloadFile(join(ctx.work, `payloads-${recordSize}-${count}.txt`), recordSize, count);
    pools.set(key, pool);
  }
  return pool;
}

/** Creates a topic and fills it with ProducerPerformance; returns the load's summary and the record count. */
async function loadTopic(
  ctx: BenchContext,
  topic: string,
  size: number,
  recordSize: number,
  partitions: number,
) {
  const pool = payloadPool(ctx, recordSize, Math.ceil(size / recordSize));
  const records = Math.max(1, Math.round(size / pool.meanBytes));
  await createTopic(ctx.bootstrap, topic, { partitions });
  ctx.log(`producing ${fmt(records)} records (~${mib(size)}) into ${topic} with ProducerPerformance`);
  const produce = await producerPerformance(ctx, topic, records, pool.file);
  check((await topicRecords(ctx.bootstrap, topic)) === records, `${topic} does not hold ${records} records`);
  ctx.log(`  ${produce.mibPerSec} MiB/s, ${fmt(produce.recordsPerSec)} records/s`);
  return { pool, records, produce };
}

/**
 * Produces and consumes a small topic once, unmeasured, so that the broker's produce and fetch paths are
 * JIT-compiled before anything is timed (a cold broker made the first ProducerPerformance run up to 2x slower).
 */
export async function warmUp(
  ctx: BenchContext,
  size: number,
  recordSize: number,
  partitions: number,
): Promise<void> {
  const topic = 'bench-warmup';
  try {
    ctx.log(`warm-up: ${mib(size)} through the broker`);
    const { records } = await loadTopic(ctx, topic, size, recordSize, partitions);
    await consumerPerformance(ctx, topic, records);
  } finally {
    await deleteTopic(ctx.bootstrap, topic).catch(() => undefined);
  }
}

/**
 * One data set: load it (the restore baseline), ConsumerPerformance, a backup and a verify per codec,
 * ConsumerPerformance again, then ProducerPerformance, a restore of the zstd backup (or the last codec)
 * into a new topic, and ProducerPerformance again.
 */
export async function runDataset(ctx: BenchContext, spec: DatasetSpec): Promise<DatasetResult> {
  const topic = `bench-${spec.name}`;
  const cli: CliContext = ctx;
  const { pool, records, produce } = await loadTopic(ctx, topic, spec.size, spec.recordSize, spec.partitions);
  const result: DatasetResult = {
    name: spec.name,
    topic,
    recordSize: spec.recordSize,
    meanRecordBytes: pool.meanBytes,
    partitions: spec.partitions,
    records,
    payloadBytes: 0,
    produce: [produce],
    consume: [],
    backups: [],
    verifies: [],
    restore: undefined,
  };
  const consume = async () => {
    ctx.log(`ConsumerPerformance on ${topic}`);
    const c = await consumerPerformance(ctx, topic, records);
    ctx.log(`  ${c.mibPerSec} MiB/s (fetch ${c.fetchMibPerSec} MiB/s), ${fmt(c.recordsPerSec)} records/s`);
    result.consume.push(c);
  };
  /** The restore baseline into a fresh topic: once right before the restore and once right after it. */
  const beforeRestore = `${topic}-producer-baseline`;
  const afterRestore = `${topic}-producer-after`;
  const produceBaseline = async (into: string) => {
    await createTopic(ctx.bootstrap, into, { partitions: spec.partitions });
    ctx.log(`ProducerPerformance into ${into}`);
    const p = await producerPerformance(ctx, into, records, pool.file);
    ctx.log(`  ${p.mibPerSec} MiB/s, ${fmt(p.recordsPerSec)} records/s`);
    result.produce.push(p);
  };
  const repos: string[] = [];
  const restored = `${topic}-restored`;
  try {
    await consume();
    for (const codec of spec.codecs) {
      const repo = join(ctx.work, `repo-${spec.name}-${codec}`);
      repos.push(repo);
      ctx.log(`kbackup backup --codec ${codec}`);
      const b = await kbackupBackup(cli, topic, repo, codec, ctx.backupArgs);
      check(b.records === records, `backup (${codec}) holds ${b.records} records, expected ${records}`);
      result.payloadBytes = b.payloadBytes;
      result.backups.push(b);
      ctx.log(
        `  ${(b.payloadBytes / 1024 / 1024 / (b.durationMs / 1000)).toFixed(1)} MiB/s, ${mib(b.peakRssBytes)} RSS`,
      );
      ctx.log(`kbackup verify (${codec})`);
      const v = await kbackupVerify(cli, repo, b.backupId);
      check(v.records === records, `verify (${codec}) checked ${v.records} records, expected ${records}`);
      result.verifies.push({ ...v, codec });
    }
    await consume();
    const source = result.backups.find((b) => b.codec.startsWith('zstd')) ?? result.backups.at(-1);
    if (source) {
      // The baseline again, right before the restore and under the same conditions.
      await produceBaseline(beforeRestore);
      // Created beforehand like the baseline's topic, so that neither measurement includes creating a topic
      // and waiting for its leaders (restore accepts an existing empty topic with enough partitions).
      await createTopic(ctx.bootstrap, restored, { partitions: spec.partitions });
      ctx.log(`kbackup restore of the ${source.codec} backup into ${restored}`);
      const repo = join(ctx.work, `repo-${spec.name}-${source.codec}`);
      const r = await kbackupRestore(cli, repo, source.backupId, `${topic}=${restored}`, ctx.restoreArgs);
      check(r.records === records, `restore wrote ${r.records} records, expected ${records}`);
      check(
        (await topicRecords(ctx.bootstrap, restored)) === records,
        `${restored} does not hold ${records} records`,
      );
      result.restore = r;
      ctx.log(
        `  ${(r.payloadBytes / 1024 / 1024 / (r.durationMs / 1000)).toFixed(1)} MiB/s, ${mib(r.peakRssBytes)} RSS`,
      );
      // And once more after it, as ConsumerPerformance brackets the backups: the broker slows as it fills,
      // and the machine's speed drifts, so the runs on either side show what the restore ran against.
      await produceBaseline(afterRestore);
    }
    return result;
  } finally {
    for (const repo of repos) rmSync(repo, { recursive: true, force: true });
    // Free the broker's disk and page cache for the next data set; failures here do not hide the result.
    for (const t of [topic, restored, beforeRestore, afterRestore]) {
      await deleteTopic(ctx.bootstrap, t).catch(() => undefined);
    }
  }
}

/** Backs up topics of growing size (zstd) to show that peak RSS does not grow with the topic. */
export async function runMemory(
  ctx: BenchContext,
  sizes: number[],
  recordSize: number,
  partitions: number,
): Promise<MemoryResult[]> {
  const out: MemoryResult[] = [];
  for (const size of sizes) {
    const topic = `bench-memory-${Math.round(size / 1024 / 1024)}m`;
    const repo = join(ctx.work, `repo-${topic}`);
    try {
      const { records } = await loadTopic(ctx, topic, size, recordSize, partitions);
      ctx.log(`kbackup backup of ${topic} (zstd)`);
      const backup = await kbackupBackup(ctx, topic, repo, 'zstd', ctx.backupArgs);
      check(
        backup.records === records,
        `backup of ${topic} holds ${backup.records} records, expected ${records}`,
      );
      ctx.log(`  peak RSS ${mib(backup.peakRssBytes)}`);
      out.push({ topicBytes: backup.payloadBytes, records, backup });
    } finally {
      rmSync(repo, { recursive: true, force: true });
      await deleteTopic(ctx.bootstrap, topic).catch(() => undefined);
    }
  }
  return out;
}

function onlyProfile(dir: string): string {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const file = files[0];
  if (files.length !== 1 || file === undefined)
    throw new Error(`expected one .cpuprofile in ${dir}, found ${files.length}`);
  return join(dir, file);
}

/** A backup and a restore under `node --cpu-prof` (separate from the timed runs, whose speed it would skew). */
export async function runProfiles(
  ctx: BenchContext,
  spec: DatasetSpec,
  /** Where the .cpuprofile files are kept (bench/results/profiles, ignored by git). */
  keepDir: string,
): Promise<{ title: string; summary: ProfileSummary }[]> {
  const topic = `bench-profile-${spec.name}`;
  const restored = `${topic}-restored`;
  const repo = join(ctx.work, 'repo-profile');
  const dirs = {
    backup: join(keepDir, 'backup'),
    restore: join(keepDir, 'restore'),
  };
  for (const d of Object.values(dirs)) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  const profiled = (dir: string): CliContext => ({
    ...ctx,
    nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  try {
    const { records } = await loadTopic(ctx, topic, spec.size, spec.recordSize, spec.partitions);
    ctx.log('profiling kbackup backup (zstd)');
    const b = await kbackupBackup(profiled(dirs.backup), topic, repo, 'zstd', ctx.backupArgs);
    check(b.records === records, `profiled backup holds ${b.records} records, expected ${records}`);
    ctx.log('profiling kbackup restore');
    await kbackupRestore(profiled(dirs.restore), repo, b.backupId, `${topic}=${restored}`, ctx.restoreArgs);
    return [
      {
        title: `backup --codec zstd (${spec.name}, ${fmt(records)} records)`,
        summary: summarizeProfile(onlyProfile(dirs.backup)),
      },
      {
        title: `restore (${spec.name}, ${fmt(records)} records)`,
        summary: summarizeProfile(onlyProfile(dirs.restore)),
      },
    ];
  } finally {
    rmSync(repo, { recursive: true, force: true });
    for (const t of [topic, restored]) await deleteTopic(ctx.bootstrap, t).catch(() => undefined);
  }
}
