import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KbackupError } from '../core/errors.js';
import { parseManifest, serializeManifest, stringifyWithBigInt } from '../core/manifest/json.js';
import type { Manifest } from '../core/manifest/schema.js';
import { writeFileAtomic, fsyncDirectory } from './atomic.js';
import { toFsError } from './fs-errors.js';
import { FileLock } from './lock.js';

export const REPO_MARKER = 'kbackup-repo.json';
export const MANIFEST_FILE = 'manifest.json';
export const PLAN_FILE = 'plan.json';

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
      throw toFsError(error, 'creating repository', root);
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

  async writePlan(id: string, plan: unknown): Promise<void> {
    await writeFileAtomic(join(this.backupDir(id), PLAN_FILE), stringifyWithBigInt(plan));
  }

  async readPlan(id: string): Promise<unknown> {
    const path = join(this.backupDir(id), PLAN_FILE);
    try {
      return JSON.parse(await readFile(path, 'utf8')) as unknown;
    } catch (error) {
      throw toFsError(error, 'reading', path);
    }
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

  async listBackups(): Promise<BackupListing[]> {
    let ids: string[];
    try {
      ids = (await readdir(join(this.root, 'backups'), { withFileTypes: true }))
        .filter((e) => e.isDirectory())
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

  async lock(name: string, command: string): Promise<FileLock> {
    await this.ensureDir(join(this.root, 'locks'));
    return FileLock.acquire(join(this.root, 'locks', `${name}.lock`), command);
  }

  restoreStatePath(restoreId: string): string {
    return join(this.root, 'restores', `${restoreId}.json`);
  }
}

/** Sortable, unique backup ids: UTC time to the second plus random hex. */
export function newBackupId(now: Date, random: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${random}`;
}
