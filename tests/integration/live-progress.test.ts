import { spawn } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { CLI_ARGV, cliArgv, tempRepo } from '../support/cli.js';
import { createTopic, produceRecords, uniqueTopic, type TestRecord } from '../support/kafka-helpers.js';
import { pollUntil } from '../support/wait.js';

const bootstrap = inject('kafkaBootstrap');

interface Run {
  code: number | null;
  output: string;
}

/** Runs the CLI under a pseudo-terminal (util-linux `script`), as in an SRE's shell; stdout and stderr merge. */
function runOnTty(args: string[]): Promise<Run> {
  const command = [process.execPath, ...cliArgv(args), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, COLUMNS: '120' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, output });
    });
  });
}

const records = (partitions: number, perPartition: number, tag: string): TestRecord[] =>
  Array.from({ length: partitions * perPartition }, (_, i) => ({
    partition: i % partitions,
    key: Buffer.from(`${tag}-${i}`),
    value: Buffer.from(JSON.stringify({ i, tag, pad: 'x'.repeat(900) })),
  }));

describe('progress on a terminal', () => {
  it('draws per-partition rows and a total line with MiB/s, percent and ETA, then prints the result', async () => {
    const topic = uniqueTopic('tty-progress');
    await createTopic(bootstrap, topic, { partitions: 3 });
    await produceRecords(bootstrap, topic, records(3, 1500, 'p'));
    const repo = tempRepo();
    // Small fetches: many steps per partition, so the view is drawn while partitions are half done.
    const common = ['backup', '--bootstrap', bootstrap, '--topics', topic, '--repo', repo];
    const run = await runOnTty([...common, '--fetch-max-bytes', '65536', '--concurrency', '3']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/partition\s+records\s+bytes\s+rate\s+done\s+eta/);
    expect(run.output).toMatch(new RegExp(`${topic}-[012]\\s+[\\d,]+\\s+[\\d.]+ (KiB|MiB)\\s`));
    expect(run.output).toMatch(
      /backup: [\d,]+ records, [\d.]+ (KiB|MiB), [\d.]+ MiB\/s, \d+%, ETA (\d+m\d\ds|\d+s), \d\/3 partitions done/,
    );
    // The view is cleared (cursor back up over it, erase to the end) and the result printed in its place.
    // eslint-disable-next-line no-control-regex -- the escape sequences are what is under test
    expect(run.output).toMatch(/\x1b\[\d+A\r?\x1b\[0Jbackup \S+ complete/);
    expect(run.output).toMatch(/records\s+4,500/);

    const quiet = await runOnTty(['--quiet', ...common.slice(0, -1), tempRepo()]);
    expect(quiet.code, quiet.output).toBe(0);
    expect(quiet.output).not.toContain('partitions done');
    expect(quiet.output).not.toContain('\x1b[');
    expect(quiet.output).toMatch(/records\s+4,500/);
  });
});

describe('--metrics-port', () => {
  it('serves live run metrics during migrate --follow, and stops serving when the run ends', async () => {
    const topic = uniqueTopic('live-metrics');
    await createTopic(bootstrap, topic, { partitions: 2 });
    await produceRecords(bootstrap, topic, records(2, 50, 'a'));
    const child = spawn(
      process.execPath,
      [
        ...CLI_ARGV,
        '--json',
        '--metrics-port',
        '127.0.0.1:0',
        'migrate',
        '--source-bootstrap',
        bootstrap,
        '--target-bootstrap',
        bootstrap,
        '--topics',
        topic,
        '--rename',
        `${topic}=${topic}-copy`,
        '--state-dir',
        tempRepo('kbackup-migrate-'),
        '--follow',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = await pollUntil(() => /metrics: (http:\/\/\S+\/metrics)/.exec(stderr)?.[1], {
        timeoutMs: 30_000,
        description: 'the metrics address on stderr',
        onTimeout: () => stderr,
      });
      const scrapeUntil = (records: number): Promise<string> =>
        pollUntil(
          async () => {
            const text = await (await fetch(url)).text();
            return text.includes(`kbackup_run_records_total{command="migrate"} ${records}\n`)
              ? text
              : undefined;
          },
          {
            timeoutMs: 60_000,
            description: `${records} records in the live metrics`,
            onTimeout: () => stderr,
          },
        );
      const first = await scrapeUntil(100);
      for (const p of [0, 1]) {
        expect(first).toContain(
          `kbackup_partition_records_total{command="migrate",partition="${topic}-${p}→${topic}-copy"} 50\n`,
        );
      }
      expect(first).toMatch(/kbackup_run_payload_bytes_total\{command="migrate"\} \d{5,}\n/);
      expect(first).toMatch(/process_resident_memory_bytes \d+\n/);
      expect(first).toMatch(/kbackup_run_start_timestamp_seconds\{command="migrate"\} \d+/);

      await produceRecords(bootstrap, topic, records(2, 25, 'b'));
      await scrapeUntil(150);
      expect(child.exitCode, stderr).toBeNull();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'stopped', totals: { records: 150 } });
    const url = /metrics: (http:\/\/\S+\/metrics)/.exec(stderr)?.[1] ?? '';
    await expect(fetch(url)).rejects.toThrow();
  });

  it('refuses a malformed address as a usage error before doing anything', async () => {
    const child = spawn(
      process.execPath,
      [...CLI_ARGV, '--metrics-port', 'nine', 'list', '--repo', tempRepo()],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('--metrics-port: "nine" is not [host:]port');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
