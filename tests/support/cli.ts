import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built CLI, run exactly as a user would (`npm test` builds it first). */
export const CLI_ENTRY = resolve(import.meta.dirname, '../../dist/cli/main.js');

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
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
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
