import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built CLI (`npm test` builds it first). */
export const CLI_ENTRY = resolve(import.meta.dirname, '../../dist/cli/main.js');

const LAUNCHER = resolve(import.meta.dirname, '../../bin/kbackup');

const launcherLines = new Map<string, string | undefined>();

/** The `exec node ... "$0"` line of a launcher, read once per file. */
function launcherLine(launcher: string): string | undefined {
  if (!launcherLines.has(launcher)) {
    const line = readFileSync(launcher, 'utf8')
      .split('\n')
      .find((l) => l.includes('exec node '));
    launcherLines.set(launcher, line);
  }
  return launcherLines.get(launcher);
}

/**
 * The Node flags bin/kbackup (or another build's `launcher`) starts the CLI with for these arguments: its first line, run by sh with
 * `exec node` replaced by a printer. Tests and benchmarks run `node FLAGS dist/cli/main.js ARGS`, so that
 * they exercise and measure what users run (the flags bound the young generation, which shows in speed and
 * peak memory), while they can still add flags of their own.
 */
export function launcherFlags(args: readonly string[] = [], launcher = LAUNCHER): string[] {
  const marker = 'KBACKUP-ENTRY';
  const line = launcherLine(launcher);
  if (line === undefined) throw new Error(`${launcher}: no \`exec node ... "$0"\` line`);
  const printed = execFileSync('sh', ['-c', line.replace('exec node ', "printf '%s\\n' "), marker, ...args], {
    encoding: 'utf8',
  }).split('\n');
  const end = printed.indexOf(marker);
  if (end < 0) throw new Error(`${launcher}: its launcher line did not pass "$0" on`);
  return printed.slice(0, end);
}

/**
 * What follows `node` to run the CLI as bin/kbackup does: `spawn(process.execPath, [...cliArgv(args), ...args])`.
 */
export function cliArgv(args: readonly string[]): string[] {
  return [...launcherFlags(args), CLI_ENTRY];
}

/** cliArgv for commands other than backup. */
export const CLI_ARGV: readonly string[] = cliArgv([]);

/** `kbackup restore` of `backupId` from `repo`, renaming topic `from` to `to`, plus `extra` flags. */
export function restoreArgs(
  target: { repo: string; backupId: string; bootstrap: string },
  from: string,
  to: string,
  ...extra: string[]
): string[] {
  const { repo, backupId, bootstrap } = target;
  return [
    'restore',
    '--repo',
    repo,
    '--backup',
    backupId,
    '--bootstrap',
    bootstrap,
    '--rename',
    `${from}=${to}`,
    ...extra,
  ];
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...cliArgv(args), ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 170_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the CLI with --json and parses the result document; fails loudly with stderr on a bad exit. */
export async function runCliJson<T = Record<string, unknown>>(args: string[], expectCode = 0): Promise<T> {
  const result = await runCli(['--json', ...args]);
  if (result.code !== expectCode) {
    throw new Error(
      `kbackup ${args.join(' ')} exited ${result.code} (expected ${expectCode})\nstderr:\n${result.stderr}\nstdout:\n${result.stdout}`,
    );
  }
  return JSON.parse(result.stdout) as T;
}

export function tempRepo(prefix = 'kbackup-repo-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
