import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopProcess } from './process-control.js';

const execFileAsync = promisify(execFile);

export type StopSignal = 'SIGKILL' | 'SIGTERM';

/** Every JVM this process started and still believes alive, killed synchronously when the process exits. */
const livePids = new Set<number>();
/** Temporary cluster roots; `keep` ones survive exit so their logs can be read. */
const tempRoots = new Map<string, { keep: boolean }>();
let handlersInstalled = false;

function cleanupSync(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  livePids.clear();
  for (const [root, { keep }] of tempRoots) {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
  tempRoots.clear();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const handler = (): void => {
      cleanupSync();
      process.removeListener(signal, handler);
      // Re-raise so the default action (or the test runner's own handler) still happens.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/**
 * Starts a detached watchdog that outlives a SIGKILLed test process: when our pid disappears it SIGKILLs
 * every JVM whose pid file is under `root` and deletes `root` (unless `root/.keep` exists). It exits on its
 * own once `root` is gone or `root/.stopped` exists, i.e. after a normal stop().
 */
function startWatchdog(root: string): void {
  const script = `
const fs = require('fs'), path = require('path');
const [parent, root] = process.argv.slice(1);
const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const timer = setInterval(() => {
  if (!fs.existsSync(root) || fs.existsSync(path.join(root, '.stopped'))) process.exit(0);
  if (alive(parent)) return;
  clearInterval(timer);
  for (const d of fs.readdirSync(root)) {
    try { const pid = Number(fs.readFileSync(path.join(root, d, 'pid'), 'utf8')); if (pid > 0) process.kill(pid, 'SIGKILL'); } catch {}
  }
  if (fs.existsSync(path.join(root, '.keep'))) process.exit(0);
  setTimeout(() => { fs.rmSync(root, { recursive: true, force: true }); process.exit(0); }, 1000);
}, 1000);`;
  const child = spawn(process.execPath, ['-e', script, String(process.pid), root], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
}

/** Registers a temporary directory for deletion at exit and guards it with a watchdog. */
export function registerTempRoot(root: string): void {
  installExitHandlers();
  tempRoots.set(root, { keep: false });
  startWatchdog(root);
}

/** Keeps `root` on disk after exit (and after a watchdog cleanup). */
export function keepTempRoot(root: string): void {
  tempRoots.set(root, { keep: true });
  writeFileSync(join(root, '.keep'), '');
}

/** Deletes `root` now unless it was marked kept; tells its watchdog to exit. */
export function releaseTempRoot(root: string): void {
  const keep = tempRoots.get(root)?.keep ?? existsSync(join(root, '.keep'));
  tempRoots.delete(root);
  if (keep) writeFileSync(join(root, '.stopped'), '');
  else rmSync(root, { recursive: true, force: true });
}

export function javaMissingHint(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
    ? 'java was not found on PATH: Kafka brokers need Java 17+ (apt-get install openjdk-17-jre-headless)'
    : undefined;
}

/** Runs a short-lived Java tool (StorageTool) and returns its output; errors carry stdout and stderr. */
export async function runJavaTool(
  classPath: string,
  args: string[],
  jvmFlags: string[] = [],
): Promise<string> {
  // C1 only and serial GC: the tool runs for about a second, so JIT and GC threads would only cost CPU.
  const jvm = ['-Xmx128m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', ...jvmFlags, '-cp', classPath];
  try {
    const { stdout } = await execFileAsync('java', [...jvm, ...args], { maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    const detail = javaMissingHint(error) ?? `${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`;
    throw new Error(`java ${args.join(' ')} failed: ${detail}`);
  }
}

/** A long-running JVM whose stdout/stderr go to a file (a pipe could fill up and block the broker). */
export class JavaProcess {
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #child: ChildProcess;
  #running = true;
  #pidFile: string;

  private constructor(child: ChildProcess, pidFile: string) {
    if (child.pid === undefined) throw new Error('java did not start');
    this.#child = child;
    this.pid = child.pid;
    this.#pidFile = pidFile;
    livePids.add(this.pid);
    writeFileSync(pidFile, String(this.pid));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#running = false;
        livePids.delete(this.pid);
        try {
          unlinkSync(this.#pidFile);
        } catch {
          // The directory may already be gone.
        }
        resolve({ code, signal });
      });
    });
  }

  /** Spawns java and resolves once the process exists (rejects with a hint if java is missing). */
  static async start(args: string[], outputFile: string, pidFile: string): Promise<JavaProcess> {
    const fd = openSync(outputFile, 'a');
    try {
      const child = spawn('java', args, { stdio: ['ignore', fd, fd] });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (error) => {
          reject(new Error(javaMissingHint(error) ?? `cannot start java: ${error.message}`));
        });
      });
      // Later errors (a failed kill of an exited process) must not crash the test process.
      child.on('error', (error) => {
        console.warn(`java ${child.pid ?? '?'}: ${error.message}`);
      });
      return new JavaProcess(child, pidFile);
    } finally {
      closeSync(fd);
    }
  }

  get running(): boolean {
    return this.#running;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#running) this.#child.kill(signal);
  }

  /** SIGSTOP, resolved once every thread of the JVM is stopped (see stopProcess). */
  async pause(): Promise<void> {
    if (this.#running) await stopProcess(this.pid);
  }

  /** Sends `signal` and waits for exit; a SIGTERM that has not worked within `graceMs` becomes SIGKILL. */
  async stop(signal: StopSignal = 'SIGKILL', graceMs = 30_000): Promise<void> {
    if (!this.#running) return;
    this.#child.kill('SIGCONT'); // A paused JVM cannot act on SIGTERM.
    this.#child.kill(signal);
    if (signal === 'SIGKILL') {
      await this.exited;
      return;
    }
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Returns the text appended to `file` after byte `from` (the file may not exist yet). */
export function readFrom(file: string, from: number): string {
  try {
    const size = statSync(file).size;
    if (size <= from) return '';
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(size - from);
      const read = readSync(fd, buffer, 0, buffer.length, from);
      return buffer.subarray(0, read).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The last `lines` lines of a log, for error messages. */
export function tail(file: string, lines = 40): string {
  // The last 64 KiB hold far more than `lines` lines of a broker log.
  const text = readFrom(file, Math.max(0, fileSize(file) - 65_536));
  if (text === '') return `(${file} is empty or missing)`;
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
