import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { KbackupError } from '../core/errors.js';
import { toFsError } from './fs-errors.js';

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  acquiredAt: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A process killed with SIGKILL stays a zombie until its parent reaps it: it holds nothing any more.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * An exclusive lock file created with O_EXCL. A lock whose owner process is gone (same host, pid not alive)
 * is stale and is taken over; a lock held by a live process, or by another host, is refused with LOCKED.
 */
export class FileLock {
  private constructor(readonly path: string) {}

  static async acquire(path: string, command: string): Promise<FileLock> {
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      command,
      acquiredAt: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx', 0o644);
        try {
          await handle.writeFile(JSON.stringify(owner) + '\n');
          await handle.sync();
        } finally {
          await handle.close();
        }
        return new FileLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw toFsError(error, 'creating lock', path);
        const holder = await readOwner(path);
        if (holder && holder.host === hostname() && !processAlive(holder.pid)) {
          await rm(path, { force: true });
          continue;
        }
        const who = holder
          ? `pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.acquiredAt})`
          : 'an unknown process';
        throw new KbackupError('LOCKED', `${path} is locked by ${who}`, {
          hint: 'Wait for that run to finish. If it is gone on another host, remove the lock file by hand.',
        });
      }
    }
    throw new KbackupError('LOCKED', `could not acquire ${path}`);
  }

  /** Who holds the lock at `path`, if it is held (a stale lock of a dead local process is not). */
  static async liveHolder(path: string): Promise<string | undefined> {
    const holder = await readOwner(path);
    if (!holder) return undefined;
    if (holder.host === hostname() && !processAlive(holder.pid)) return undefined;
    return `pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.acquiredAt})`;
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}
