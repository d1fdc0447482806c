import { readdirSync, readFileSync } from 'node:fs';

/**
 * Stops a process with SIGSTOP and resolves once the kernel reports every one of its threads stopped.
 * kill(2) returns before a group stop completes, so without the wait a thread already running could still
 * answer a request or write a file. Tests freeze a process this way to act at a moment of their choosing
 * (kill a broker while a CLI run is mid-way) instead of racing it.
 */
export async function stopProcess(pid: number, timeoutMs = 10_000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + timeoutMs;
  while (!allThreadsStopped(pid)) {
    if (Date.now() >= deadline) {
      throw new Error(`process ${String(pid)} did not stop within ${String(timeoutMs)} ms of SIGSTOP`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resumes a process stopped by stopProcess. */
export function continueProcess(pid: number): void {
  process.kill(pid, 'SIGCONT');
}

/** True when every task of `pid` is stopped (state T) or already exited, per /proc. */
function allThreadsStopped(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${String(pid)}/task`);
  } catch {
    return true; // The process itself has exited.
  }
  return tasks.every((tid) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${String(pid)}/task/${tid}/stat`, 'utf8');
    } catch {
      return true; // The thread exited between the listing and the read.
    }
    // The state follows the command name, which is in parentheses and may itself contain spaces.
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state === 'T' || state === 'Z' || state === 'X';
  });
}
