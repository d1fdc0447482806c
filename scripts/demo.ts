/**
 * `npm run demo`: the main job end to end on a throwaway local broker. Starts a real Kafka (the test
 * harness: KBACKUP_TEST_BOOTSTRAP, else a JVM KRaft broker from Maven Central jars), seeds a topic, backs
 * it up, verifies the backup, restores it into a new topic, compares source and restore record by record,
 * prints a summary and stops the broker.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCluster, type KafkaCluster } from '../tests/support/kafka-harness.js';
import { createTopic, produceRecords, readAllRecords } from '../tests/support/kafka-helpers.js';
import { edgeCaseRecords } from '../tests/support/data.js';

const cli = resolve(import.meta.dirname, '../dist/cli/main.js');
const topic = 'demo-orders';
const restored = 'demo-orders-restored';

function kbackup(args: string[]): string {
  process.stdout.write(`\n$ kbackup ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(result.stdout);
  if (result.status !== 0) throw new Error(`kbackup ${args[0] ?? ''} exited with ${result.status}`);
  return result.stdout;
}

async function main(): Promise<void> {
  let cluster: KafkaCluster | undefined;
  const repo = mkdtempSync(join(tmpdir(), 'kbackup-demo-'));
  const started = Date.now();
  try {
    let bootstrap = process.env.KBACKUP_TEST_BOOTSTRAP;
    if (!bootstrap) {
      process.stdout.write(
        'starting a throwaway Kafka broker (first run downloads the jars from Maven Central)...\n',
      );
      cluster = await startCluster({ nodes: 1, name: 'demo' });
      bootstrap = cluster.bootstrap;
    }
    process.stdout.write(
      `broker at ${bootstrap}; seeding ${topic} (3 partitions, 30,000 records with keys, headers, tombstones)\n`,
    );
    await createTopic(bootstrap, topic, {
      partitions: 3,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': '86400000' },
    });
    await produceRecords(bootstrap, topic, edgeCaseRecords(3, 10_000));

    kbackup([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
      '--backup-id',
      'demo-backup',
    ]);
    kbackup(['verify', '--repo', repo, '--backup', 'demo-backup']);
    kbackup(['list', '--repo', repo]);
    kbackup([
      'restore',
      '--repo',
      repo,
      '--backup',
      'demo-backup',
      '--bootstrap',
      bootstrap,
      '--rename',
      `${topic}=${restored}`,
    ]);

    const [source, target] = await Promise.all([
      readAllRecords(bootstrap, topic),
      readAllRecords(bootstrap, restored),
    ]);
    let compared = 0;
    for (let p = 0; p < source.length; p++) {
      const a = source[p] ?? [];
      const b = target[p] ?? [];
      if (a.length !== b.length)
        throw new Error(`partition ${p}: ${a.length} source records, ${b.length} restored`);
      a.forEach((r, i) => {
        const s = b[i];
        const same =
          s !== undefined &&
          s.timestamp === r.timestamp &&
          (r.key === null ? s.key === null : s.key !== null && r.key.equals(s.key)) &&
          (r.value === null ? s.value === null : s.value !== null && r.value.equals(s.value)) &&
          s.headers.length === r.headers.length &&
          r.headers.every(([k, v], h) => {
            const [sk, sv] = s.headers[h] ?? [];
            return sk?.equals(k) === true && (v === null ? sv === null : sv?.equals(v) === true);
          });
        if (!same) throw new Error(`partition ${p} record ${i} differs after restore`);
        compared++;
      });
    }
    process.stdout.write(
      `\ndemo OK: ${compared.toLocaleString()} records compared field by field (key, value, headers, timestamp, partition, order) between ${topic} and ${restored} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await cluster?.stop();
    rmSync(repo, { recursive: true, force: true });
  }
}

/** The message of an error and of everything inside it, so that a failure explains itself. */
function explain(error: unknown): string {
  const parts: string[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (depth > 5 || !(e instanceof Error)) return;
    parts.push(e.message);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1);
    visit(e.cause, depth + 1);
  };
  visit(error, 0);
  return parts.length > 0 ? [...new Set(parts)].join(' <- ') : String(error);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${explain(error)}\n`);
  process.exitCode = 1;
});
