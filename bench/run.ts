/**
 * kbackup benchmark: one throwaway single-node broker, a data set loaded with Kafka's ProducerPerformance,
 * then kbackup backup / verify / restore measured against Kafka's own perf tools on the same broker.
 * Reports figures; it never fails on speed, only when a step fails. `npm run bench -- --help` for options.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import {
  defaultKafkaVersion,
  resolveKafkaLibs,
  startCluster,
  type KafkaCluster,
} from '../tests/support/kafka-harness.js';
import { PRODUCER_PROPS } from './kafka-tools.js';
import { benchArgv, parseOptions, USAGE, type BenchOptions } from './options.js';
import { textReport, writeResults, type BenchResults } from './report.js';
import { runDataset, runMemory, runProfiles, warmUp, type BenchContext } from './scenario.js';

const T0 = Date.now();
function log(message: string): void {
  console.log(`[bench +${((Date.now() - T0) / 1000).toFixed(1)}s] ${message}`);
}

/** A command's output (stdout, else stderr: `java -version` prints there); errors give their stderr. */
function quiet(cmd: string, args: string[]): string {
  try {
    const out = spawnSync(cmd, args, { encoding: 'utf8' });
    return (out.stdout.trim() || out.stderr.trim()).trim();
  } catch {
    return '';
  }
}

function machine(): Record<string, string | number> {
  const commit = quiet('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = quiet('git', ['status', '--porcelain', '--', 'src']) === '' ? '' : ' (src modified)';
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.versions.node,
    java: quiet('java', ['-version']).split('\n')[0] ?? 'unknown',
    commit: `${commit}${dirty}`,
  };
}

async function bench(options: BenchOptions): Promise<BenchResults> {
  const version = defaultKafkaVersion();
  const work = mkdtempSync(join(tmpdir(), 'kbackup-bench-'));
  let cluster: KafkaCluster | undefined;
  try {
    log(`Kafka ${version} jars`);
    const libs = await resolveKafkaLibs(version);
    log(`starting a single-node broker (heap ${options.heapMb} MiB)`);
    cluster = await startCluster({
      nodes: 1,
      name: 'bench',
      heapMb: options.heapMb,
      // Deleted topics' files go at once (default 60 s later), not in the middle of the next measurement.
      brokerConfig: { 'log.segment.delete.delay.ms': '1000' },
    });
    const broker = cluster.nodes[0];
    if (!broker) throw new Error('the harness started no node');
    const ctx: BenchContext = {
      libs,
      bootstrap: cluster.bootstrap,
      brokerPid: broker.pid,
      work,
      backupArgs: options.backupArgs,
      restoreArgs: options.restoreArgs,
      log,
    };
    const results: BenchResults = {
      date: new Date().toISOString().slice(0, 10),
      smoke: options.smoke,
      machine: machine(),
      options,
      kafkaVersion: version,
      producerProps: PRODUCER_PROPS,
      datasets: [],
      memory: [],
      profiles: [],
      totalSeconds: 0,
      loadAverage: { start: loadavg()[0] ?? 0, end: 0 },
    };
    const label = (recordSize: number) => (recordSize >= 1024 ? `${recordSize / 1024}KiB` : `${recordSize}B`);
    const main = {
      name: label(options.recordSize),
      size: options.size,
      recordSize: options.recordSize,
      partitions: options.partitions,
      codecs: options.codecs,
    };
    await warmUp(ctx, Math.min(256 * 1024 * 1024, options.size), options.recordSize, options.partitions);
    results.datasets.push(await runDataset(ctx, main));
    if (options.smallSize > 0) {
      const small = {
        name: label(options.smallRecordSize),
        size: options.smallSize,
        recordSize: options.smallRecordSize,
      };
      results.datasets.push(
        await runDataset(ctx, { ...small, partitions: options.partitions, codecs: ['zstd'] }),
      );
    }
    if (options.memory) {
      results.memory = await runMemory(ctx, options.memorySizes, options.recordSize, options.partitions);
    }
    if (options.profile) {
      results.profiles = await runProfiles(ctx, main, resolve(options.outDir, 'profiles'));
    }
    results.totalSeconds = (Date.now() - T0) / 1000;
    results.loadAverage.end = loadavg()[0] ?? 0;
    return results;
  } finally {
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(benchArgv());
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const results = await bench(options);
  console.log(`\n${textReport(results)}\n`);
  if (options.write) {
    for (const file of writeResults(results, options.outDir)) log(`wrote ${file}`);
  }
  log('done');
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
