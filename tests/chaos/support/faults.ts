import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cliArgv, type CliResult } from '../../support/cli.js';
import { continueProcess, stopProcess } from '../../support/process-control.js';
import { seededRandom, randomBytesSeeded } from '../../support/data.js';
import { withProducer, type TestRecord } from '../../support/kafka-helpers.js';

/** A CLI run in the background: the test injects a fault while it runs, then awaits its result. */
export interface RunningCli {
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** Resolves when the process has exited and its output is complete. */
  readonly result: Promise<CliResult & { elapsedMs: number }>;
  running(): boolean;
  /** Stops the process (SIGSTOP) and resolves once all its threads are stopped: act on a frozen run. */
  freeze(): Promise<void>;
  /** Lets a frozen run continue. */
  thaw(): void;
}

export function spawnCli(args: string[]): RunningCli {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [...cliArgv(args), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult & { elapsedMs: number }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - startedAt });
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the CLI did not start');
  return {
    child,
    startedAt,
    result,
    running: () => child.exitCode === null && child.signalCode === null,
    freeze: () => stopProcess(pid),
    thaw: () => {
      continueProcess(pid);
    },
  };
}

/**
 * Freezes `run`, lets `act` inject a fault (kill a broker, ...) while the run cannot move, then lets it
 * continue, also when `act` fails: the fault lands at the point the test chose, however fast the machine.
 */
export async function whileFrozen<T>(run: RunningCli, what: string, act: () => Promise<T>): Promise<T> {
  await run.freeze();
  try {
    expect(run.running(), `the ${what} finished before the fault could be injected`).toBe(true);
    return await act();
  } finally {
    run.thaw();
  }
}

/** Seeded records spread round-robin over `partitions`, timestamps relative to now (retention). */
export function makeRecords(
  count: number,
  partitions: number,
  options: { seed?: number; valueBytes?: number; incompressible?: boolean } = {},
): TestRecord[] {
  const random = seededRandom(options.seed ?? 1);
  const base = BigInt(Date.now()) - 600_000n;
  const size = options.valueBytes ?? 120;
  return Array.from({ length: count }, (_, i) => ({
    partition: i % partitions,
    key: i % 9 === 0 ? null : Buffer.from(`key-${i}`),
    value:
      i % 13 === 0
        ? null
        : options.incompressible === true
          ? randomBytesSeeded(random, size)
          : Buffer.from(`value-${i}-${'x'.repeat(Math.floor(random() * size))}`),
    headers: i % 5 === 0 ? [[Buffer.from('h'), i % 10 === 0 ? null : Buffer.from(String(i))]] : [],
    timestamp: base + BigInt(i),
  }));
}

/**
 * Produces with one idempotent acks=all producer in requests of `perRequest` records, so that the log holds
 * many small batches: a fetch returns at least one whole batch, so small batches are what make a backup
 * with a small --fetch-max-bytes take many requests (time to inject a fault while it runs).
 */
export async function produceSmallBatches(
  bootstrap: string,
  topic: string,
  records: TestRecord[],
  perRequest = 12,
): Promise<void> {
  await withProducer(bootstrap, async (producer) => {
    for (let i = 0; i < records.length; i += perRequest) {
      await producer.send({
        messages: records.slice(i, i + perRequest).map((r) => {
          const headers = new Map<Buffer, Buffer | null>();
          for (const [k, v] of r.headers ?? []) headers.set(Buffer.from(k), v);
          return {
            topic,
            partition: r.partition,
            key: r.key,
            value: r.value,
            headers,
            timestamp: r.timestamp,
          };
        }),
      });
    }
  });
}

/** The only backup id in a repository (throws unless there is exactly one). */
export async function onlyBackupId(repo: string): Promise<string> {
  const ids = await readdir(join(repo, 'backups')).catch(() => [] as string[]);
  if (ids.length !== 1) throw new Error(`expected one backup in ${repo}, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}

export function partitionDir(repo: string, backupId: string, topic: string, partition: number): string {
  return join(repo, 'backups', backupId, 'data', topic, String(partition));
}

/** Final-named segment files of a partition (temp files start with a dot and are not counted). */
export async function segmentFiles(
  repo: string,
  backupId: string,
  topic: string,
  partition: number,
): Promise<string[]> {
  const files = await readdir(partitionDir(repo, backupId, topic, partition)).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.kseg') && !f.startsWith('.')).sort();
}

/** Durable segments of every backup in the repository for these partitions. */
export async function durableSegmentCount(repo: string, topic: string, partitions: number): Promise<number> {
  const ids = await readdir(join(repo, 'backups')).catch(() => [] as string[]);
  let count = 0;
  for (const id of ids) {
    for (let p = 0; p < partitions; p++) count += (await segmentFiles(repo, id, topic, p)).length;
  }
  return count;
}

export interface ProgressFile {
  nextOffset: string;
  done: boolean;
  recordCount: number;
  segments: {
    file: string;
    firstOffset: string;
    lastOffset: string;
    recordCount: number;
    fileBytes: number;
  }[];
}

export async function readProgress(
  repo: string,
  backupId: string,
  topic: string,
  partition: number,
): Promise<ProgressFile | undefined> {
  try {
    return JSON.parse(
      await readFile(join(partitionDir(repo, backupId, topic, partition), 'progress.json'), 'utf8'),
    ) as ProgressFile;
  } catch {
    return undefined;
  }
}

/** A user-facing failure: the documented one-line message, and no stack trace (only bugs print one). */
export function expectCleanError(stderr: string): void {
  expect(stderr).toMatch(/^kbackup: error: /m);
  expect(stderr, 'a user error must not print a stack trace').not.toMatch(/^\s+at .+\(.*:\d+:\d+\)$/m);
  expect(stderr).not.toMatch(/internal error/i);
}

/** The `--json` error document a failed command prints on stdout. */
export interface ErrorDocument {
  status: 'error';
  exitCode: number;
  error: {
    code: string;
    message: string;
    hint: string | null;
    canRetry: boolean;
    details: Record<string, unknown> | null;
  };
}

export function parseErrorDocument(stdout: string): ErrorDocument {
  return JSON.parse(stdout) as ErrorDocument;
}

/**
 * Inodes of the TCP/unix sockets a process holds open (Linux /proc). A socket that disappears while the
 * network is stalled is one the client gave up on (request timeout): proof that it noticed the stall.
 */
export function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:')) out.add(target);
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// tmpfs mounts for disk faults (root only; CI runs as root).

function sh(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why mounting a tmpfs is impossible here, or undefined when it works (probed once, synchronously). */
export const mountUnavailable: string | undefined = (() => {
  if (process.platform !== 'linux') return `tmpfs mounts need Linux (platform is ${process.platform})`;
  const dir = mkdtempSync(join(tmpdir(), 'kbackup-mount-probe-'));
  try {
    sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    sh('umount', [dir]);
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `cannot mount a tmpfs (${stderr || (error as Error).message}); needs root or CAP_SYS_ADMIN`;
  } finally {
    rmdirSync(dir);
  }
})();

/** A tmpfs of `size` (e.g. '2m') mounted on a fresh directory; unmounted by `unmount()`. */
export class Tmpfs {
  #mounted = true;

  private constructor(readonly dir: string) {}

  static mount(size: string, prefix = 'kbackup-tmpfs-'): Tmpfs {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    sh('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
    return new Tmpfs(dir);
  }

  remount(options: string): void {
    sh('mount', ['-o', `remount,${options}`, this.dir]);
  }

  unmount(): void {
    if (!this.#mounted) return;
    this.#mounted = false;
    // Lazy: a kbackup process killed by a test timeout may still hold a file open.
    sh('umount', ['-l', this.dir]);
    rmdirSync(this.dir);
  }
}
