import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs a measured child process. CPU comes from two places: the broker JVM's utime+stime in /proc/<pid>/stat
 * before and after, and this process's cutime+cstime (CPU of reaped children, which includes the child's
 * own children) before and after. /usr/bin/time, when present, cross-checks the client's CPU and peak RSS.
 */

const TIME_BIN = '/usr/bin/time';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces and parentheses). */
function statFields(pid: number | 'self'): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** utime+stime of a live process, in seconds (all threads). */
export function processCpuSeconds(pid: number): number {
  const f = statFields(pid);
  // Field 14 is utime and 15 stime; f[0] is field 3.
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/** cutime and cstime of this process: CPU of every child it has waited for, in seconds. */
function childrenCpuSeconds(): { user: number; sys: number } {
  const f = statFields('self');
  return { user: Number(f[13]) / clockTicks(), sys: Number(f[14]) / clockTicks() };
}

export interface Measured {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** CPU seconds of the measured process (and its children). */
  clientCpuS: number;
  /** The part of clientCpuS spent in the kernel (system time): socket and file I/O, page faults. */
  clientSysS: number;
  /** CPU seconds the broker JVM used meanwhile. */
  brokerCpuS: number;
  /** Peak RSS from /usr/bin/time -f %M, when available. */
  timeMaxRssBytes: number | undefined;
  /** User+system seconds from /usr/bin/time, when available (cross-check of clientCpuS). */
  timeCpuS: number | undefined;
}

export interface RunOptions {
  brokerPid: number;
  env?: NodeJS.ProcessEnv;
  /** Echo the child's stderr as it arrives (progress of long tools). */
  echoStderr?: boolean;
}

/** Runs `cmd args`, waits for it and returns its output and measurements (never throws on exit code). */
export async function runMeasured(cmd: string, args: string[], options: RunOptions): Promise<Measured> {
  const useTime = existsSync(TIME_BIN);
  const dir = mkdtempSync(join(tmpdir(), 'kbackup-bench-time-'));
  const timeFile = join(dir, 'time.txt');
  const [file, argv] = useTime ? [TIME_BIN, ['-o', timeFile, '-f', '%M %U %S', cmd, ...args]] : [cmd, args];
  const brokerBefore = processCpuSeconds(options.brokerPid);
  const childrenBefore = childrenCpuSeconds();
  const started = performance.now();
  try {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err.push(d);
      if (options.echoStderr === true) process.stderr.write(d);
    });
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        resolve(code ?? (signal === null ? 1 : 128));
      });
    });
    const wallMs = performance.now() - started;
    const brokerCpuS = processCpuSeconds(options.brokerPid) - brokerBefore;
    const childrenAfter = childrenCpuSeconds();
    const clientSysS = childrenAfter.sys - childrenBefore.sys;
    const clientCpuS = childrenAfter.user - childrenBefore.user + clientSysS;
    let timeMaxRssBytes: number | undefined;
    let timeCpuS: number | undefined;
    if (useTime && existsSync(timeFile)) {
      // The last line; a failing command makes time print "Command exited with non-zero status" first.
      const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
      const [rss, user, sys] = last.split(' ').map(Number);
      if (rss !== undefined && Number.isFinite(rss)) timeMaxRssBytes = rss * 1024;
      if (user !== undefined && sys !== undefined && Number.isFinite(user + sys)) timeCpuS = user + sys;
    }
    return {
      command: [cmd, ...args].join(' '),
      exitCode,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      wallMs,
      clientCpuS,
      clientSysS,
      brokerCpuS,
      timeMaxRssBytes,
      timeCpuS,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Throws with the command's output when it failed. */
export function assertOk(run: Measured, what: string): void {
  if (run.exitCode === 0) return;
  const tail = (s: string) => s.trim().split('\n').slice(-30).join('\n');
  throw new Error(
    `${what} failed (exit ${run.exitCode}): ${run.command}\n--- stdout ---\n${tail(run.stdout)}\n--- stderr ---\n${tail(run.stderr)}`,
  );
}

/** Bytes of every file under `dir`. */
export function directoryBytes(dir: string): number {
  const out = execFileSync('du', ['-sb', dir], { encoding: 'utf8' });
  return Number(out.split('\t')[0]);
}
