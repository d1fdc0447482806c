import { mkdir, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import type { z } from 'zod';
import { restoreStateSchema, type RestoreState } from '../core/restore-state.js';
import {
  planSchema,
  progressSchema,
  type BackupPlan,
  type PartitionProgress,
} from '../core/manifest/plan.js';
import { dirname, join } from 'node:path';
import { KbackupError } from '../core/errors.js';
import { parseManifest, serializeManifest, stringifyWithBigInt } from '../core/manifest/json.js';
import type { Manifest } from '../core/manifest/schema.js';
import { writeFileAtomic, fsyncDirectory } from './atomic.js';
import { toFsError } from './fs-errors.js';
import { readTextIfExists } from './read.js';
import { FileLock } from './lock.js';

export const REPO_MARKER = 'kbackup-repo.json';
export const MANIFEST_FILE = 'manifest.json';
export const PLAN_FILE = 'plan.json';
export const PROGRESS_FILE = 'progress.json';
const TRASH_PREFIX = '.trash-';

async function readValidated<T>(path: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new KbackupError('MANIFEST_INVALID', `${what} file ${path} is not valid JSON`, { cause: error });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KbackupError(
      'MANIFEST_INVALID',
      `${what} file ${path} is invalid: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`,
    );
  }
  return parsed.data;
}

export type BackupStatus = 'complete' | 'incomplete' | 'damaged';

export interface BackupListing {
  id: string;
  status: BackupStatus;
  manifest?: Manifest;
  /** Why a backup is incomplete or damaged. */
  problem?: string;
}

/**
 * A backup repository on the local filesystem. Layout (docs/FORMAT.md):
 *   kbackup-repo.json                         marker with the repository format version
 *   backups/<id>/plan.json                    the cut and options, written when the backup starts
 *   backups/<id>/data/<topic>/<p>/<offset>.kseg  segments
 *   backups/<id>/manifest.json                written last: its presence makes the backup complete
 *   restores/<restore-id>.json                restore progress and source→target offset maps
 *   locks/                                    lock files
 */
export class Repository {
  private constructor(readonly root: string) {}

  static async open(root: string, options: { create?: boolean } = {}): Promise<Repository> {
    const marker = join(root, REPO_MARKER);
    try {
      const text = await readFile(marker, 'utf8');
      const parsed = JSON.parse(text) as { format?: string; version?: number };
      if (parsed.format !== 'kbackup-repo' || parsed.version !== 1) {
        throw new KbackupError(
          'REPO_NOT_FOUND',
          `${root} is not a kbackup repository of a supported version`,
        );
      }
      return new Repository(root);
    } catch (error) {
      if (error instanceof KbackupError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw toFsError(error, 'opening repository', marker);
      if (!options.create) {
        throw new KbackupError('REPO_NOT_FOUND', `no kbackup repository at ${root}`, {
          hint: 'Check --repo; a repository is created by the first `kbackup backup` into it.',
        });
      }
    }
    try {
      await mkdir(join(root, 'backups'), { recursive: true });
      await mkdir(join(root, 'locks'), { recursive: true });
      await mkdir(join(root, 'restores'), { recursive: true });
    } catch (error) {
      throw toFsError(await realMkdirError(root, error), 'creating repository', root);
    }
    await writeFileAtomic(
      marker,
      JSON.stringify({ format: 'kbackup-repo', version: 1, createdAt: new Date().toISOString() }, null, 2) +
        '\n',
    );
    return new Repository(root);
  }

  backupDir(id: string): string {
    return join(this.root, 'backups', id);
  }

  partitionDir(id: string, topic: string, partition: number): string {
    return join(this.backupDir(id), 'data', topic, String(partition));
  }

  segmentPath(id: string, topic: string, partition: number, file: string): string {
    return join(this.partitionDir(id, topic, partition), file);
  }

  async ensureDir(path: string): Promise<void> {
    try {
      await mkdir(path, { recursive: true });
    } catch (error) {
      throw toFsError(error, 'creating directory', path);
    }
  }

  async createBackupDir(id: string): Promise<void> {
    const dir = this.backupDir(id);
    await this.ensureDir(dir);
    await fsyncDirectory(join(this.root, 'backups'));
  }

  async writePlan(plan: BackupPlan): Promise<void> {
    await writeFileAtomic(
      join(this.backupDir(plan.backupId), PLAN_FILE),
      stringifyWithBigInt(planSchema.parse(plan)),
    );
  }

  /** The plan of a backup, or undefined when it has none (never started writing). */
  async readPlan(id: string): Promise<BackupPlan | undefined> {
    return readValidated(join(this.backupDir(id), PLAN_FILE), planSchema, 'plan');
  }

  progressPath(id: string, topic: string, partition: number): string {
    return join(this.partitionDir(id, topic, partition), PROGRESS_FILE);
  }

  async writeProgress(
    id: string,
    topic: string,
    partition: number,
    progress: PartitionProgress,
  ): Promise<void> {
    await writeFileAtomic(
      this.progressPath(id, topic, partition),
      stringifyWithBigInt(progressSchema.parse(progress)),
    );
  }

  async readProgress(id: string, topic: string, partition: number): Promise<PartitionProgress | undefined> {
    return readValidated(this.progressPath(id, topic, partition), progressSchema, 'progress');
  }

  /**
   * Removes from a partition directory what a crash can leave behind and a resume must not trust: temp
   * files, and segments that finished after the last progress.json was written (they are fetched again).
   */
  async removeUntracked(
    id: string,
    topic: string,
    partition: number,
    keep: ReadonlySet<string>,
  ): Promise<string[]> {
    const dir = this.partitionDir(id, topic, partition);
    const entries = await readdir(dir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of entries) {
      if (name === PROGRESS_FILE || keep.has(name)) continue;
      await rm(join(dir, name), { force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Writes the manifest last and atomically: from this moment the backup is complete and immutable. */
  async writeManifest(manifest: Manifest): Promise<void> {
    await writeFileAtomic(
      join(this.backupDir(manifest.backupId), MANIFEST_FILE),
      serializeManifest(manifest),
    );
  }

  async readManifest(id: string): Promise<Manifest> {
    const path = join(this.backupDir(id), MANIFEST_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        const exists = await stat(this.backupDir(id)).then(
          () => true,
          () => false,
        );
        if (exists) {
          throw new KbackupError('BACKUP_INCOMPLETE', `backup ${id} is incomplete: it has no manifest`, {
            hint: 'It was interrupted. Run the same backup command again (or `kbackup backup --resume ID`).',
          });
        }
        throw new KbackupError('BACKUP_NOT_FOUND', `no backup ${id} in ${this.root}`, {
          hint: 'Run `kbackup list --repo ...` to see the backups.',
        });
      }
      throw toFsError(error, 'reading', path);
    }
    return parseManifest(text, path);
  }

  /**
   * The complete backups an incremental backup builds on, oldest first. A missing or incomplete link is
   * an error: restoring without it would silently lose the records it holds.
   */
  async readAncestors(manifest: Manifest): Promise<Manifest[]> {
    const chain: Manifest[] = [];
    const seen = new Set([manifest.backupId]);
    for (let parent = manifest.parent; parent !== null;) {
      if (seen.has(parent))
        throw new KbackupError('MANIFEST_INVALID', `backup chain of ${manifest.backupId} loops at ${parent}`);
      seen.add(parent);
      let link: Manifest;
      try {
        link = await this.readManifest(parent);
      } catch (error) {
        throw new KbackupError(
          'BACKUP_NOT_FOUND',
          `backup ${manifest.backupId} is incremental on ${parent}, which cannot be read: ${(error as Error).message}`,
          {
            cause: error,
            hint: 'The chain is broken; restore from a full backup, or from one whose chain is complete.',
          },
        );
      }
      chain.unshift(link);
      parent = link.parent;
    }
    return chain;
  }

  async freeBytes(): Promise<bigint> {
    const fs = await statfs(this.root);
    return BigInt(fs.bavail) * BigInt(fs.bsize);
  }

  async backupExists(id: string): Promise<boolean> {
    return stat(this.backupDir(id)).then(
      () => true,
      () => false,
    );
  }

  async isComplete(id: string): Promise<boolean> {
    return stat(join(this.backupDir(id), MANIFEST_FILE)).then(
      () => true,
      () => false,
    );
  }

  async listBackups(): Promise<BackupListing[]> {
    let ids: string[];
    try {
      ids = (await readdir(join(this.root, 'backups'), { withFileTypes: true }))
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    } catch (error) {
      throw toFsError(error, 'listing', join(this.root, 'backups'));
    }
    const out: BackupListing[] = [];
    for (const id of ids) {
      try {
        out.push({ id, status: 'complete', manifest: await this.readManifest(id) });
      } catch (error) {
        if (error instanceof KbackupError && error.code === 'BACKUP_INCOMPLETE') {
          out.push({ id, status: 'incomplete', problem: 'no manifest (interrupted or still running)' });
        } else if (error instanceof KbackupError && error.code === 'MANIFEST_INVALID') {
          out.push({ id, status: 'damaged', problem: error.message });
        } else {
          throw error;
        }
      }
    }
    return out;
  }

  /**
   * A lock for one backup or restore. It is refused while forget or prune holds the repository lock,
   * so that retention never removes what a run is writing or reading.
   */
  async lock(name: string, command: string): Promise<FileLock> {
    await this.ensureDir(join(this.root, 'locks'));
    const exclusive = await FileLock.liveHolder(join(this.root, 'locks', 'repository.lock'));
    if (exclusive !== undefined) {
      throw new KbackupError('LOCKED', `the repository is locked for maintenance by ${exclusive}`, {
        hint: 'Wait for forget/prune to finish, then run again.',
      });
    }
    return FileLock.acquire(join(this.root, 'locks', `${name}.lock`), command);
  }

  /** The repository lock of forget and prune: refused while any backup or restore holds a live lock. */
  async lockExclusive(command: string): Promise<FileLock> {
    await this.ensureDir(join(this.root, 'locks'));
    const lock = await FileLock.acquire(join(this.root, 'locks', 'repository.lock'), command);
    const names = (await readdir(join(this.root, 'locks'))).filter(
      (n) => n.endsWith('.lock') && n !== 'repository.lock',
    );
    for (const name of names) {
      const holder = await FileLock.liveHolder(join(this.root, 'locks', name));
      if (holder !== undefined) {
        await lock.release();
        throw new KbackupError('LOCKED', `${name.replace(/\.lock$/, '')} is running: ${holder}`, {
          hint: `${command} changes the repository; run it when no backup or restore is running.`,
        });
      }
    }
    return lock;
  }

  /** Removes a backup: renamed aside first (atomic, so it vanishes from listings at once), then deleted. */
  async removeBackup(id: string): Promise<void> {
    const trash = join(this.root, 'backups', `${TRASH_PREFIX}${id}`);
    try {
      await rename(this.backupDir(id), trash);
      await fsyncDirectory(join(this.root, 'backups'));
      await rm(trash, { recursive: true, force: true });
    } catch (error) {
      throw toFsError(error, 'removing backup', this.backupDir(id));
    }
  }

  /** Leftovers of removals a crash interrupted. */
  async trashEntries(): Promise<string[]> {
    return (await readdir(join(this.root, 'backups')))
      .filter((n) => n.startsWith(TRASH_PREFIX))
      .map((n) => join(this.root, 'backups', n));
  }

  restoreStatePath(restoreId: string): string {
    return join(this.root, 'restores', `${restoreId}.json`);
  }

  /** Every restore state file with the backup it belongs to (read without full validation). */
  async restoreStates(): Promise<{ path: string; backupId: string }[]> {
    const dir = join(this.root, 'restores');
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: { path: string; backupId: string }[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const path = join(dir, name);
      const parsed = JSON.parse(await readFile(path, 'utf8').catch(() => '{}')) as { backupId?: unknown };
      if (typeof parsed.backupId === 'string') out.push({ path, backupId: parsed.backupId });
    }
    return out;
  }

  async readRestoreState(restoreId: string): Promise<RestoreState | undefined> {
    return readValidated(this.restoreStatePath(restoreId), restoreStateSchema, 'restore state');
  }

  async writeRestoreState(state: RestoreState): Promise<void> {
    await this.ensureDir(join(this.root, 'restores'));
    await writeFileAtomic(
      this.restoreStatePath(state.restoreId),
      stringifyWithBigInt(restoreStateSchema.parse(state)),
    );
  }
}

/**
 * A recursive mkdir reports ENOENT when a parent cannot be created (read-only filesystem, no permission).
 * Creating the first missing ancestor on its own gives the real reason.
 */
async function realMkdirError(path: string, error: unknown): Promise<unknown> {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error;
  let missing = path;
  while (
    dirname(missing) !== missing &&
    !(await stat(dirname(missing)).then(
      () => true,
      () => false,
    ))
  )
    missing = dirname(missing);
  try {
    await mkdir(missing);
  } catch (real) {
    return real;
  }
  return error;
}

/** Sortable, unique backup ids: UTC time to the second plus random hex. */
export function newBackupId(now: Date, random: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${random}`;
}
